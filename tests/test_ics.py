"""`campaigner ics`: parsed back with icalendar, across a DST change, stable across runs."""

from __future__ import annotations

import os
import shutil
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import icalendar
import pytest
from typer.testing import CliRunner

from campaigner.cli import app
from campaigner.views.ics import uid
from tests.conftest import FIXTURES
from tests.probe import imported_modules

WINDOW = ("--from", "2026-02-20", "--to", "2026-03-31")


def run(*args: str):
    result = CliRunner().invoke(app, list(args))
    assert "Traceback" not in result.stdout + result.stderr
    return result


@pytest.fixture
def dst(tmp_path) -> Path:
    dest = tmp_path / "dst"
    shutil.copytree(FIXTURES / "dst", dest)
    return dest / "calendar.yaml"


def export(cal: Path, *args: str, now: str = "2026-02-20T08:00") -> bytes:
    out = cal.parent / "campaign.ics"
    result = run("ics", "--calendar", str(cal), "--now", now, "--out", str(out), *args)
    assert result.exit_code == 0, result.stderr
    return out.read_bytes()


def events(data: bytes) -> list[icalendar.Event]:
    return list(icalendar.Calendar.from_ical(data).walk("VEVENT"))


def test_one_event_per_occurrence_not_per_post(dst):
    found = events(export(dst, *WINDOW))
    # weekly-update: 23 Feb to 23 March, 5 Mondays, each 2 accounts x 2 languages = 20 posts; the draft, 2 posts.
    assert [str(e["SUMMARY"]) for e in found] == ["weekly: weekly-update"] * 3 + ["[draft] weekly: draft-statement"] + ["weekly: weekly-update"] * 2
    first = found[0]
    description = str(first["DESCRIPTION"])
    assert description.startswith("Accounts: ccbl_x (X), ccbl_facebook (Facebook)\nLanguages: en, km\nGoal: clearance\n\n"
                                  "Weekly update, 23 February 2026: what the teams cleared this week.\n")
    assert "- ccbl_x km: pending" in description
    assert str(first["URL"]) == "https://example.org/updates"
    assert [str(c) for c in first["CATEGORIES"].cats] == ["weekly", "clearance"]
    assert str(found[3]["STATUS"]) == "TENTATIVE" and str(first["STATUS"]) == "CONFIRMED"


def test_times_keep_the_local_hour_across_the_dst_change(dst):
    data = export(dst, *WINDOW)
    cal = icalendar.Calendar.from_ical(data)
    zones = list(cal.walk("VTIMEZONE"))
    assert [str(z["TZID"]) for z in zones] == ["America/New_York"]
    assert {c.name for c in zones[0].subcomponents} == {"STANDARD", "DAYLIGHT"}
    weekly = [e for e in cal.walk("VEVENT") if "weekly-update" in str(e["SUMMARY"])]
    starts = [e["DTSTART"].dt for e in weekly]
    assert [(s.date().isoformat(), s.strftime("%H:%M")) for s in starts] == [
        ("2026-02-23", "09:00"), ("2026-03-02", "09:00"), ("2026-03-09", "09:00"), ("2026-03-16", "09:00"), ("2026-03-23", "09:00")]
    # 9:00 in New York is 14:00 UTC before 8 March and 13:00 UTC after it.
    assert [s.astimezone(timezone.utc).hour for s in starts] == [14, 14, 13, 13, 13]
    assert all(e["DTEND"].dt - e["DTSTART"].dt == timedelta(minutes=15) for e in weekly)
    assert b"DTSTART;TZID=America/New_York:20260309T090000" in data


