"""`campaigner plan --month`: a month grid through the real app, and the pure summary behind it."""

from __future__ import annotations

import json
from datetime import date

import pytest
from typer.testing import CliRunner

from campaigner.cli import app
from campaigner.cli._table import cells
from campaigner.views.month import initials, month_range, parse_month, weeks

NOW = "2026-07-25T00:00"


def run(*args: str):
    result = CliRunner().invoke(app, list(args))
    assert "Traceback" not in result.stdout + result.stderr
    return result


@pytest.fixture
def good(fixture_calendar):
    return fixture_calendar("good")


def grid(stdout: str) -> list[str]:
    lines = stdout.splitlines()
    top = next(i for i, line in enumerate(lines) if line.startswith("┌"))
    bottom = next(i for i, line in enumerate(lines) if line.startswith("└"))
    return lines[top:bottom + 1]


def day_cells(stdout: str) -> dict[int, str]:
    """Each day of the grid -> the text under its number."""
    lines = [line for line in stdout.splitlines() if line.startswith("│")][1:]  # weekday names first
    found = {}
    for top, below in zip(lines[::2], lines[1::2]):
        for number, under in zip(top.strip("│").split("│"), below.strip("│").split("│")):
            if number.strip():
                found[int(number.split()[0])] = " ".join([*number.split()[1:], "|", under.strip()]).strip()
    return found


def test_a_month_grid_has_every_day_under_its_weekday_with_posts_per_kind(good):
    result = run("plan", "--calendar", str(good), "--now", NOW, "--month", "2026-08")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert out.splitlines()[0] == "August 2026: Test Campaign (Asia/Phnom_Penh)"
    lines = grid(out)
    assert lines[1].split("│")[1:8] == [f" {d:<{len(lines[1].split('│')[1]) - 1}}" for d in ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")]
    assert len({cells(line) for line in lines}) == 1  # a closed box
    days = day_cells(out)
    assert sorted(days) == list(range(1, 32))
    # 1 August 2026 is a Saturday: the CCM anniversary, 2 accounts x 2 languages; 31 August the monthly story.
    first_week = [line for line in lines if line.startswith("│")][1]
    assert first_week.split("│")[6].strip() == "1" and first_week.split("│")[7].strip() == "2"
    assert days[1] == "| 4A" and days[31] == "| 2S" and days[2] == "|"
    assert "Posts per day by kind: A anniversary, S story" in out
    assert "Posts per account: ccbl_facebook 4, ccbl_x 2" in out


def test_without_a_month_it_shows_the_month_of_now_whole_past_days_included(good):
    out = run("plan", "--calendar", str(good), "--now", "2026-08-20T12:00", "--month").stdout
    assert out.startswith("August 2026: ")
    assert day_cells(out)[1] == "| 4A"  # already due, still shown: a month is shown whole


def test_marks_for_over_limit_and_draft_days(fixture_calendar, good):
    broken = fixture_calendar("broken-templates")
    out = run("plan", "--calendar", str(broken), "--now", NOW, "--month", "2026-09", "--kind", "long").stdout
    assert day_cells(out)[14].startswith("! | ")
    text = good.read_text(encoding="utf-8").replace("    goal: clearance\n", "    goal: clearance\n    draft: true\n")
    good.write_text(text, encoding="utf-8")
    out = run("plan", "--calendar", str(good), "--now", NOW, "--month", "2026-08").stdout
    assert day_cells(out)[31] == "D | 2S" and day_cells(out)[1] == "| 4A"
    assert "D a draft" in out


def test_filters_apply_to_the_grid(good):
    out = run("plan", "--calendar", str(good), "--now", NOW, "--month", "2026-08", "--account", "ccbl_x").stdout
    assert day_cells(out)[1] == "| 2A" and day_cells(out)[31] == "|"


def test_json_with_a_month_lists_that_months_posts(good):
    result = run("plan", "--calendar", str(good), "--now", NOW, "--month", "2026-08", "--json")
    posts = json.loads(result.stdout)
    assert {p["due"][:7] for p in posts} == {"2026-08"} and len(posts) == 6


@pytest.mark.parametrize("args, message", [
    (["--month", "2026-13"], "--month: '2026-13' is not a month; write YYYY-MM, e.g. 2026-07\n"),
    (["--month", "2026-08", "--from", "2026-08-01"], "--month: a month is shown whole: leave out --from\n"),
    (["--month", "--days", "3"], "--month: a month is shown whole: leave out --days\n"),
    (["2026-08"], "plan: unexpected argument '2026-08': to show a month write 'campaigner plan --month 2026-08'\n"),
])
def test_bad_month_options_are_one_line_and_exit_2(good, args, message):
    result = run("plan", "--calendar", str(good), "--now", NOW, *args)
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr == message


def test_weeks_start_on_monday_and_pad_with_none():
    rows = weeks(2026, 8)
    assert len(rows) == 6 and all(len(r) == 7 for r in rows)
    assert rows[0][:5] == [None] * 5 and rows[0][5] == date(2026, 8, 1)
    assert rows[-1][0] == date(2026, 8, 31) and rows[-1][1:] == [None] * 6
    assert month_range(2028, 2) == (date(2028, 2, 1), date(2028, 2, 29))
    assert parse_month("2026-08") == (2026, 8) and parse_month("2026-8") is None and parse_month("2026-00") is None


def test_initials_are_unique_and_short():
    shipped = ["anniversary", "accession", "clearance-story", "commemoration", "condemnation", "disability-day",
               "national-mine-awareness-day", "review-conference", "treaty-meeting", "un-mine-awareness-day", "un-vote"]
    labels = initials(shipped)
    assert len(set(labels.values())) == len(shipped)
    assert labels["anniversary"] == "An" and labels["accession"] == "Ac"
    assert labels["un-vote"] == "UV" and labels["clearance-story"] == "CS"
    assert {labels["condemnation"], labels["commemoration"]} == {"Con", "Com"}
    assert initials(["story"]) == {"story": "S"}
