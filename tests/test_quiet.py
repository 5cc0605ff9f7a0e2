"""Quiet periods (calendar `quiet:`): held posts are never published during their window; through the real CLI."""

from __future__ import annotations

import json
import os
import re
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from campaigner.cli import app
from tests.fake_platform import sends

runner = CliRunner()
AFTER_ALL = "2026-12-03T12:30:00+07:00"  # every post of the fixture is due, none past its 6h grace


@pytest.fixture
def quiet_cal(fixture_calendar, tmp_path, monkeypatch):
    """The quiet fixture with a given quiet: section appended (its first line is line 16)."""
    import tests.fake_platform  # noqa: F401  registers the platform in this process

    monkeypatch.setenv("CAMPAIGNER_ALPHA_TOKEN", "alpha-secret-token")
    monkeypatch.setenv("FAKE_SENT", str(tmp_path / "sent.jsonl"))
    path = fixture_calendar("quiet")
    assert len(path.read_text().splitlines()) == 15

    def write(section: str) -> Path:
        path.write_text(path.read_text() + section)
        return path

    return write


def invoke(*args: str):
    return runner.invoke(app, list(args))


def sent_ids(tmp_path: Path) -> list[str]:
    return sorted(s["key"].rsplit("/", 1)[0] if "key" in s else s.get("idempotency_key", "") for s in sends(tmp_path / "sent.jsonl"))


def plan_json(cal: Path, day: str = "2026-12-03", now: str = "2026-12-01T00:00:00+07:00") -> dict[str, dict]:
    result = invoke("plan", "--calendar", str(cal), "--from", day, "--to", day, "--json", "--now", now)
    assert result.exit_code == 0, result.output
    return {row["event"]: row for row in json.loads(result.stdout)}


def ledger_rows(cal: Path) -> dict[str, tuple[str, str | None]]:
    db = sqlite3.connect(cal.parent / ".campaigner" / "state.db")
    try:
        return {event: (state, error) for event, state, error in db.execute("SELECT event, state, error FROM posts")}
    finally:
        db.close()


SKIP_BY_GOAL_AND_KIND = """quiet:
  - name: vote-week
    from: 2026-12-01
    to: 2026-12-05
    hold: [goal: universalization, kind: un-vote]
    note: a test window
"""


