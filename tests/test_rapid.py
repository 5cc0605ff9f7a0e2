"""`condemn`, `praise`, `approve`, `reject`: events in rapid.yaml, written byte-exactly, published at most once."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from campaigner import rapid
from campaigner.calendar import load_calendar
from tests.conftest import ROOT
from tests.fake_platform import sends
from tests.childenv import child_env

runner = CliRunner()
NOW = "2026-11-30T14:05:33"  # local campaign time (Asia/Phnom_Penh)
REPORT = "https://www.hrw.org/news/2026/11/30/cluster-munitions-used"


@pytest.fixture
def cal(fixture_calendar, tmp_path, monkeypatch):
    import tests.fake_platform  # noqa: F401  registers the platform in this process

    path = fixture_calendar("rapid")
    monkeypatch.setenv("CAMPAIGNER_ALPHA_TOKEN", "alpha-secret-token")
    monkeypatch.setenv("CAMPAIGNER_BETA_TOKEN", "beta-secret-token")
    monkeypatch.setenv("FAKE_SENT", str(tmp_path / "sent.jsonl"))
    return path


def invoke(*args: str):
    return runner.invoke(app(), list(args))


def app():
    from campaigner.cli import app as the_app

    return the_app


def condemn(cal: Path, *extra: str, report: str = REPORT, now: str = NOW):
    return invoke("condemn", "--report", report, "--source", "Human Rights Watch", "--calendar", str(cal), "--now", now, *extra)


def rapid_text(cal: Path) -> str:
    return (cal.parent / "rapid.yaml").read_bytes().decode("utf-8")


def event_id(report: str = REPORT, day: str = "2026-11-30", slug: str = "hrw") -> str:
    return f"condemn-{day}-{slug}-{rapid.short_hash(report)}"


# ---------------------------------------------------------------- ids


@pytest.mark.parametrize("name, slug", [
    ("Human Rights Watch", "hrw"), ("Amnesty International", "amnesty"), ("ICRC", "icrc"), ("MSF", "msf"),
    ("Médecins Sans Frontières", "msf"), ("ICBL-CMC", "icbl-cmc"), ("Human Rights Watch (HRW)", "hrw"),
    ("The Phnom Penh Post", "the-phnom-penh-post"), ("Landmine and Cluster Munition Monitor", "monitor"),
])
def test_source_slugs_are_short_and_readable(name, slug):
    assert rapid.source_slug(name) == slug


def test_a_khmer_only_source_still_gets_a_valid_id():
    slug = rapid.source_slug("វិទ្យុអាស៊ីសេរី")
    assert slug.startswith("src-") and slug.replace("-", "").isalnum()


def test_condemn_writes_one_readable_event_and_prints_every_post(cal):
    result = condemn(cal, "--weapon", "cluster munitions", "--where", "in Kharkiv", "--title", "Cluster munitions used again", "--reviewer", "sokha")
    assert result.exit_code == 0, result.output
    eid = event_id()
    assert eid == "condemn-2026-11-30-hrw-" + rapid.short_hash(REPORT) and len(rapid.short_hash(REPORT)) == 6
    text = rapid_text(cal)
    assert text.startswith("# Rapid-response events")  # a new file gets a header saying what it is
    doc = yaml.safe_load(text)
    assert doc["events"] == [{
        "id": eid, "kind": "condemnation", "date": date(2026, 11, 30), "time": "14:05", "goal": "no-new-use", "link": REPORT,
        "vars": {"source": "Human Rights Watch", "report": REPORT, "weapon": "cluster munitions", "where": "in Kharkiv",
                 "title": "Cluster munitions used again"},
        # condemnation needs approval in this campaign, and the person running condemn is the reviewer
        "approved_by": "sokha", "approved_at": "2026-11-30T14:05:33+07:00",
    }]
    assert f"added {eid} to " in result.stdout and "approved by sokha" in result.stdout
    for post_id in (f"{eid}/2026-11-30/alpha/km", f"{eid}/2026-11-30/alpha/en", f"{eid}/2026-11-30/beta/en"):
        assert post_id in result.stdout
    assert "/500" in result.stdout  # lengths against the platform's limit
    assert "Human Rights Watch reports the use of cluster munitions in Kharkiv." in result.stdout
    assert "បានរាយការណ៍អំពីការប្រើប្រាស់គ្រាប់បែកចង្កោម" in result.stdout
    cal_obj = load_calendar(cal)
    e = cal_obj.event(eid)
    assert not e.draft and e.file.name == "rapid.yaml" and e.accounts == ("alpha", "beta")


def test_the_same_report_twice_is_one_event_even_on_another_day(cal):
    assert condemn(cal).exit_code == 0
    before = rapid_text(cal)
    again = condemn(cal, now="2026-12-01T08:00")
    assert again.exit_code == 0
    assert f"{event_id()} already exists" in again.stdout
    assert rapid_text(cal) == before


def test_draft_writes_draft_true_and_is_not_approved(cal):
    result = condemn(cal, "--draft")
    assert result.exit_code == 0, result.output
    entry = yaml.safe_load(rapid_text(cal))["events"][0]
    assert entry["draft"] is True and "approved_by" not in entry
    assert f"campaigner approve {event_id()}" in result.stdout


def test_praise_is_due_now_with_joined_as_a_variable(cal):
    result = invoke("praise", "Vanuatu", "--joined", "2025-09-05", "--as-party-number", "112", "--country-km", "វានូអាទូ",
                    "--calendar", str(cal), "--now", NOW)
    assert result.exit_code == 0, result.output
    entry = yaml.safe_load(rapid_text(cal))["events"][0]
    assert entry == {"id": "praise-2026-11-30-vanuatu", "kind": "accession", "date": date(2026, 11, 30), "time": "14:05",
                     "goal": "universalization",
                     "vars": {"country": "Vanuatu", "joined": date(2025, 9, 5), "treaty": "ccm", "party_number": 112, "country_km": "វានូអាទូ"}}
    assert "Welcome, Vanuatu! It joined the Convention on Cluster Munitions on 5 September 2025, its 112th State Party." in result.stdout
    assert "សូមស្វាគមន៍ វានូអាទូ!" in result.stdout
    # accession needs no approval here, so nothing about a reviewer is written
    assert "approved_by" not in rapid_text(cal)
    bad = invoke("praise", "Vanuatu", "--joined", "5 Sept", "--calendar", str(cal))
    assert bad.exit_code == 2 and "--joined" in bad.stderr
    treaty = invoke("praise", "Vanuatu", "--joined", "2025-09-05", "--treaty", "ottawa", "--calendar", str(cal))
    assert treaty.exit_code == 2 and "ccm or mine-ban" in treaty.stderr


def test_long_country_names_keep_their_whole_slug():
    assert rapid.slugify("Saint Vincent and the Grenadines") == "saint-vincent-and-the-grenadines"
    assert rapid.slugify("Côte d'Ivoire") == "cote-d-ivoire"


def test_dry_run_writes_nothing(cal):
    result = condemn(cal, "--dry-run")
    assert result.exit_code == 0, result.output
    assert f"dry run: would add {event_id()} to rapid/rapid.yaml" in result.stdout and "Human Rights Watch reports" in result.stdout
    assert not (cal.parent / "rapid.yaml").exists() and not (cal.parent / "rapid.yaml.lock").exists()


def test_a_post_that_does_not_render_or_fit_leaves_rapid_yaml_unchanged(cal):
    assert condemn(cal, report="https://example.org/first").exit_code == 0
    before = rapid_text(cal)
    too_long = condemn(cal, "--title", "x" * 600, report="https://example.org/second")
    assert too_long.exit_code == 2
    assert "500 characters" in too_long.stderr or "/500" in too_long.stderr
    assert rapid_text(cal) == before
    (cal.parent / "templates" / "condemnation" / "km.j2").write_text("{{ vars.missing_thing }}\n", encoding="utf-8")
    broken = condemn(cal, report="https://example.org/third")
    assert broken.exit_code == 2
    assert "missing_thing" in broken.stderr and "templates/condemnation/km.j2" in broken.stderr
    assert "campaigner-rapid-" not in broken.stderr  # problems point at the real files, not the shadow folder
    assert rapid_text(cal) == before
    assert sorted(p.name for p in cal.parent.iterdir() if p.name.startswith(".rapid")) == []  # no temp files left


def test_condemn_post_publishes_once_through_the_engine(cal, tmp_path):
    first = condemn(cal, "--post")
    assert first.exit_code == 0, first.output
    keys = sorted(s["key"] for s in sends(tmp_path / "sent.jsonl"))
    eid = event_id()
    assert keys == [f"{eid}/2026-11-30/alpha/en", f"{eid}/2026-11-30/alpha/km", f"{eid}/2026-11-30/beta/en"]
    assert f"published {eid}/2026-11-30/alpha/km" in first.stdout
    again = condemn(cal, "--post", now="2026-11-30T14:20")
    assert again.exit_code == 0, again.output
    assert "already exists" in again.stdout
    assert len(sends(tmp_path / "sent.jsonl")) == 3  # the ledger's claims stop a second send
    post = invoke("post", "--calendar", str(cal), "--now", "2026-11-30T14:30")
    assert post.exit_code == 0
    assert len([s for s in sends(tmp_path / "sent.jsonl") if s["key"].startswith(eid)]) == 3


def test_condemn_post_checks_credentials_before_writing(cal, monkeypatch):
    monkeypatch.delenv("CAMPAIGNER_BETA_TOKEN")
    result = condemn(cal, "--post")
    assert result.exit_code == 2 and "CAMPAIGNER_BETA_TOKEN" in result.stderr
    assert not (cal.parent / "rapid.yaml").exists()
    contradiction = condemn(cal, "--post", "--draft")
    assert contradiction.exit_code == 2 and "contradict" in contradiction.stderr


def test_a_draft_waits_for_approval_then_goes_out_exactly_once(cal, tmp_path):
    assert condemn(cal, "--draft").exit_code == 0
    eid = event_id()
    held = invoke("post", "--calendar", str(cal), "--now", "2026-11-30T14:10")
    assert held.exit_code == 0 and sends(tmp_path / "sent.jsonl") == []
    plan = invoke("plan", "--calendar", str(cal), "--now", "2026-11-30T08:00", "--days", "1", "--json")
    states = {p["id"]: (p["status"], p["draft"]) for p in __import__("json").loads(plan.stdout)}
    assert states[f"{eid}/2026-11-30/alpha/en"] == ("skipped", True)

    # Approved long after its grace: it becomes due now, so it is not missed.
    ok = invoke("approve", eid, "--by", "dara", "--calendar", str(cal), "--now", "2026-12-01T10:30:20")
    assert ok.exit_code == 0, ok.output
    assert "now due 2026-12-01 10:30" in ok.stdout
    entry = yaml.safe_load(rapid_text(cal))["events"][0]
    assert entry["date"] == date(2026, 12, 1) and entry["time"] == "10:30" and "draft" not in entry
    assert entry["approved_by"] == "dara" and entry["approved_at"] == "2026-12-01T10:30:20+07:00"
    out = invoke("post", "--calendar", str(cal), "--now", "2026-12-01T10:35")
    assert out.exit_code == 0, out.output
    assert sorted(s["key"] for s in sends(tmp_path / "sent.jsonl")) == [
        f"{eid}/2026-12-01/alpha/en", f"{eid}/2026-12-01/alpha/km", f"{eid}/2026-12-01/beta/en"]
    invoke("post", "--calendar", str(cal), "--now", "2026-12-01T10:40")
    assert len(sends(tmp_path / "sent.jsonl")) == 3
    again = invoke("approve", eid, "--calendar", str(cal), "--now", "2026-12-01T11:00")
    assert again.exit_code == 0 and "already approved by dara" in again.stdout


def test_reject_keeps_an_audit_trail_and_never_publishes(cal, tmp_path):
    assert condemn(cal, "--draft").exit_code == 0
    eid = event_id()
    result = invoke("reject", eid, "--by", "dara", "--calendar", str(cal), "--now", "2026-11-30T14:06")
    assert result.exit_code == 0, result.output
    entry = yaml.safe_load(rapid_text(cal))["events"][0]
    assert entry["draft"] is True and entry["rejected_by"] == "dara" and entry["rejected_at"] == "2026-11-30T14:06:00+07:00"
    # Even a hand edit to draft: false does not release a rejected event.
    path = cal.parent / "rapid.yaml"
    path.write_text(rapid_text(cal).replace("draft: true", "draft: false"), encoding="utf-8")
    assert invoke("post", "--calendar", str(cal), "--now", "2026-11-30T14:10").exit_code == 0
    assert sends(tmp_path / "sent.jsonl") == []
    # A person may change their mind: approve removes the rejection.
    ok = invoke("approve", eid, "--by", "sokha", "--calendar", str(cal), "--now", "2026-11-30T15:00")
    assert ok.exit_code == 0, ok.output
    assert "had been rejected by dara" in ok.stdout
    entry = yaml.safe_load(rapid_text(cal))["events"][0]
    assert "rejected_by" not in entry and "rejected_at" not in entry and "draft" not in entry and entry["approved_by"] == "sokha"


def test_approve_and_reject_never_touch_calendar_yaml(cal):
    before = cal.read_bytes()
    for command in ("approve", "reject"):
        result = invoke(command, "old-report", "--calendar", str(cal))
        assert result.exit_code == 2
        assert "never rewrites" in result.stderr and "calendar.yaml" in result.stderr
    assert cal.read_bytes() == before
    unknown = invoke("approve", "old-reprt", "--calendar", str(cal))
    assert unknown.exit_code == 2 and "did you mean 'old-report'" in unknown.stderr


# ---------------------------------------------------------------- byte-exact editing

HAND_WRITTEN = """\
# Kept by hand as well as by campaigner: every comment here must survive.
events:
  # approved by hand
  - id: praise-2026-11-01-chile
    kind: accession
    date: 2026-11-01
    vars: {country: Chile, joined: 2026-10-01, treaty: ccm}   # inline comment

  - id: condemn-2026-11-30-hrw-abc123
    kind: condemnation
    date: 2026-11-30
    time: "14:05"
    link: https://www.hrw.org/r
    vars:
      source: Human Rights Watch
      report: https://www.hrw.org/r
    draft: true
    # a comment after the entry's last key

  - {id: condemn-2026-11-29-amnesty-def456, kind: condemnation, date: 2026-11-29, link: "https://amnesty.example/r", vars: {source: Amnesty, report: "https://amnesty.example/r"}, draft: true}
