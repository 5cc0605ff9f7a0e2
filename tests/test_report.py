"""`campaigner report`: the ledger joined with the calendar, per goal, platform and account, in four formats."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from typer.testing import CliRunner

from campaigner.cli import app

NOW = "2026-08-10T12:00"
PERIOD = ("--from", "2026-07-01", "--to", "2026-08-31")
CCM = "ccm-entry-into-force/2026-08-01"
STORY = "monthly-story/2026-07-31/ccbl_facebook"


def run(*args: str):
    result = CliRunner().invoke(app, list(args))
    assert "Traceback" not in result.stdout + result.stderr
    return result


@pytest.fixture
def cal(fixture_calendar) -> Path:
    """The good calendar with a ledger as a month of `post` runs would leave it (through the ledger's interface)."""
    from campaigner.brief import brief_id
    from campaigner.ledger import PostMeta
    from campaigner.publish import meta_for
    from campaigner.render import expand
    from campaigner.runtime import session

    path = fixture_calendar("good")
    with session(path, write=True) as rt:
        posts = {p.id: p for p in expand(rt.calendar, date(2026, 7, 1), date(2026, 8, 31), renderer=rt.renderer)}
        ledger = rt.ledger

        def claim(meta: PostMeta) -> datetime:
            at = meta.due.astimezone(timezone.utc) + timedelta(minutes=5)
            assert ledger.claim(meta, run_id="r", host="h", pid=1, now=at, lease_until=at + timedelta(minutes=10))
            return at

        for lang in ("en", "km"):
            pid = f"{CCM}/ccbl_x/{lang}"
            at = claim(meta_for(posts[pid]))
            ledger.record_published(pid, run_id="r", remote_id=f"18{lang}", url=f"https://x.com/ccbl/status/18{lang}", text="t", text_hash="h", now=at)
        at = claim(meta_for(posts[f"{CCM}/ccbl_facebook/en"]))
        ledger.record_failed(f"{CCM}/ccbl_facebook/en", run_id="r", error="the Page token expired", transient=False, next_attempt=None, now=at)
        at = claim(meta_for(posts[f"{CCM}/ccbl_facebook/km"]))
        ledger.record_unknown(f"{CCM}/ccbl_facebook/km", run_id="r", error="timed out after sending", now=at)
        story = posts[f"{STORY}/en"]
        assert ledger.mark_missed(meta_for(story), run_id="r", detail="grace passed", now=story.due + timedelta(hours=7))
        at = claim(meta_for(posts[f"{STORY}/km"]))
        ledger.record_failed(f"{STORY}/km", run_id="r", error="x", transient=True, next_attempt=None, now=at)
        ledger.resolve(f"{STORY}/km", published_url=None, remote_id=None, skip=True, now=at, who="sokha")
        # An event that was in the calendar in July and has since been removed from it.
        gone = PostMeta("old-appeal/2026-07-15/ccbl_x/en", "old-appeal", "ccbl_x", "x", "en", datetime(2026, 7, 15, 2, 0, tzinfo=timezone.utc))
        at = claim(gone)
        ledger.record_published(gone.id, run_id="r", remote_id="17", url="https://x.com/ccbl/status/17", text="t", text_hash="h", now=at)
        # A journalist briefed about the anniversary (the email channel's row).
        brief = PostMeta(brief_id("ccm-entry-into-force", "ann@example.org"), "ccm-entry-into-force", "email", "email", "en", posts[f"{CCM}/ccbl_x/en"].due)
        at = claim(brief)
        ledger.record_published(brief.id, run_id="r", remote_id="<m@x>", url="mailto:ann@example.org", text="t", text_hash="h", now=at)
    return path


def report_json(cal: Path, *args: str) -> dict:
    result = run("report", "--calendar", str(cal), "--now", NOW, "--format", "json", *args)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_counts_per_goal_and_account_from_the_ledger_joined_with_the_calendar(cal):
    doc = report_json(cal, *PERIOD)
    goals = {g["goal"]: g for g in doc["goals"]}
    assert list(goals) == ["universalization", "clearance", "(no longer in the calendar)"]  # the calendar's order, then what it lost
    uni = goals["universalization"]
    assert {a["account"]: {k: v for k, v in a["counts"].items() if v} for a in uni["accounts"]} == {
        "ccbl_facebook": {"failed": 1, "unknown": 1}, "ccbl_x": {"published": 2}}
    assert uni["briefings"] == {"journalists": {"published": 1}}
    assert [(p["id"], p["url"], p["published_at"]) for p in uni["published"]] == [
        (f"{CCM}/ccbl_x/en", "https://x.com/ccbl/status/18en", "2026-08-01T08:05:00+07:00"),
        (f"{CCM}/ccbl_x/km", "https://x.com/ccbl/status/18km", "2026-08-01T08:05:00+07:00")]
    # 31 July's story was missed and skipped; 31 August's is planned: due after now, nothing recorded.
    assert {k: v for k, v in goals["clearance"]["totals"].items() if v} == {"missed": 1, "skipped": 1, "planned": 2}
    removed = goals["(no longer in the calendar)"]
    assert removed["in_calendar"] is False and removed["events_no_longer_in_calendar"] == ["old-appeal"]
    assert removed["totals"]["published"] == 1 and removed["published"][0]["url"] == "https://x.com/ccbl/status/17"


def test_published_counts_match_history(cal):
    history = json.loads(run("history", "--calendar", str(cal), "--now", NOW, "--days", "60", "--json").stdout)
    doc = report_json(cal, "--days", "60", "--from", "2026-06-12")
    published = sorted(p["id"] for g in doc["goals"] for p in g["published"])
    assert published == sorted(h["id"] for h in history if not h["id"].startswith("brief/"))
    assert len(published) == 3


def test_markdown_has_a_heading_per_goal_a_short_table_and_the_published_posts(cal):
    result = run("report", "--calendar", str(cal), "--now", NOW, "--format", "markdown", *PERIOD)
    assert result.exit_code == 0, result.stderr
    md = result.stdout
    assert md.startswith("# Test Campaign: what the campaign did, 1 July 2026 to 31 August 2026\n")
    assert "| Goal | Published | Missed | Failed | Unknown | Skipped | Planned |" in md  # columns with something in them
    assert "| universalization | 2 | 0 | 1 | 1 | 0 | 0 |" in md
    section = md.split("## universalization\n", 1)[1].split("\n## ", 1)[0]
    assert "| ccbl\\_x | X | 2 | 0 | 0 | 0 | 0 | 0 |" in section
    assert "Briefings: journalists: 1 sent." in section
    assert "- 2026-08-01 [ccm-entry-into-force](https://x.com/ccbl/status/18en) (ccbl\\_x, X, en)" in section
    assert "Events no longer in the calendar, counted from the ledger: `old-appeal`." in md


def test_csv_is_one_row_per_goal_and_account_with_every_column(cal):
    result = run("report", "--calendar", str(cal), "--now", NOW, "--format", "csv", *PERIOD)
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert list(rows[0]) == ["goal", "platform", "account", "published", "missed", "failed", "unknown", "skipped", "held", "planned", "unrecorded"]
    by = {(r["goal"], r["account"]): r for r in rows}
    assert by[("universalization", "ccbl_x")]["published"] == "2"
    assert by[("universalization", "briefings: journalists")]["published"] == "1"
    assert by[("universalization", "briefings: journalists")]["platform"] == "email"  # the channel the ledger recorded
    assert by[("clearance", "ccbl_facebook")]["planned"] == "2"


def test_the_table_and_the_default_period_of_twelve_months(cal):
    result = run("report", "--calendar", str(cal), "--now", "2027-07-01T09:00")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "Test Campaign: 2026-07-02 to 2027-07-01 (365 days, Asia/Phnom_Penh)"
    assert any(line.startswith("│ universalization ") for line in lines)
    # Posts due in the past with nothing in the ledger (no run sent them) are "unrecorded", not "planned".
    doc = report_json(cal, "--now", "2027-07-01T09:00")
    totals = {g["goal"]: g["totals"] for g in doc["goals"]}
    assert totals["clearance"]["planned"] == 0 and totals["clearance"]["unrecorded"] > 0


def test_an_account_filter_keeps_that_accounts_posts(cal):
    doc = report_json(cal, *PERIOD, "--account", "ccbl_facebook")
    accounts = {a["account"] for g in doc["goals"] for a in g["accounts"]}
    assert accounts == {"ccbl_facebook"}
    assert {g["goal"]: g["briefings"] for g in doc["goals"]}["universalization"] == {"journalists": {"published": 1}}


def test_an_empty_ledger_reports_what_is_planned(fixture_calendar):
    doc = report_json(fixture_calendar("good"), *PERIOD)
    assert {g["goal"]: g["totals"]["planned"] for g in doc["goals"]} == {"universalization": 0, "clearance": 2}
    assert {g["goal"]: g["totals"]["unrecorded"] for g in doc["goals"]} == {"universalization": 4, "clearance": 2}


def test_a_bad_format_is_one_line_and_exit_2(cal):
    result = run("report", "--calendar", str(cal), "--format", "pdf")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == "--format: 'pdf' is not a format; choose one of table, markdown, csv, json\n"
