"""`campaigner plan` through the real app: JSON shape and order, windows, filters, totals, Khmer output, imports."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import regex
from typer.testing import CliRunner

from campaigner.cli import app
from tests.probe import imported_modules
from tests.childenv import child_env

NOW = "2026-07-25T00:00"  # local Phnom Penh time: the window runs to 2026-08-24
KM_CCM = "ថ្ងៃនេះជាខួបលើកទី១៦ នៃអនុសញ្ញាហាមឃាត់គ្រាប់បែកចង្កោម (ថ្ងៃទី១ ខែសីហា ឆ្នាំ២០១០)។\n#MinefreeCambodia"
EN_CCM = "Today marks the 16th anniversary of the Convention on Cluster Munitions (1 August 2010).\n#MinefreeCambodia"


def run(*args: str):
    result = CliRunner().invoke(app, list(args))
    assert "Traceback" not in result.stdout + result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def plan_json(cal: Path, *args: str) -> list[dict]:
    result = run("plan", "--calendar", str(cal), "--json", *args)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.fixture
def good(fixture_calendar) -> Path:
    return fixture_calendar("good")


# ---------------------------------------------------------------- --json


def test_json_lists_posts_in_due_order_with_every_field(good):
    posts = plan_json(good, "--now", NOW)
    assert [p["id"] for p in posts] == [
        "monthly-story/2026-07-31/ccbl_facebook/en",
        "monthly-story/2026-07-31/ccbl_facebook/km",
        "ccm-entry-into-force/2026-08-01/ccbl_facebook/en",
        "ccm-entry-into-force/2026-08-01/ccbl_facebook/km",
        "ccm-entry-into-force/2026-08-01/ccbl_x/en",
        "ccm-entry-into-force/2026-08-01/ccbl_x/km",
    ]
    x_km = posts[-1]
    assert {k: x_km[k] for k in ("id", "event", "kind", "account", "platform", "language", "due", "text",
                                 "length", "limit", "status", "draft")} == {
        "id": "ccm-entry-into-force/2026-08-01/ccbl_x/km", "event": "ccm-entry-into-force", "kind": "anniversary",
        "account": "ccbl_x", "platform": "x", "language": "km", "due": "2026-08-01T08:00:00+07:00", "text": KM_CCM,
        "length": 172, "limit": 280, "status": "pending", "draft": False,
    }
    assert posts[2]["text"] == EN_CCM and (posts[2]["length"], posts[2]["limit"]) == (106, 63206)
    assert posts[0]["due"] == "2026-07-31T09:00:00+07:00"
    assert posts[0]["media"] == [{"path": "media/pixel.png", "alt": "A deminer kneels in a marked lane"}]
    assert all(p["status"] == "pending" and p["draft"] is False for p in posts)


def test_from_and_to_are_inclusive_local_dates(good):
    one_day = plan_json(good, "--now", NOW, "--from", "2026-08-01", "--to", "2026-08-01")
    assert {p["event"] for p in one_day} == {"ccm-entry-into-force"} and len(one_day) == 4
    two_days = plan_json(good, "--now", NOW, "--from", "2026-07-31", "--to", "2026-08-01")
    assert len(two_days) == 6
    # A window wholly in the past is allowed: plan shows what was (or would have been) posted.
    past = plan_json(good, "--now", NOW, "--from", "2025-08-01", "--to", "2025-08-01")
    assert [p["id"] for p in past][-1] == "ccm-entry-into-force/2025-08-01/ccbl_x/km"


def test_account_and_kind_filters(good):
    x_only = plan_json(good, "--now", NOW, "--account", "ccbl_x")
    assert [p["id"] for p in x_only] == ["ccm-entry-into-force/2026-08-01/ccbl_x/en", "ccm-entry-into-force/2026-08-01/ccbl_x/km"]
    stories = plan_json(good, "--now", NOW, "--kind", "story")
    assert [p["event"] for p in stories] == ["monthly-story", "monthly-story"]
    both = plan_json(good, "--now", NOW, "--kind", "story", "--kind", "anniversary", "--account", "ccbl_facebook")
    assert len(both) == 4 and {p["account"] for p in both} == {"ccbl_facebook"}


def test_default_window_is_thirty_days_from_now(good):
    # From 2 July the 30th day is 1 August: the anniversary is in; from 1 July it is not.
    in_window = plan_json(good, "--now", "2026-07-02T09:00")
    assert "ccm-entry-into-force/2026-08-01/ccbl_x/en" in [p["id"] for p in in_window]
    out_of_window = plan_json(good, "--now", "2026-07-01T09:00")
    assert [p["id"] for p in out_of_window] == [
        "monthly-story/2026-07-31/ccbl_facebook/en", "monthly-story/2026-07-31/ccbl_facebook/km"]
    # --now with an offset is the same instant as the local time without one.
    assert plan_json(good, "--now", "2026-07-01T02:00:00+00:00") == out_of_window
    short = plan_json(good, "--now", "2026-07-30T09:00", "--days", "1")
    assert [p["id"] for p in short] == [
        "monthly-story/2026-07-31/ccbl_facebook/en", "monthly-story/2026-07-31/ccbl_facebook/km"]


def test_posts_already_due_before_now_on_earlier_days_are_not_shown(good):
    posts = plan_json(good, "--now", "2026-08-02T00:00")
    assert not [p for p in posts if p["event"] == "ccm-entry-into-force"]


def test_draft_events_are_planned_and_marked(good):
    edit(good, "    goal: survivors\n", "    goal: survivors\n    draft: true\n")
    posts = plan_json(good, "--now", "2026-11-01T00:00", "--kind", "story", "--account", "ccbl_x")
    assert [(p["id"], p["draft"], p["status"]) for p in posts][:2] == [
        ("weekly-tip/2026-11-02/ccbl_x/en", True, "skipped"), ("weekly-tip/2026-11-02/ccbl_x/km", True, "skipped")]
    human = run("plan", "--calendar", str(good), "--now", "2026-11-01T00:00", "--account", "ccbl_x")
    assert "│ draft " in human.stdout and "pending" not in human.stdout
    assert "10 draft post(s) are shown but will not be published until approved." in human.stdout


def test_a_post_over_the_limit_is_reported(fixture_calendar):
    cal = fixture_calendar("broken-templates")
    posts = plan_json(cal, "--now", NOW, "--kind", "long", "--account", "ccbl_x", "--from", "2026-09-14", "--to", "2026-09-14")
    km = [p for p in posts if p["language"] == "km"]
    assert [(p["id"], p["length"], p["limit"], p["fits"]) for p in km] == [("too-long/2026-09-14/ccbl_x/km", 300, 280, False)]
    human = run("plan", "--calendar", str(cal), "--now", "2026-09-01T00:00", "--kind", "long")
    assert "warning: too-long/2026-09-14/ccbl_x/km is 300/280 characters: it will not be sent until shortened" in human.stdout


def test_template_errors_stop_plan_with_located_lines(fixture_calendar):
    cal = fixture_calendar("broken-templates")
    result = run("plan", "--calendar", str(cal), "--now", NOW, "--kind", "anniversary")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "broken-templates/templates/anniversary/en.j2:2: undefined variable for event 'undefined-var': 'treaty' is not set "
        "(vars.treaty is missing); define it in the event's vars or guard it with {% if ... is defined %}",
    ]


# ---------------------------------------------------------------- human output


def test_table_shows_when_where_length_and_totals(good):
    result = run("plan", "--calendar", str(good), "--now", NOW)
    assert result.exit_code == 0
    out = result.stdout
    assert out.splitlines()[0] == "Test Campaign: 2026-07-25 to 2026-08-24 (Asia/Phnom_Penh)"
    x_km = next(line for line in out.splitlines() if "ccbl_x" in line and " km " in line)
    for cell in ("Sat 01 Aug 08:00", "ccbl_x", "anniversary", "ccm-entry-into-force", "172/280", "pending", "ថ្ងៃនេះជាខួបលើកទី១៦"):
        assert cell in x_km
    assert "Posts per account: ccbl_facebook 4, ccbl_x 2" in out
    assert "Posts per goal: clearance 2, universalization 4" in out
    assert EN_CCM.splitlines()[0] not in out  # the table shows only the start of a long text


def test_full_prints_each_whole_text(good):
    result = run("plan", "--calendar", str(good), "--now", NOW, "--full")
    lines = result.stdout.splitlines()
    assert EN_CCM.splitlines()[0] in lines
    assert KM_CCM.splitlines()[0] in lines
    assert "[image] media/pixel.png: A deminer kneels in a marked lane" in lines


def test_khmer_is_never_cut_inside_a_cluster(good):
    long_km = "ស្ត្រីអ្នកដោះមីន បោសសម្អាតចម្ការមីន " + "គ្រាប់បែកចង្កោមសម្លាប់ជនស៊ីវិល" * 12 + "។"
    (good.parent / "templates/story/km.j2").write_text(long_km + "\n", encoding="utf-8")
    result = run("plan", "--calendar", str(good), "--now", NOW, "--full", "--kind", "story")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert [line for line in lines if line and regex.match(r"\p{M}", line)] == []
    # --full prints the text exactly as it will be posted: one line, nothing dropped, replaced or
    # broken (a terminal wraps it; a file or pipe gets the post verbatim).
    assert long_km in lines
    # The table's first-line preview is cut after whole clusters only.
    preview = next(line for line in lines if line.startswith("│") and "ស្ត្រី" in line)
    cell = preview.rstrip("│ ").rsplit("│", 1)[1].strip()
    assert cell.endswith("…") and long_km.startswith(cell[:-1])
    assert not regex.match(r"\p{M}", long_km[len(cell) - 1:])


def test_unknown_account_is_exit_2_with_a_suggestion(good):
    result = run("plan", "--calendar", str(good), "--now", NOW, "--account", "ccbl_facebok")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == ("--account: unknown account 'ccbl_facebok' (did you mean 'ccbl_facebook'?); "
                             "the calendar defines ccbl_x, ccbl_facebook\n")


def test_bad_from_date_is_exit_2(good):
    result = run("plan", "--calendar", str(good), "--now", NOW, "--from", "1 August")
    assert result.exit_code == 2
    assert result.stderr == "--from: '1 August' is not a date; write YYYY-MM-DD\n"


def test_empty_window_says_so(good):
    result = run("plan", "--calendar", str(good), "--now", NOW, "--from", "2026-08-02", "--to", "2026-08-03")
    assert result.exit_code == 0
    assert "No posts between 2026-08-02 and 2026-08-03." in result.stdout


# ---------------------------------------------------------------- real processes


def test_installed_console_script_prints_json(good, tmp_path):
    exe = shutil.which("campaigner") or shutil.which("campaigner", path=str(Path(sys.executable).parent))
    if not exe:
        pytest.skip("the campaigner console script is not installed")
    proc = subprocess.run([exe, "plan", "--json", "--calendar", str(good), "--now", NOW],
                          capture_output=True, text=True, encoding="utf-8", cwd=tmp_path, env=child_env(), timeout=60)
    assert proc.returncode == 0, proc.stderr
    posts = json.loads(proc.stdout)
    assert len(posts) == 6 and posts[-1]["text"] == KM_CCM


HEAVY = ("tweepy", "facebook", "requests", "feedparser", "sqlalchemy", "psycopg", "psycopg2", "mastodon", "atproto")
@pytest.mark.parametrize(
    "args, code",
    [
        (["plan", "--json", "--now", NOW], 0),
        (["validate", "--now", NOW], 0),
        (["--help"], 0),
        (["plan", "--help"], 0),
    ],
    ids=["plan", "validate", "help", "plan-help"],
)
def test_plan_validate_and_help_import_no_sdk_or_driver(good, tmp_path, args, code):
    exit_code, modules, stderr = imported_modules(args, good, tmp_path)
    assert exit_code == code, stderr
    assert "campaigner.cli" in modules  # the probe really ran the app
    heavy = [m for m in modules if m.split(".")[0] in HEAVY]
    assert heavy == []


def test_an_empty_window_or_unknown_kind_is_an_error_not_silence(good):
    backwards = run("plan", "--calendar", str(good), "--from", "2026-12-31", "--to", "2026-12-01")
    assert backwards.exit_code == 2 and "--to: 2026-12-01 is before 2026-12-31" in backwards.stderr
    unknown = run("plan", "--calendar", str(good), "--now", NOW, "--kind", "anniversery")
    assert unknown.exit_code == 2 and "no event has kind 'anniversery' (did you mean 'anniversary'?)" in unknown.stderr


def test_json_is_one_post_per_line(good):
    out = run("plan", "--calendar", str(good), "--now", NOW, "--json").stdout
    lines = out.splitlines()
    assert lines[0] == "[" and lines[-1] == "]"
    rows = [json.loads(line.rstrip(",")) for line in lines[1:-1]]
    assert rows == json.loads(out) and len(rows) > 1


def test_a_reader_that_stops_early_ends_the_run_quietly(shipped, tmp_path):
    """`campaigner plan | head`: no traceback and no 'internal error' when the pipe closes."""
    exe = shutil.which("campaigner") or shutil.which("campaigner", path=str(Path(sys.executable).parent))
    if not exe:
        pytest.skip("the campaigner console script is not installed")
    for args in (["plan", "--full", "--days", "730"], ["plan", "--json", "--days", "730"]):
        proc = subprocess.Popen([exe, *args, "--calendar", str(shipped), "--now", NOW], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, cwd=tmp_path, env=child_env())
        assert proc.stdout.readline()
        proc.stdout.close()  # like head: one line, then gone
        stderr = proc.stderr.read().decode()
        assert proc.wait(timeout=60) in (0, 1)
        # Nothing but the shipped figures' stale-fact warnings (facts.yaml), which plan gives on stderr.
        assert [line for line in stderr.splitlines() if ": warning: fact '" not in line] == [], stderr