# end of file
"""


def test_approve_edits_only_the_lines_of_its_entry(cal):
    path = cal.parent / "rapid.yaml"
    path.write_bytes(HAND_WRITTEN.encode())
    result = invoke("approve", "condemn-2026-11-30-hrw-abc123", "--by", "dara", "--calendar", str(cal), "--now", "2026-11-30T15:00:10")
    assert result.exit_code == 0, result.output
    expected = HAND_WRITTEN.replace(
        '    time: "14:05"\n', '    time: "15:00"\n').replace(
        "      report: https://www.hrw.org/r\n    draft: true\n",
        "      report: https://www.hrw.org/r\n    approved_by: dara\n    approved_at: '2026-11-30T15:00:10+07:00'\n")
    assert path.read_bytes().decode() == expected


def test_approve_a_flow_style_entry_keeps_its_one_line(cal):
    path = cal.parent / "rapid.yaml"
    path.write_bytes(HAND_WRITTEN.encode())
    result = invoke("approve", "condemn-2026-11-29-amnesty-def456", "--by", "dara", "--calendar", str(cal), "--now", "2026-11-30T15:00:10")
    assert result.exit_code == 0, result.output
    expected = HAND_WRITTEN.replace(
        '  - {id: condemn-2026-11-29-amnesty-def456, kind: condemnation, date: 2026-11-29, link: "https://amnesty.example/r", vars: {source: Amnesty, report: "https://amnesty.example/r"}, draft: true}\n',
        '  - {id: condemn-2026-11-29-amnesty-def456, kind: condemnation, date: 2026-11-30, link: "https://amnesty.example/r", vars: {source: Amnesty, report: "https://amnesty.example/r"}, '
        "draft: false, approved_by: dara, approved_at: '2026-11-30T15:00:10+07:00', time: \"15:00\"}\n")
    assert path.read_bytes().decode() == expected
    assert load_calendar(cal).event("condemn-2026-11-29-amnesty-def456").draft is False


def test_reject_adds_lines_inside_its_entry_only(cal):
    path = cal.parent / "rapid.yaml"
    text = HAND_WRITTEN.replace("    draft: true\n    # a comment", "    # a comment")
    path.write_bytes(text.encode())
    result = invoke("reject", "condemn-2026-11-30-hrw-abc123", "--by", "dara", "--calendar", str(cal), "--now", "2026-11-30T15:00")
    assert result.exit_code == 0, result.output
    expected = text.replace(
        "      report: https://www.hrw.org/r\n",
        "      report: https://www.hrw.org/r\n    draft: true\n    rejected_by: dara\n    rejected_at: '2026-11-30T15:00:00+07:00'\n")
    assert path.read_bytes().decode() == expected


def test_appending_keeps_every_existing_byte(cal):
    path = cal.parent / "rapid.yaml"
    path.write_bytes(HAND_WRITTEN.encode())
    result = condemn(cal, "--draft")
    assert result.exit_code == 0, result.output
    new = path.read_bytes().decode()
    assert new.startswith(HAND_WRITTEN)
    added = new[len(HAND_WRITTEN):]
    assert added.startswith("\n  - id: condemn-2026-11-30-hrw-")
    assert [e["id"] for e in yaml.safe_load(new)["events"]][-1] == event_id()


@pytest.mark.parametrize("text, expected_prefix", [
    ("", rapid.HEADER + "events:\n  - id: "),
    ("# only a comment", "# only a comment\nevents:\n  - id: "),
    ("events: []\n", "events:\n  - id: "),
    ("events:\n", "events:\n  - id: "),
    ("events:\n- id: a\n  kind: note\n  date: 2026-11-02\n", "events:\n- id: a\n  kind: note\n  date: 2026-11-02\n\n- id: "),
    ("events:\r\n  - id: a\r\n    kind: note\r\n    date: 2026-11-02", "events:\r\n  - id: a\r\n    kind: note\r\n    date: 2026-11-02\r\n\r\n  - id: "),
])
def test_append_entry_fits_the_file_as_written(text, expected_prefix):
    entry = {"id": "b", "kind": "note", "date": date(2026, 11, 3), "time": rapid.Quoted("09:05"), "vars": {"t": "ក"}}
    out = rapid.append_entry(text, entry)
    assert out.startswith(expected_prefix), out
    events = yaml.safe_load(out)["events"]
    assert events[-1] == {"id": "b", "kind": "note", "date": date(2026, 11, 3), "time": "09:05", "vars": {"t": "ក"}}
    assert '"09:05"' in out and "ក" in out  # times quoted, Khmer written as itself


def test_append_entry_refuses_what_it_cannot_extend_safely():
    from campaigner.errors import ConfigError

    with pytest.raises(ConfigError, match="block list"):
        rapid.append_entry("events: [{id: a, kind: note, date: 2026-11-02}]\n", {"id": "b"})


# ---------------------------------------------------------------- concurrency


def test_concurrent_writers_all_land(cal, tmp_path):
    env = child_env()
    env.update(CAMPAIGNER_PLUGINS="tests.fake_platform", PYTHONPATH=str(ROOT))
    procs = [subprocess.Popen([sys.executable, "-m", "campaigner", "condemn", "--report", f"https://example.org/r{i}", "--source", "ICRC",
                               "--draft", "--calendar", str(cal), "--now", NOW], env=env, cwd=tmp_path,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in range(5)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0] * 5, outs
    ids = [e.id for e in load_calendar(cal).events if e.file.name == "rapid.yaml"]
    assert sorted(ids) == sorted(f"condemn-2026-11-30-icrc-{rapid.short_hash(f'https://example.org/r{i}')}" for i in range(5))


def test_the_lock_is_exclusive(tmp_path):
    from campaigner.errors import ConfigError

    path = tmp_path / "rapid.yaml"
    with rapid.locked(path):
        with pytest.raises(ConfigError, match="locked by another campaigner"):
            with rapid.locked(path, timeout=0.2):
                pass
    with rapid.locked(path, timeout=0.2):
        pass


def test_review_marks_by_kind(cal):
    c = load_calendar(cal)
    now = datetime(2026, 11, 30, 7, 5, tzinfo=timezone.utc)
    entry = rapid.condemnation_entry(c, now, report=REPORT, source="HRW")
    assert rapid.review(entry, c, draft=False, who="a", now=now)["approved_by"] == "a"
    assert rapid.review(entry, c, draft=True, who="a", now=now)["draft"] is True
    praise = rapid.accession_entry(c, now, country="Chile", joined=date(2026, 1, 1))
    assert "approved_by" not in rapid.review(praise, c, draft=False, who="a", now=now)


# ---------------------------------------------------------------- review after publication (issue: sent twice)


def test_reject_then_approve_never_republishes_what_is_out(cal, tmp_path):
    assert condemn(cal, "--post", "--reviewer", "sokha").exit_code == 0
    eid = event_id()
    assert len(sends(tmp_path / "sent.jsonl")) == 3
    rejected = invoke("reject", eid, "--by", "dara", "--calendar", str(cal), "--now", "2026-11-30T15:00")
    assert rejected.exit_code == 0, rejected.output
    assert "cannot unpublish" in rejected.stdout and "already published before the rejection" in rejected.stderr
    entry = yaml.safe_load(rapid_text(cal))["events"][0]
    assert entry["rejected_by"] == "dara" and "draft" not in entry  # the rejection is recorded; not made a draft again
    approved = invoke("approve", eid, "--by", "sokha", "--calendar", str(cal), "--now", "2026-12-01T09:00")
    assert approved.exit_code == 0, approved.output
    assert "its date is kept" in approved.stdout and "now due" not in approved.stdout
    entry = yaml.safe_load(rapid_text(cal))["events"][0]
    assert entry["date"] == date(2026, 11, 30) and entry["time"] == "14:05"  # same date: same post ids
    for moment in ("2026-12-01T09:05", "2026-12-01T09:10"):
        assert invoke("post", "--calendar", str(cal), "--now", moment).exit_code in (0, 1)
    assert len(sends(tmp_path / "sent.jsonl")) == 3  # nothing went out again


def test_approving_within_the_due_minute_does_not_claim_to_redate(cal):
    assert condemn(cal, "--draft", now="2026-11-30T13:19:05").exit_code == 0
    eid = event_id()
    ok = invoke("approve", eid, "--by", "dara", "--calendar", str(cal), "--now", "2026-11-30T13:19:40")
    assert ok.exit_code == 0, ok.output
    assert "had passed" not in ok.stdout and "due 2026-11-30 13:19" in ok.stdout


def test_rejected_events_show_as_rejected_and_condemn_says_so(cal):
    assert condemn(cal, "--draft").exit_code == 0
    eid = event_id()
    assert invoke("reject", eid, "--by", "dara", "--calendar", str(cal), "--now", "2026-11-30T14:06").exit_code == 0
    table = invoke("plan", "--calendar", str(cal), "--from", "2026-11-30", "--to", "2026-11-30", "--now", "2026-11-30T14:07")
    assert "rejected" in table.stdout and " draft " not in table.stdout
    rows = [json.loads(line.rstrip(",")) for line in invoke("plan", "--calendar", str(cal), "--from", "2026-11-30", "--to", "2026-11-30",
                                                               "--now", "2026-11-30T14:07", "--json").stdout.splitlines() if line.startswith("{")]
    assert {r["status"] for r in rows if r["event"] == eid} == {"rejected"}
    again = condemn(cal, now="2026-11-30T16:00")
    assert again.exit_code == 0 and "rejected by dara" in again.stdout and "a draft" not in again.stdout


def test_the_approval_hint_for_calendar_yaml_names_an_edit_that_works(cal):
    text = cal.read_text(encoding="utf-8").replace("    draft: true\n    link: https://monitor.example", "    link: https://monitor.example")
    cal.write_text(text, encoding="utf-8")
    result = invoke("validate", "--calendar", str(cal))
    assert "old-report" in result.stderr and "add approved_by: NAME to it in calendar.yaml" in result.stderr
    assert "campaigner approve old-report" not in result.stderr


def test_condemn_post_says_it_publishes_now(cal):
    result = condemn(cal, "--post", "--reviewer", "sokha")
    assert result.exit_code == 0 and "publishing it now" in result.stdout and "the next 'campaigner post'" not in result.stdout


def test_a_report_that_is_not_one_url_is_refused_at_the_option(cal):
    for bad in ("https://exa mple.org/r", "https://example.org/a\nb", "www.example.org"):
        result = condemn(cal, report=bad)
        assert result.exit_code == 2, result.output
        assert result.output.startswith("--report: ") and "is not an http(s) URL" in result.output
        assert "Traceback" not in result.output and not (cal.parent / "rapid.yaml").exists()


def test_problems_in_the_entry_to_be_added_are_told_without_a_line_that_does_not_exist(cal):
    """The checks load rapid.yaml as it would be; a problem in the new entry has no line on disk."""
    from campaigner.errors import ConfigError

    calendar = load_calendar(cal)
    due = datetime(2026, 11, 30, 14, 5, tzinfo=calendar.campaign.tz)
    entry = rapid.condemnation_entry(calendar, due, report=REPORT, source="HRW", weapon=None, weapon_km=None, where=None, by=None, title=None)
    entry["link"] = "not a link"
    with pytest.raises(ConfigError) as caught:
        rapid.add_event(cal, entry)
    [problem] = [p for p in caught.value.problems if p.severity == "error"]
    text = str(problem)
    assert text.startswith(f"campaigner: the new event '{entry['id']}' (nothing was written to "), text
    assert "is not an http(s) URL" in text and "campaigner-rapid-" not in text
    assert not (cal.parent / "rapid.yaml").exists()