def test_uids_are_stable_unique_and_made_from_the_campaign_event_and_date(dst, tmp_path):
    found = events(export(dst, *WINDOW))
    uids = [str(e["UID"]) for e in found]
    assert len(set(uids)) == len(uids)
    assert uids[0] == uid("dst-test-campaign", "weekly-update", date(2026, 2, 23))
    # The same occurrence in a shorter window, on another day, from another copy of the calendar: the same UID.
    other = tmp_path / "elsewhere"
    shutil.copytree(dst.parent, other)
    again = events(export(other / "calendar.yaml", "--from", "2026-03-09", "--to", "2026-03-09", now="2026-03-01T10:00"))
    assert [str(e["UID"]) for e in again] == [uids[2]]
    # Another campaign's occurrence of an event with the same id and date does not collide.
    assert uid("another-campaign", "weekly-update", date(2026, 2, 23)) != uids[0]


def test_a_second_export_of_an_unchanged_calendar_is_byte_identical(dst):
    first = export(dst, *WINDOW, now="2026-02-20T08:00")
    second = export(dst, *WINDOW, now="2026-03-01T17:45")
    assert first == second
    assert first.startswith(b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\n")
    # An edit (here of a template) changes the stamp and what it changed; the UIDs stay.
    template = dst.parent / "templates" / "weekly" / "en.j2"
    template.write_text(template.read_text(encoding="utf-8").replace("this week", "in the last seven days"), encoding="utf-8")
    later = datetime.now().timestamp() + 120
    os.utime(template, (later, later))
    edited = export(dst, *WINDOW)
    assert {e["DTSTAMP"].dt for e in events(edited)} == {datetime.fromtimestamp(int(later), timezone.utc)}
    assert [str(e["UID"]) for e in events(edited)] == [str(e["UID"]) for e in events(first)]
    assert "in the last seven days" in str(events(edited)[0]["DESCRIPTION"])


def test_published_posts_carry_their_link(dst):
    from campaigner.publish import meta_for
    from campaigner.render import expand
    from campaigner.runtime import session

    at = datetime(2026, 2, 23, 14, 0, tzinfo=timezone.utc)
    with session(dst, write=True) as rt:
        post = next(p for p in expand(rt.calendar, date(2026, 2, 23), date(2026, 2, 23), renderer=rt.renderer) if p.account == "ccbl_x" and p.language == "en")
        assert rt.ledger.claim(meta_for(post), run_id="r", host="h", pid=1, now=at, lease_until=at)
        rt.ledger.record_published(post.id, run_id="r", remote_id="1", url="https://x.com/ccbl/status/1", text=post.text, text_hash=post.text_hash, now=at)
    description = str(events(export(dst, *WINDOW))[0]["DESCRIPTION"])
    assert "- ccbl_x en: published https://x.com/ccbl/status/1" in description


def test_standard_output_and_account_filter(dst):
    result = run("ics", "--calendar", str(dst), "--now", "2026-02-20T08:00", "--account", "ccbl_facebook", *WINDOW)
    assert result.exit_code == 0, result.stderr
    found = events(result.stdout_bytes)
    assert len(found) == 5 and all("ccbl_x" not in str(e["DESCRIPTION"]) for e in found)


def test_the_default_window_is_a_month_back_to_a_year_ahead(dst):
    found = events(export(dst, now="2026-03-20T08:00"))
    assert [e["DTSTART"].dt.date().isoformat() for e in found] == ["2026-02-23", "2026-03-02", "2026-03-09", "2026-03-10", "2026-03-16", "2026-03-23"]


def test_bad_window_is_one_line_and_exit_2(dst):
    result = run("ics", "--calendar", str(dst), "--from", "2026-03-02", "--to", "2026-03-01")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == "--to: 2026-03-01 is before 2026-03-02: --to must not be earlier than --from\n"


@pytest.mark.parametrize("args", [["--help"], ["plan", "--now", "2026-03-01T08:00"], ["validate", "--now", "2026-03-01T08:00"]],
                         ids=["help", "plan", "validate"])
def test_the_views_libraries_stay_off_the_start_up_paths(dst, tmp_path, args):
    code, modules, stderr = imported_modules(args, dst, tmp_path)
    assert code == 0, stderr
    assert [m for m in modules if m.split(".")[0] == "icalendar" or m.startswith("campaigner.views")] == []