def test_a_window_holds_by_goal_and_by_kind_and_skips_what_it_holds(quiet_cal, tmp_path):
    cal = quiet_cal(SKIP_BY_GOAL_AND_KIND)
    rows = plan_json(cal)
    assert {e: (r["status"], r["held_by"]) for e, r in rows.items()} == {
        "rally": ("held", "vote-week"), "vote": ("held", "vote-week"), "story": ("pending", None), "use": ("pending", None)}

    dry = invoke("post", "--calendar", str(cal), "--now", AFTER_ALL, "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "held: rally/2026-12-03/alpha/en (held by quiet window 'vote-week' (2026-12-01 to 2026-12-05): it would be recorded as skipped" in dry.stdout
    assert "would send story/2026-12-03/alpha/en" in dry.stdout and "would send rally" not in dry.stdout
    assert "2 held by quiet windows" in dry.stdout

    run = invoke("post", "--calendar", str(cal), "--now", AFTER_ALL)
    assert run.exit_code == 0, run.output
    assert "skipped vote/2026-12-03/alpha/en: held by quiet window 'vote-week' (2026-12-01 to 2026-12-05): never sent (after: skip)" in run.stdout
    assert "2 published" in run.stdout and "2 skipped" in run.stdout
    assert [s["text"].split(" for ")[0] for s in sends(tmp_path / "sent.jsonl")] == ["Note 3", "Note 4"]
    assert ledger_rows(cal) == {
        "rally": ("skipped", "held by quiet window 'vote-week' (2026-12-01 to 2026-12-05): never sent (after: skip)"),
        "vote": ("skipped", "held by quiet window 'vote-week' (2026-12-01 to 2026-12-05): never sent (after: skip)"),
        "story": ("published", None), "use": ("published", None)}
    # The window over, the skipped posts stay skipped: never sent late.
    later = invoke("post", "--calendar", str(cal), "--now", "2026-12-06T09:00:00+07:00", "-v")
    assert later.exit_code == 0 and "published" in later.stdout and len(sends(tmp_path / "sent.jsonl")) == 2
    assert (plan_json(cal)["rally"]["status"], plan_json(cal)["rally"]["held_by"]) == ("skipped", "vote-week")


def test_a_window_without_hold_holds_everything_but_condemnations_unless_named(quiet_cal, tmp_path):
    cal = quiet_cal("quiet:\n  - {name: all-quiet, from: 2026-12-03, to: 2026-12-03}\n")
    assert {e: r["status"] for e, r in plan_json(cal).items()} == {"rally": "held", "vote": "held", "story": "held", "use": "pending"}
    assert invoke("post", "--calendar", str(cal), "--now", AFTER_ALL).exit_code == 0
    assert [s["text"].split(" for ")[0] for s in sends(tmp_path / "sent.jsonl")] == ["Note 4"]

    named = cal.read_text().replace("to: 2026-12-03}", "to: 2026-12-03, hold: [kind: condemnation]}")
    cal.write_text(named)
    assert {e: r["status"] for e, r in plan_json(cal, now="2026-12-01T00:00:00+07:00").items() if e == "use"} == {"use": "published"}
    # (a fresh calendar folder shows the named kind held)
    fresh = cal.parent.parent / "fresh"
    fresh.mkdir()
    (fresh / "calendar.yaml").write_text(named)
    (fresh / "templates").symlink_to(cal.parent / "templates")
    assert {e: r["status"] for e, r in plan_json(fresh / "calendar.yaml").items()} == {
        "rally": "pending", "vote": "pending", "story": "pending", "use": "held"}


DEFER = """quiet:
  - name: pause
    from: "2026-12-03 08:00"
    to: 2026-12-12
    hold: {kind: [un-vote]}
    after: defer
"""


def test_defer_sends_a_held_post_when_the_window_ends_at_its_own_time_within_grace(quiet_cal, tmp_path):
    cal = quiet_cal(DEFER)
    vote = plan_json(cal)["vote"]
    assert (vote["status"], vote["held_by"], vote["deferred_to"]) == ("held", "pause", "2026-12-13T10:00:00+07:00")

    run = invoke("post", "--calendar", str(cal), "--now", AFTER_ALL, "-v")
    assert run.exit_code == 0, run.output
    assert "held vote/2026-12-03/alpha/en: held by quiet window 'pause' (2026-12-03 08:00 to 2026-12-12): due 2026-12-13 10:00 when it ends (after: defer)" in run.stdout
    assert sorted(s["text"].split(" for ")[0] for s in sends(tmp_path / "sent.jsonl")) == ["Note 1", "Note 3", "Note 4"]
    quiet_run = invoke("post", "--calendar", str(cal), "--now", "2026-12-03T12:35:00+07:00")
    assert quiet_run.exit_code == 0 and quiet_run.stdout == ""  # a held post is not news at every cron run

    before = invoke("post", "--calendar", str(cal), "--now", "2026-12-13T09:59:00+07:00", "--dry-run")
    assert "would send vote" not in before.stdout and "held: vote/2026-12-03/alpha/en" in before.stdout
    # Ten days after its own due time, past any lookback (the last run's, at most 7 days): found because its window deferred it.
    sent = invoke("post", "--calendar", str(cal), "--now", "2026-12-13T10:01:00+07:00")
    assert sent.exit_code == 0, sent.output
    assert "published vote/2026-12-03/alpha/en" in sent.stdout
    assert sorted(s["text"].split(" for ")[0] for s in sends(tmp_path / "sent.jsonl")) == ["Note 1", "Note 2", "Note 3", "Note 4"]
    assert invoke("post", "--calendar", str(cal), "--now", "2026-12-13T10:30:00+07:00").stdout == ""  # at most once


def test_a_deferred_post_not_sent_within_its_grace_after_the_window_is_missed(quiet_cal, tmp_path):
    cal = quiet_cal(DEFER)
    result = invoke("post", "--calendar", str(cal), "--now", "2026-12-13T16:30:00+07:00", "--json")
    rows = {r["id"]: r for r in json.loads(result.stdout)}
    assert rows["vote/2026-12-03/alpha/en"]["status"] == "missed"
    assert "2026-12-13T10:00:00+07:00" in rows["vote/2026-12-03/alpha/en"]["error"]
    assert result.exit_code == 1


@pytest.mark.parametrize(("section", "expected"), [
    ("quiet:\n  - name: a\n    from: 2026-12-01\n    to: 2026-12-05\n  - name: b\n    from: 2026-12-05\n    to: 2026-12-09\n",
     ["calendar.yaml:20:5: quiet window 'b' (2026-12-05 to 2026-12-09) overlaps 'a' (2026-12-01 to 2026-12-05, line 17): "
      "windows must not overlap; end one before the other starts, or merge them into one window"]),
    ("quiet:\n  - name: backwards\n    from: 2026-12-05\n    to: 2026-12-01\n",
     ["calendar.yaml:19:9: quiet window 'backwards'.to: 2026-12-01 is before its from: 2026-12-05: a window ends on or after the day it starts"]),
    ("quiet:\n  - {name: w, from: 2026-12-01, to: 2026-12-02, after: later, hold: [goal: universalisation], until: x}\n",
     ["calendar.yaml:17:95: quiet window 'w': unknown key 'until'",
      "calendar.yaml:17:76: warning: quiet window 'w'.hold[0].goal: no event has goal 'universalisation' (did you mean 'universalization'?): the window holds nothing by it",
      "calendar.yaml:17:56: quiet window 'w'.after: 'later' is not skip or defer (skip: a held post is never sent; defer: it is sent when the window ends)"]),
    ("quiet:\n  - {name: w, from: next week, to: 2026-12-02, hold: universalization}\n",
     ["calendar.yaml:17:21: quiet window 'w'.from: expected a local date (2027-05-23) or date-time (\"2027-05-23 08:00\"), got 'next week'",
      "calendar.yaml:17:54: quiet window 'w'.hold: expected a list of kind: and goal: entries, got 'universalization' (e.g. hold: [goal: universalization, kind: un-vote])"]),
    ("quiet:\n  - {name: w, from: 2026-12-01, to: 2026-12-02}\n  - {name: w, from: 2027-12-01, to: 2027-12-02}\n",
     ["calendar.yaml:18:12: quiet[1].name: 'w' is already the name of quiet[0]: give each window its own name"]),
])
def test_bad_windows_are_located_errors_and_nothing_is_sent(quiet_cal, tmp_path, section, expected):
    cal = quiet_cal(section)
    result = invoke("validate", "--calendar", str(cal))
    assert result.exit_code == 2
    lines = [line.removeprefix("quiet/") for line in result.stderr.splitlines() if line.startswith("quiet/calendar.yaml:")]
    assert sorted(lines) == sorted(expected)
    assert "Traceback" not in result.output
    assert invoke("post", "--calendar", str(cal), "--now", AFTER_ALL).exit_code == 2
    assert sends(tmp_path / "sent.jsonl") == [] and not (cal.parent / ".campaigner" / "state.db").exists()


def test_validate_warns_about_events_in_a_window_and_accounts_with_nothing_planned(quiet_cal):
    cal = quiet_cal(SKIP_BY_GOAL_AND_KIND)
    result = invoke("validate", "--calendar", str(cal), "--now", "2026-11-20T09:00:00+07:00")
    assert result.exit_code == 0, result.output
    assert ("calendar.yaml:12:1: warning: event 'rally': its post(s) on 2026-12-03 09:00 fall in quiet window 'vote-week' "
            "(2026-12-01 to 2026-12-05), which holds goal universalization: they will be recorded as skipped, never sent (after: skip); "
            "move the event, or change the window, if that is not what you want") in result.stderr
    assert "event 'vote': its post(s) on 2026-12-03 10:00 fall in quiet window 'vote-week' (2026-12-01 to 2026-12-05), which holds kind un-vote" in result.stderr
    assert "event 'story'" not in result.stderr and "event 'use'" not in result.stderr
    assert "nothing is planned" not in result.stderr  # story and use go out on 3 December
    assert invoke("validate", "--calendar", str(cal), "--now", "2026-11-20T09:00:00+07:00", "--strict").exit_code == 2

    late = invoke("validate", "--calendar", str(cal), "--now", "2026-12-10T09:00:00+07:00")
    assert ("calendar.yaml:15:1: warning: account alpha: nothing is planned in the 60 days to 2027-02-08; its last planned post is "
            "use/2026-12-03/alpha/en (2026-12-03 12:00): add events, or extend this event's until:") in late.stderr
    status = invoke("status", "--calendar", str(cal), "--now", "2026-12-10T09:00:00+07:00")
    assert "warning: account alpha: nothing is planned in the 60 days to 2027-02-08; its last planned post is use/2026-12-03/alpha/en" in status.stdout
    as_json = json.loads(invoke("status", "--calendar", str(cal), "--now", "2026-12-10T09:00:00+07:00", "--json").stdout)
    assert len(as_json["warnings"]) == 1 and "use/2026-12-03/alpha/en" in as_json["warnings"][0]


def test_a_repeating_event_keeps_the_account_planned_and_a_skipped_post_is_not_planned(quiet_cal):
    cal = quiet_cal(SKIP_BY_GOAL_AND_KIND)
    text = cal.read_text().replace("date: 2026-12-03, time: \"11:00\"", "date: 2026-12-03, time: \"11:00\", repeat: monthly")
    cal.write_text(text)
    assert "nothing is planned" not in invoke("validate", "--calendar", str(cal), "--now", "2027-06-10T09:00:00+07:00").stderr
    # Only the held events left: the last planned post is the one before the window, not the skipped ones.
    cal.write_text(text.replace("  - {id: story", "  - {id: story, draft: true").replace("  - {id: use", "  - {id: use, draft: true"))
    late = invoke("validate", "--calendar", str(cal), "--now", "2026-12-10T09:00:00+07:00")
    assert "account alpha: nothing is planned in the 60 days to 2027-02-08, and nothing was planned before either: add events for it" in late.stderr


def test_views_show_the_held_state_and_the_window(quiet_cal, tmp_path):
    cal = quiet_cal(SKIP_BY_GOAL_AND_KIND)
    ics = invoke("ics", "--calendar", str(cal), "--from", "2026-12-03", "--to", "2026-12-03", "--now", "2026-12-01T00:00:00+07:00")
    assert ics.exit_code == 0, ics.output
    unfolded = re.sub(r"\r?\n ", "", ics.stdout)
    assert "SUMMARY:[held] un-vote: vote" in unfolded and "SUMMARY:story: story" in unfolded
    assert "alpha en: held (by quiet window 'vote-week' (2026-12-01 to 2026-12-05))" in unfolded
    table = invoke("plan", "--calendar", str(cal), "--from", "2026-12-01", "--to", "2026-12-07", "--now", "2026-12-01T00:00:00+07:00")
    assert table.stdout.count("held (vote-week)") == 2
    assert "2 post(s) held by quiet windows: vote-week 2" in table.stdout
    assert "Quiet window vote-week: 2026-12-01 to 2026-12-05, holds goal universalization, kind un-vote; held posts are recorded as skipped, never sent (after: skip)" in table.stdout
    assert "note: a test window" in table.stdout
    month = invoke("plan", "--calendar", str(cal), "--month", "2026-12", "--now", "2026-12-01T00:00:00+07:00")
    assert " 3 H" in month.stdout
    report = json.loads(invoke("report", "--calendar", str(cal), "--from", "2026-12-01", "--to", "2026-12-31", "--format", "json",
                               "--now", "2026-12-01T00:00:00+07:00").stdout)
    assert {g["goal"]: g["totals"]["held"] for g in report["goals"]} == {"universalization": 1, "(no goal)": 1, "clearance": 0, "no-new-use": 0}
    preview = invoke("preview", "--calendar", str(cal), "--from", "2026-12-01", "--to", "2026-12-31", "--out", str(tmp_path / "preview"),
                     "--now", "2026-12-01T00:00:00+07:00")
    assert preview.exit_code == 0, preview.output
    html = (tmp_path / "preview" / "index.html").read_text(encoding="utf-8")
    assert html.count('data-state="held" data-platform') == 2 and "by quiet window &#39;vote-week&#39; (2026-12-01 to 2026-12-05)" in html


def test_the_shipped_calendar_holds_the_30_may_universalization_posts_for_the_commune_elections(shipped):
    result = invoke("plan", "--calendar", str(shipped), "--from", "2027-05-15", "--to", "2027-06-10", "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    may30 = [r for r in rows if r["due"].startswith("2027-05-30")]
    assert may30 and {r["goal"] for r in may30} == {"universalization"}
    assert {(r["status"], r["held_by"]) for r in may30} == {("held", "commune-elections-2027")}
    assert len(may30) == 4  # X and Facebook, Khmer and English
    table = invoke("plan", "--calendar", str(shipped), "--from", "2027-05-15", "--to", "2027-06-10")
    assert table.stdout.count("held (commune-elections-2027)") == 4
    assert "Quiet window commune-elections-2027: 2027-05-23 to 2027-06-06, holds goal universalization, kind un-vote" in table.stdout
    assert "National Election Committee has not yet published the 2027 campaign period (in 2022 it ran 21 May to 3 June)" in table.stdout
    # The window skips them, so X will not be asked (nor paid) for them.
    assert "X requests for ccbl_x" not in table.stdout
    spring = invoke("plan", "--calendar", str(shipped), "--from", "2027-04-01", "--to", "2027-06-10")
    assert "X requests for ccbl_x: 2," in spring.stdout  # 4 April's two X posts; not 30 May's two


def test_condemn_post_during_a_window_that_holds_condemnations_is_refused_unless_despite_quiet(fixture_calendar, tmp_path, monkeypatch):
    import tests.fake_platform  # noqa: F401

    monkeypatch.setenv("CAMPAIGNER_ALPHA_TOKEN", "alpha-secret-token")
    monkeypatch.setenv("CAMPAIGNER_BETA_TOKEN", "beta-secret-token")
    monkeypatch.setenv("FAKE_SENT", str(tmp_path / "sent.jsonl"))
    cal = fixture_calendar("rapid")
    cal.write_text(cal.read_text() + "quiet:\n  - {name: ceasefire-talks, from: 2026-11-29, to: 2026-12-01, hold: [kind: condemnation], note: talks in Kuala Lumpur}\n"
                   "  - {name: elections, from: 2027-05-23, to: 2027-06-06, hold: [goal: universalization]}\n")
    args = ["condemn", "--report", "https://monitor.example/2026/11/30/use", "--source", "Landmine Monitor", "--calendar", str(cal),
            "--now", "2026-11-30T14:05:00"]
    refused = invoke(*args, "--post")
    assert refused.exit_code == 2
    assert ("--post: quiet window 'ceasefire-talks' (2026-11-29 to 2026-12-01) holds condemnation posts, by kind condemnation (talks in Kuala Lumpur): "
            "nothing was written or sent; leave out --post and 'campaigner post' holds it (skipped, never sent), "
            "or give --despite-quiet to publish it now anyway") in refused.stderr
    assert not (cal.parent / "rapid.yaml").exists() and sends(tmp_path / "sent.jsonl") == []

    done = invoke(*args, "--post", "--despite-quiet")
    assert done.exit_code == 0, done.output
    assert len(sends(tmp_path / "sent.jsonl")) == 3  # alpha km and en, beta en
    assert "published despite quiet window 'ceasefire-talks' (2026-11-29 to 2026-12-01), as --despite-quiet asked" in done.stderr

    praise = ["praise", "Tuvalu", "--joined", "2027-05-28", "--calendar", str(cal), "--now", "2027-05-30T10:00:00", "--post"]
    held = invoke(*praise)
    assert held.exit_code == 2 and "quiet window 'elections' (2027-05-23 to 2027-06-06) holds accession posts, by goal universalization" in held.stderr
    written = invoke(*praise[:-1])  # without --post: written, and the note says post will hold it
    assert written.exit_code == 0, written.output
    assert "falls in quiet window 'elections' (2027-05-23 to 2027-06-06): 'campaigner post' will record it as skipped, never sent" in written.stderr
    assert len(sends(tmp_path / "sent.jsonl")) == 3


def test_the_snapshot_cache_sees_an_edited_window_at_once(shipped):
    args = ["plan", "--calendar", str(shipped), "--from", "2027-05-30", "--to", "2027-05-30", "--json"]
    first = json.loads(invoke(*args).stdout)
    assert {r["status"] for r in first} == {"held"}
    assert list(Path(os.environ["CAMPAIGNER_CACHE_DIR"]).glob("*.pickle"))  # the plan above was stored
    assert json.loads(invoke(*args).stdout) == first  # served from the snapshot, the same
    shipped.write_text(shipped.read_text(encoding="utf-8").replace("    from: 2027-05-23\n", "    from: 2027-05-31\n"), encoding="utf-8")
    assert {(r["status"], r["held_by"]) for r in json.loads(invoke(*args).stdout)} == {("pending", None)}


def test_status_lists_the_window_in_force_with_the_posts_it_holds(quiet_cal):
    cal = quiet_cal(SKIP_BY_GOAL_AND_KIND)
    before = invoke("status", "--calendar", str(cal), "--now", "2026-11-20T09:00:00+07:00")
    assert ("Quiet window vote-week (2026-12-01 to 2026-12-05, from 2026-12-01 00:00) holds goal universalization, kind un-vote: "
            "2 post(s) in the next 30 days will be skipped, never sent (after: skip)") in before.stdout
    assert "rally/2026-12-03" not in before.stdout.split("Next posts due:")[1].split("Quiet window")[0]  # held: not among the next posts
    during = json.loads(invoke("status", "--calendar", str(cal), "--now", "2026-12-02T09:00:00+07:00", "--json").stdout)
    assert [(q["name"], q["held"], q["after"]) for q in during["quiet"]] == [("vote-week", 2, "skip")]
    assert invoke("status", "--calendar", str(cal), "--now", "2026-12-06T09:00:00+07:00").stdout.count("Quiet window") == 0


@pytest.mark.parametrize(("second", "status", "deferred_to", "sent_at"), [
    ("after: skip", "skipped", None, None),
    ("after: defer", "published", "2026-12-07T10:00:00+07:00", "2026-12-07T10:01:00+07:00"),
])
def test_a_post_deferred_into_the_next_window_is_held_by_that_one_too(quiet_cal, tmp_path, second, status, deferred_to, sent_at):
    cal = quiet_cal("quiet:\n  - {name: first, from: 2026-12-03, to: 2026-12-04, hold: [kind: un-vote], after: defer}\n"
                    f"  - {{name: second, from: 2026-12-05, to: 2026-12-06, hold: [kind: un-vote], {second}}}\n")
    vote = plan_json(cal)["vote"]
    assert (vote["status"], vote["held_by"], vote["deferred_to"]) == ("held", "first", deferred_to)
    for now in ("2026-12-05T10:01:00+07:00", sent_at or "2026-12-07T10:01:00+07:00"):
        assert invoke("post", "--calendar", str(cal), "--now", now).exit_code == 0
    assert ledger_rows(cal)["vote"][0] == status
    assert ("Note 2" in [s["text"].split(" for ")[0] for s in sends(tmp_path / "sent.jsonl")]) == (status == "published")


def test_approving_a_draft_in_a_window_says_the_window_will_hold_it(fixture_calendar, monkeypatch):
    import tests.fake_platform  # noqa: F401

    cal = fixture_calendar("rapid")
    cal.write_text(cal.read_text() + "quiet:\n  - {name: talks, from: 2026-11-29, to: 2026-12-01, hold: [kind: condemnation]}\n")
    args = ["--calendar", str(cal), "--now", "2026-11-30T14:05:00"]
    drafted = invoke("condemn", "--report", "https://monitor.example/2026/11/30/use", "--source", "Landmine Monitor", "--draft", *args)
    assert drafted.exit_code == 0, drafted.output
    event = next(line.split()[1] for line in drafted.stdout.splitlines() if line.startswith("added "))
    approved = invoke("approve", event, "--by", "sokha", *args)
    assert approved.exit_code == 0, approved.output
    assert "they fall in quiet window 'talks' (2026-11-29 to 2026-12-01): 'campaigner post' will record them as skipped, never sent" in approved.stdout
    assert "the next 'campaigner post' publishes it" not in approved.stdout
