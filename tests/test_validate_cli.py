"""`campaigner validate` through the real app: one located line per problem, exit codes, --strict."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from campaigner.cli import app

from tests.childenv import child_env

NOW = "2026-07-01T00:00"


def run(*args: str):
    result = CliRunner().invoke(app, list(args))
    assert "Traceback" not in result.stdout + result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_good_calendar_is_ok(fixture_calendar):
    cal = fixture_calendar("good")
    result = run("validate", "--calendar", str(cal), "--now", NOW)
    assert result.exit_code == 0
    assert result.stdout == f"{cal}: OK (4 events, 2 accounts, 12 posts rendered)\n"
    assert result.stderr == ""


def test_calendar_errors_one_line_each_on_stderr(fixture_calendar):
    cal = fixture_calendar("broken-three")
    result = run("validate", "--calendar", str(cal), "--now", NOW)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "broken-three/calendar.yaml:12:11: event 'ccm-entry-into-force'.time: write the time in quotes, e.g. \"08:00\"",
        "broken-three/calendar.yaml:17:5: events[1]: unknown key 'acounts' (did you mean 'accounts'?)",
        "broken-three/calendar.yaml:21:16: event 'tip'.accounts: unknown account 'ccbl-x' (did you mean 'ccbl_x'?); "
        "the calendar defines ccbl_x under accounts:",
        f"{cal}: 3 error(s), 0 warning(s); the templates were checked for syntax only: fix the calendar and validate again to render every post and check that it fits",
    ]


def test_template_problems_are_located_in_the_templates(fixture_calendar):
    cal = fixture_calendar("broken-templates")
    result = run("validate", "--calendar", str(cal), "--now", NOW)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "broken-templates/calendar.yaml:14:1: event 'too-long': the km post for ccbl_x (templates/long/km.j2) is "
        "300/280 characters on x: shorten the template or its vars, or set thread: true",
        "broken-templates/calendar.yaml:17:1: event 'no-template': no template for kind 'missing' on x in en: "
        "create templates/missing/x.en.j2 or templates/missing/en.j2",
        "broken-templates/calendar.yaml:17:1: event 'no-template': no template for kind 'missing' on x in km: "
        "create templates/missing/x.km.j2 or templates/missing/km.j2",
        "broken-templates/templates/anniversary/en.j2:2: undefined variable for event 'undefined-var': 'treaty' is not set "
        "(vars.treaty is missing); define it in the event's vars or guard it with {% if ... is defined %}",
        "broken-templates/templates/orphan/en.j2:2: template syntax: unexpected '}'",
        f"{cal}: 5 error(s), 0 warning(s); 3 events, 2 accounts, 6 posts rendered",
    ]


def test_the_same_khmer_text_fits_facebook_but_not_x(fixture_calendar):
    # long/km.j2 is 150 Khmer code points: 150 on Facebook, 300 weighted on X.
    cal = fixture_calendar("broken-templates")
    result = run("validate", "--calendar", str(cal), "--now", NOW)
    assert "for ccbl_x (templates/long/km.j2) is 300/280" in result.stderr
    assert "ccbl_facebook (templates/long/km.j2)" not in result.stderr


def test_image_without_alt_warns_but_passes_unless_strict(fixture_calendar):
    cal = fixture_calendar("good")
    edit(cal, '{path: media/pixel.png, alt: "A deminer kneels in a marked lane"}', "{path: media/pixel.png}")
    warning = ("good/calendar.yaml:33:13: warning: event 'monthly-story'.media[0]: image 'media/pixel.png' has no alt text: "
               'add alt: "what the picture shows" so screen-reader users can follow')
    summary = f"{cal}: 0 error(s), 1 warning(s); 4 events, 2 accounts, 12 posts rendered"

    lenient = run("validate", "--calendar", str(cal), "--now", NOW)
    assert lenient.exit_code == 0
    assert lenient.stderr.splitlines() == [warning]  # printed once, not by both load and validate
    assert lenient.stdout.splitlines() == [summary]

    strict = run("validate", "--calendar", str(cal), "--now", NOW, "--strict")
    assert strict.exit_code == 2
    assert strict.stderr.splitlines() == [warning, summary]
    assert strict.stdout == ""


def test_impossible_date_exits_2_with_a_located_line(fixture_calendar):
    cal = fixture_calendar("good")
    edit(cal, "date: 2026-11-02", "date: 2026-11-31")
    result = run("validate", "--calendar", str(cal), "--now", NOW)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "good/calendar.yaml:36:11: event 'weekly-tip'.date: expected a date as YYYY-MM-DD, got '2026-11-31' "
        "(day is out of range for month)",
        f"{cal}: 1 error(s), 0 warning(s); the templates were checked for syntax only: fix the calendar and validate again to render every post and check that it fits",
    ]


def test_yaml_syntax_error_exits_2_without_traceback():
    Path("calendar.yaml").write_text("campaign:\n  name: [unclosed\n", encoding="utf-8")
    result = run("validate", "--now", NOW)  # default --calendar ./calendar.yaml
    assert result.exit_code == 2
    line, note = result.stderr.splitlines()
    assert line.startswith("calendar.yaml:3:1: YAML syntax: ") and note.endswith("syntax only: fix the calendar and validate again to render every post and check that it fits")


def test_missing_calendar_is_exit_2():
    missing = run("validate")
    assert missing.exit_code == 2
    assert missing.stderr == "calendar.yaml: file not found (pass --calendar PATH or set CAMPAIGNER_CALENDAR)\n"


def test_bad_now_is_exit_2(fixture_calendar):
    cal = fixture_calendar("good")
    result = run("validate", "--calendar", str(cal), "--now", "next tuesday")
    assert result.exit_code == 2
    assert result.stderr == "--now: 'next tuesday' is not an ISO date-time; write e.g. 2026-12-03T09:00 or 2026-12-03T09:00:00+07:00\n"


def test_calendar_from_the_environment(fixture_calendar, monkeypatch):
    cal = fixture_calendar("good")
    monkeypatch.setenv("CAMPAIGNER_CALENDAR", str(cal))
    result = run("validate", "--now", NOW)
    assert result.exit_code == 0 and ": OK (4 events" in result.stdout


# ---------------------------------------------------------------- the installed program


def console_script() -> list[str]:
    found = shutil.which("campaigner") or shutil.which("campaigner", path=str(Path(sys.executable).parent))
    if not found:
        pytest.skip("the campaigner console script is not installed")
    return [found]


def test_installed_console_script_validates(fixture_calendar, tmp_path):
    good = fixture_calendar("good")
    ok = subprocess.run([*console_script(), "validate", "--calendar", str(good), "--now", NOW],
                        capture_output=True, text=True, cwd=tmp_path, env=child_env(), timeout=60)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout == f"{good}: OK (4 events, 2 accounts, 12 posts rendered)\n"
    broken = fixture_calendar("broken-three")
    bad = subprocess.run([*console_script(), "validate", "--calendar", str(broken), "--now", NOW],
                         capture_output=True, text=True, cwd=tmp_path, env=child_env(), timeout=60)
    assert bad.returncode == 2
    assert len(bad.stderr.splitlines()) == 4 and "Traceback" not in bad.stderr  # three problems and what was not checked


def test_python_dash_m_runs_the_same_app(fixture_calendar, tmp_path):
    good = fixture_calendar("good")
    proc = subprocess.run([sys.executable, "-m", "campaigner", "validate", "--calendar", str(good), "--now", NOW],
                          capture_output=True, text=True, cwd=tmp_path, env=child_env(), timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.endswith(": OK (4 events, 2 accounts, 12 posts rendered)\n")


def test_template_syntax_errors_are_reported_even_when_the_calendar_is_broken(fixture_calendar):
    cal = fixture_calendar("broken-templates")
    text = cal.read_text().replace("campaign:", "campaign:\n  tiemzone: UTC", 1)
    cal.write_text(text)
    result = run("validate", "--calendar", str(cal), "--now", NOW)
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert any("unknown key 'tiemzone'" in line for line in lines)
    assert "broken-templates/templates/orphan/en.j2:2: template syntax: unexpected '}'" in lines
    assert lines[-1] == (f"{cal}: 2 error(s), 0 warning(s); the templates were checked for syntax only: "
                         "fix the calendar and validate again to render every post and check that it fits")


def test_a_problem_without_a_file_is_said_by_campaigner_not_by_a_blank():
    from campaigner.errors import ConfigError

    assert str(ConfigError("resolve: give exactly one of --published URL, --not-published or --skip")).startswith("campaigner: resolve: ")
    result = CliRunner().invoke(app, ["resolve", "x/2026-12-03/a/en", "--calendar", "nowhere.yaml"])
    assert result.exit_code == 2 and not result.stderr.startswith(": ")
