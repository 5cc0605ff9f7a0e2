"""The shared PostgreSQL ledger through the CLI: many hosts and campaigns, outages, roles, copying (issue 13).

Runs against the real server on 127.0.0.1:5432 (trust authentication) in throwaway databases;
skips with the reason when none is reachable, except under CI=true (tests/ledger_backends.py).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from typer.testing import CliRunner

from campaigner.cli import app
from tests import ledger_backends
from tests.childenv import child_env
from tests.conftest import ROOT
from tests.fake_platform import FakeAdapter, sends
from tests.ledger_backends import PG_ADMIN, require_pg

fresh_pg_database = ledger_backends.fresh_pg_database  # the fixture
runner = CliRunner()
MORNING = "2026-12-03T09:05:00+07:00"


def invoke(*args: str, **env: str):
    return runner.invoke(app, list(args), env=env or None)


def with_password(url: str, password: str = "s3cret-Pa55") -> str:
    """The same URL with a password in it (trust authentication ignores it): it must never be printed."""
    return url.replace("postgresql://postgres@", f"postgresql://postgres:{password}@", 1)


def masked(url: str) -> str:
    return url.replace("postgresql://postgres@", "postgresql://postgres:***@", 1)


def admin(sql: str, db: str | None = None) -> list[tuple]:
    import psycopg

    url = PG_ADMIN if db is None else db
    with psycopg.connect(url, autocommit=True) as conn:
        cur = conn.execute(sql)
        return cur.fetchall() if cur.description else []


@pytest.fixture
def cal(fixture_calendar, tmp_path, monkeypatch):
    import tests.fake_platform  # noqa: F401  registers the platform in this process

    path = fixture_calendar("publish")
    monkeypatch.setenv("CAMPAIGNER_PLUGINS", "tests.fake_platform")
    monkeypatch.setenv("CAMPAIGNER_ALPHA_TOKEN", "alpha-secret-token")
    monkeypatch.setenv("CAMPAIGNER_BETA_TOKEN", "beta-secret-token")
    monkeypatch.setenv("FAKE_SENT", str(tmp_path / "sent.jsonl"))
    monkeypatch.setenv("FAKE_SCRIPT", str(tmp_path / "script.json"))
    return path


def test_hosts_publish_through_one_database_and_status_names_it_with_the_password_masked(cal, tmp_path, fresh_pg_database, monkeypatch):
    url = with_password(fresh_pg_database)
    monkeypatch.setenv("CAMPAIGNER_DB", url)
    monkeypatch.setenv("CAMPAIGNER_HOST", "vps-1")
    first = invoke("post", "--calendar", str(cal), "--now", MORNING)
    assert first.exit_code == 0, first.output
    assert "2 published" in first.stdout
    monkeypatch.setenv("CAMPAIGNER_HOST", "laptop")
    second = invoke("post", "--calendar", str(cal), "--now", "2026-12-03T09:07:00+07:00", "-v")
    assert second.exit_code == 0 and "0 published" in second.stdout
    status = invoke("status", "--calendar", str(cal), "--now", "2026-12-03T09:10:00+07:00")
    assert status.exit_code == 0, status.output
    assert f"Ledger: {masked(fresh_pg_database)}" in status.stdout
    assert "Hosts that ran in the last day: laptop (last run 2026-12-03 09:07: ok), vps-1 (last run 2026-12-03 09:05: ok)" in status.stdout
    js = json.loads(invoke("status", "--calendar", str(cal), "--now", "2026-12-03T09:10:00+07:00", "--json").stdout)
    assert js["ledger"] == masked(fresh_pg_database) and [h["host"] for h in js["hosts"]] == ["laptop", "vps-1"]
    assert js["counts"] == {"published": 2}
    for result in (first, second, status):
        assert "s3cret-Pa55" not in result.output
    assert len(sends(tmp_path / "sent.jsonl")) == 2
    assert admin("SELECT DISTINCT campaign FROM posts", fresh_pg_database) == [("publish-test",)]


def test_an_unreachable_server_is_exit_2_in_one_line_with_the_password_masked_and_nothing_sent(cal, tmp_path):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"postgresql://ccbl:hunter2-secret@127.0.0.1:{port}/ledger"
    for args in (["post"], ["plan"], ["status"], ["post", "--dry-run"]):
        result = invoke(*args, "--calendar", str(cal), "--now", MORNING, "--db", url)
        assert result.exit_code == 2, (args, result.output)
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith(f"campaigner: cannot reach the PostgreSQL ledger postgresql://ccbl:***@127.0.0.1:{port}/ledger: "), lines
        assert "hunter2-secret" not in result.output and "Traceback" not in result.output
    assert sends(tmp_path / "sent.jsonl") == []


def test_without_the_driver_a_postgresql_url_names_the_extra(cal, monkeypatch):
    from campaigner.ledger import postgres

    monkeypatch.setattr(postgres, "psycopg", None)
    result = invoke("post", "--calendar", str(cal), "--now", MORNING, "--db", "postgres://u@127.0.0.1/x")
    assert result.exit_code == 2 and "pip install 'campaigner[postgres]'" in result.stderr


def test_a_database_from_a_newer_campaigner_is_refused(cal, fresh_pg_database):
    assert invoke("ledger", "init", fresh_pg_database).exit_code == 0
    admin("INSERT INTO schema_migrations VALUES ('9999_future', 'x')", fresh_pg_database)
    result = invoke("post", "--calendar", str(cal), "--now", MORNING, "--db", fresh_pg_database)
    assert result.exit_code == 2 and "written by a newer campaigner (migration 9999_future)" in result.stderr


def test_hosts_starting_together_on_an_empty_database_create_the_schema_once(fresh_pg_database):
    from campaigner.ledger import open_ledger

    errors, barrier = [], threading.Barrier(8)

    def start():
        barrier.wait()
        try:
            open_ledger(fresh_pg_database, campaign="c").close()
        except Exception as exc:  # collected: the test reports every failure
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(admin("SELECT name, COUNT(*) FROM schema_migrations GROUP BY name", fresh_pg_database)) == [("0001_schema", 1), ("0002_run_error", 1)]


@pytest.fixture
def viewer(fresh_pg_database):
    """A role with SELECT rights only, as the README grants it to viewers."""
    name = f"viewer_{uuid.uuid4().hex[:8]}"
    admin(f"CREATE ROLE {name} LOGIN")
    dbname = fresh_pg_database.rsplit("/", 1)[1]
    admin(f'GRANT CONNECT ON DATABASE "{dbname}" TO {name}')
    yield name, fresh_pg_database.replace("postgresql://postgres@", f"postgresql://{name}@", 1)
    admin(f'REVOKE ALL ON DATABASE "{dbname}" FROM {name}')
    admin(f"DROP OWNED BY {name}", fresh_pg_database)
    admin(f"DROP ROLE {name}")


def test_read_only_commands_work_with_a_select_only_role_and_create_nothing(cal, fresh_pg_database, viewer):
    name, viewer_url = viewer
    for args in (["plan"], ["status"], ["history"], ["post", "--dry-run"]):  # no schema yet: an empty ledger, nothing created
        result = invoke(*args, "--calendar", str(cal), "--now", MORNING, "--db", viewer_url)
        assert result.exit_code == 0, (args, result.output)
    assert admin("SELECT to_regclass('posts') IS NULL", fresh_pg_database) == [(True,)]
    assert invoke("post", "--calendar", str(cal), "--now", MORNING, "--db", fresh_pg_database).exit_code == 0
    admin(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {name}", fresh_pg_database)
    for args in (["plan"], ["status"], ["history"], ["post", "--dry-run"]):
        result = invoke(*args, "--calendar", str(cal), "--now", "2026-12-03T12:05:00+07:00", "--db", viewer_url)
        assert result.exit_code == 0, (args, result.output)
    assert "published" in invoke("status", "--calendar", str(cal), "--now", MORNING, "--db", viewer_url).stdout
    refused = invoke("post", "--calendar", str(cal), "--now", "2026-12-03T12:05:00+07:00", "--db", viewer_url)
    assert refused.exit_code == 2 and "this role may not write the ledger" in refused.stderr and "nothing was sent" in refused.stderr


def test_two_campaigns_with_the_same_event_and_account_names_never_see_each_other(fixture_calendar, tmp_path, fresh_pg_database, monkeypatch):
    import tests.fake_platform  # noqa: F401

    one = fixture_calendar("publish")
    two_folder = tmp_path / "two"
    shutil.copytree(one.parent, two_folder)
    two = two_folder / "calendar.yaml"
    two.write_text(two.read_text().replace("name: Publish Test", "name: Publish Test\n  id: other-campaign"))
    monkeypatch.setenv("CAMPAIGNER_PLUGINS", "tests.fake_platform")
    monkeypatch.setenv("CAMPAIGNER_ALPHA_TOKEN", "alpha-secret-token")
    monkeypatch.setenv("CAMPAIGNER_BETA_TOKEN", "beta-secret-token")
    monkeypatch.setenv("CAMPAIGNER_DB", fresh_pg_database)
    (tmp_path / "two.json").write_text(json.dumps({"morning/2026-12-03/beta": ["permanent"]}))
    monkeypatch.setenv("FAKE_SENT", str(tmp_path / "one.jsonl"))
    assert invoke("post", "--calendar", str(one), "--now", MORNING).exit_code == 0
    monkeypatch.setenv("FAKE_SENT", str(tmp_path / "two.jsonl"))
    monkeypatch.setenv("FAKE_SCRIPT", str(tmp_path / "two.json"))
    res = invoke("post", "--calendar", str(two), "--now", MORNING)
    assert res.exit_code == 1 and "1 published, 1 failed" in res.stdout  # its own two posts, though one has the same ids
    assert sorted(s["key"] for s in sends(tmp_path / "one.jsonl")) == ["morning/2026-12-03/alpha/en", "morning/2026-12-03/beta/en"]
    assert sorted(s["key"] for s in sends(tmp_path / "two.jsonl")) == ["morning/2026-12-03/alpha/en"]  # (its beta post was refused)
    s1 = json.loads(invoke("status", "--calendar", str(one), "--now", "2026-12-03T09:10:00+07:00", "--json").stdout)
    s2 = json.loads(invoke("status", "--calendar", str(two), "--now", "2026-12-03T09:10:00+07:00", "--json").stdout)
    assert s1["counts"] == {"published": 2} and s1["failed"] == []
    assert s2["counts"] == {"published": 1, "failed": 1} and [f["id"] for f in s2["failed"]] == ["morning/2026-12-03/beta/en"]
    h1 = json.loads(invoke("history", "--calendar", str(one), "--now", "2026-12-03T10:00:00+07:00", "--json").stdout)
    h2 = json.loads(invoke("history", "--calendar", str(two), "--now", "2026-12-03T10:00:00+07:00", "--json").stdout)
    assert len(h1) == 2 and [h["id"] for h in h2] == ["morning/2026-12-03/alpha/en"]
    assert {h["url"] for h in h1}.isdisjoint({h["url"] for h in h2})
    assert invoke("post", "--calendar", str(one), "--now", "2026-12-03T09:20:00+07:00").stdout == ""  # nothing of two's to claim


def test_a_connection_cut_after_a_send_is_reconnected_once_to_record_it_and_the_run_stops(cal, tmp_path, fresh_pg_database, monkeypatch):
    monkeypatch.setenv("CAMPAIGNER_DB", fresh_pg_database)
    assert invoke("ledger", "init", fresh_pg_database).exit_code == 0
    dbname = fresh_pg_database.rsplit("/", 1)[1]
    real = FakeAdapter.publish
    cut = []

    def publish(self, message):
        receipt = real(self, message)
        if not cut:  # the server drops this run's connection while the first post is out
            cut.append(admin(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{dbname}' AND pid <> pg_backend_pid()"))
        return receipt

    monkeypatch.setattr(FakeAdapter, "publish", publish)
    result = invoke("post", "--calendar", str(cal), "--now", "2026-12-03T12:05:00+07:00", "--account", "alpha")
    assert result.exit_code == 1, result.output
    assert "lost the PostgreSQL ledger" in result.stderr and "this run stopped sending" in result.stderr
    sent = [s["key"] for s in sends(tmp_path / "sent.jsonl")]
    assert sent == ["morning/2026-12-03/alpha/en"]  # the later posts were not sent after the cut
    counts = json.loads(invoke("status", "--calendar", str(cal), "--now", "2026-12-03T12:06:00+07:00", "--json").stdout)["counts"]
    assert counts == {"published": 1, "missed": 1}  # reconnected once and recorded it (short-grace was missed before)
    monkeypatch.setattr(FakeAdapter, "publish", real)
    again = invoke("post", "--calendar", str(cal), "--now", "2026-12-03T12:07:00+07:00", "--account", "alpha")
    assert again.exit_code == 0 and "published noon/2026-12-03/alpha/en" in again.stdout
    assert [s["key"] for s in sends(tmp_path / "sent.jsonl")].count("morning/2026-12-03/alpha/en") == 1


def test_ledger_copy_moves_every_state_and_its_history_and_twice_copies_nothing_twice(cal, tmp_path, fresh_pg_database):
    from campaigner.cache import load
    from campaigner.ledger import campaign_key, default_url, open_ledger

    (tmp_path / "script.json").write_text(json.dumps({"morning/2026-12-03/beta": ["permanent"], "noon/2026-12-03/alpha": ["ambiguous"]}))
    invoke("post", "--calendar", str(cal), "--now", MORNING)
    invoke("post", "--calendar", str(cal), "--now", "2026-12-03T12:05:00+07:00")  # short-grace missed, noon/alpha unknown
    src_url = default_url(cal)
    key = campaign_key(load(cal)[0].campaign)
    src = open_ledger(src_url, readonly=True, campaign=key).dump()
    assert {p.state for p in src.posts} == {"published", "failed", "unknown", "missed"}
    first = invoke("ledger", "copy", "--from", src_url, "--to", with_password(fresh_pg_database), "--calendar", str(cal))
    assert first.exit_code == 0, first.output
    assert first.stdout.startswith(f"copied campaign {key} from {src_url} to {masked(fresh_pg_database)}: {len(src.posts)} post(s), {len(src.log)} history line(s), {len(src.runs)} run(s)")
    dst = open_ledger(fresh_pg_database, readonly=True, campaign=key).dump()
    assert [(p.id, p.state, p.url, p.error, p.attempts, p.updated_at) for p in dst.posts] == [(p.id, p.state, p.url, p.error, p.attempts, p.updated_at) for p in src.posts]
    assert dst.log == src.log and dst.runs == src.runs
    second = invoke("ledger", "copy", "--from", src_url, "--to", fresh_pg_database, "--campaign", key)
    assert second.exit_code == 0
    assert f": 0 post(s), 0 history line(s), 0 run(s), 0 feed item(s), 0 feed state(s); {len(src.posts)} post(s) were already there in the same state" in second.stdout
    assert open_ledger(fresh_pg_database, readonly=True, campaign=key).dump().log == src.log
    # The copy is the ledger now: the same calendar on PostgreSQL sends nothing that went out.
    sent_before = len(sends(tmp_path / "sent.jsonl"))
    again = invoke("post", "--calendar", str(cal), "--now", "2026-12-03T12:10:00+07:00", "--db", fresh_pg_database)
    assert again.stdout == "" and len(sends(tmp_path / "sent.jsonl")) == sent_before
    # A post that moved on in the target is not overwritten: the copy refuses, naming it, and writes nothing.
    invoke("resolve", "noon/2026-12-03/alpha/en", "--published", "https://fake.example/alpha/9", "--calendar", str(cal), "--db", fresh_pg_database)
    clash = invoke("ledger", "copy", "--from", src_url, "--to", fresh_pg_database, "--campaign", key)
    assert clash.exit_code == 2 and "post noon/2026-12-03/alpha/en: unknown in the source, published here" in clash.stderr


# ---------------------------------------------------------------- many processes, many hosts


def _env(tmp_path: Path, db: str, **extra: str) -> dict[str, str]:
    return child_env(CAMPAIGNER_PLUGINS="tests.fake_platform", PYTHONPATH=str(ROOT), FAKE_SENT=str(tmp_path / "sent.jsonl"),
                     FAKE_SCRIPT=str(tmp_path / "script.json"), CAMPAIGNER_ALPHA_TOKEN="a-token", CAMPAIGNER_BETA_TOKEN="b-token",
                     CAMPAIGNER_GAMMA_TOKEN="c-token", CAMPAIGNER_DB=db, **extra)


def _spawn(cal: Path, env: dict, *extra: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "campaigner", "post", "--calendar", str(cal), *extra],
                            env=env, cwd=cal.parent, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _many_posts_calendar(folder: Path, events: int) -> Path:
    (folder / "templates" / "note").mkdir(parents=True)
    (folder / "templates" / "note" / "en.j2").write_text("Post {{ event.id }} for {{ account.name }}.\n")
    lines = ["campaign: {name: Many Hosts, timezone: Asia/Phnom_Penh, languages: [en]}",
             "accounts: {alpha: {platform: fake}, beta: {platform: fake}, gamma: {platform: fake}}", "events:"]
    lines += [f"  - {{id: e{i:03d}, kind: note, date: 2026-12-03, time: \"09:{i % 50:02d}\"}}" for i in range(events)]
    (folder / "calendar.yaml").write_text("\n".join(lines) + "\n")
    return folder / "calendar.yaml"


@pytest.mark.slow
def test_eight_hosts_at_once_send_each_of_hundreds_of_posts_exactly_once(tmp_path):
    require_pg()
    for round_ in range(2):
        db = ledger_backends.create_database()
        try:
            folder = tmp_path / f"round{round_}"
            cal = _many_posts_calendar(folder / "cal", 100)  # 300 due posts over 3 accounts
            procs = [_spawn(cal, _env(folder, db, CAMPAIGNER_HOST=f"host-{i}", FAKE_DELAY="0.002"), "--now", "2026-12-03T10:00:00+07:00")
                     for i in range(8)]
            outputs = [p.communicate(timeout=180) for p in procs]
            assert [p.returncode for p in procs] == [0] * 8, [err[-500:] for _, err in outputs]
            keys = [s["key"] for s in sends(folder / "sent.jsonl")]
            assert len(keys) == 300 and len(set(keys)) == 300, f"duplicates: {sorted({k for k in keys if keys.count(k) > 1})}"
            assert admin("SELECT state, COUNT(*) FROM posts GROUP BY state", db) == [("published", 300)]
            hosts = admin("SELECT COUNT(DISTINCT host) FROM runs", db)[0][0]
            assert hosts == 8
        finally:
            ledger_backends.drop_database(db)


@pytest.mark.slow
def test_sigkill_between_claim_and_record_is_unknown_for_every_host_and_never_resent(fixture_calendar, tmp_path, fresh_pg_database):
    cal = fixture_calendar("publish")
    (tmp_path / "script.json").write_text(json.dumps({"morning/2026-12-03/alpha": ["hang"]}))
    here, there = _env(tmp_path, fresh_pg_database, CAMPAIGNER_HOST="host-a"), _env(tmp_path, fresh_pg_database, CAMPAIGNER_HOST="host-b")
    assert invoke("ledger", "init", fresh_pg_database).exit_code == 0
    proc = _spawn(cal, here, "--now", MORNING)
    deadline = time.time() + 60
    while time.time() < deadline and not any(s["what"] == "hang" for s in sends(tmp_path / "sent.jsonl")):
        time.sleep(0.05)
    assert any(s["what"] == "hang" for s in sends(tmp_path / "sent.jsonl")), "the adapter never started sending"
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    # Another host, within the lease: the claim is not its to judge; it sends nothing of it.
    other = _spawn(cal, there, "--now", "2026-12-03T09:07:00+07:00", "--json")
    out, err = other.communicate(timeout=60)
    assert "morning/2026-12-03/alpha/en" not in {r["id"] for r in json.loads(out or "[]")}, err
    # Past the lease (10 minutes), that host reports it unknown, without sending it.
    late = _spawn(cal, there, "--now", "2026-12-03T09:16:00+07:00", "--json")
    out, err = late.communicate(timeout=60)
    rows = {r["id"]: r for r in json.loads(out)}
    assert rows["morning/2026-12-03/alpha/en"]["status"] == "unknown" and "did not finish within its lease" in rows["morning/2026-12-03/alpha/en"]["error"]
    mine = _spawn(cal, here, "--now", "2026-12-03T09:17:00+07:00")
    mine.communicate(timeout=60)
    keys = [s["key"] for s in sends(tmp_path / "sent.jsonl")]
    assert keys.count("morning/2026-12-03/alpha/en") == 1  # the one that hung, never again


def test_a_claim_by_a_dead_process_on_this_host_is_unknown_at_once(fixture_calendar, tmp_path, fresh_pg_database):
    from campaigner.cache import load
    from campaigner.ledger import PostMeta, campaign_key, open_ledger

    cal = fixture_calendar("publish")
    key = campaign_key(load(cal)[0].campaign)
    led = open_ledger(fresh_pg_database, campaign=key)
    from datetime import datetime, timedelta, timezone

    now = datetime(2026, 12, 3, 2, 4, tzinfo=timezone.utc)
    led.claim(PostMeta("morning/2026-12-03/alpha/en", "morning", "alpha", "fake", "en", now), run_id="gone", host="host-a", pid=2**22 + 7,
              now=now, lease_until=now + timedelta(minutes=10))
    led.close()
    out, err = _spawn(cal, _env(tmp_path, fresh_pg_database, CAMPAIGNER_HOST="host-a"), "--now", MORNING, "--json").communicate(timeout=60)
    rows = {r["id"]: r for r in json.loads(out)}
    assert rows["morning/2026-12-03/alpha/en"]["status"] == "unknown" and "ended before recording" in rows["morning/2026-12-03/alpha/en"]["error"]
    assert "morning/2026-12-03/alpha/en" not in [s["key"] for s in sends(tmp_path / "sent.jsonl")]


# ---------------------------------------------------------------- the server stopped mid-run (a private instance)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def private_server(tmp_path):
    """A PostgreSQL instance of this test's own (initdb in a temp folder), to stop and start at will."""
    require_pg()
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if not initdb or not pg_ctl:
        pytest.skip("initdb / pg_ctl are not installed")
    data = Path(f"/tmp/campaigner-pg-{uuid.uuid4().hex[:8]}")
    data.mkdir()
    as_user: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        shutil.chown(data, "postgres", "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    port = _free_port()
    subprocess.run([*as_user, initdb, "-D", str(data / "db"), "-A", "trust", "-U", "postgres"], check=True, capture_output=True)
    ctl = [*as_user, pg_ctl, "-D", str(data / "db"), "-l", str(data / "log"), "-w", "-o", f"-p {port} -k {data} -c listen_addresses=127.0.0.1"]

    class Server:
        url = f"postgresql://postgres@127.0.0.1:{port}/postgres"

        def start(self):
            subprocess.run([*ctl, "start"], check=True, capture_output=True)

        def stop(self):
            subprocess.run([*ctl, "-m", "immediate", "stop"], check=True, capture_output=True)

    server = Server()
    server.start()
    yield server
    subprocess.run([*ctl, "-m", "immediate", "stop"], capture_output=True)
    shutil.rmtree(data, ignore_errors=True)


@pytest.mark.slow
def test_the_server_stopped_mid_run_loses_nothing_and_sends_nothing_twice(cal, tmp_path, private_server, monkeypatch):
    url = with_password(private_server.url)
    monkeypatch.setenv("CAMPAIGNER_DB", url)
    monkeypatch.setenv("CAMPAIGNER_LEDGER_TIMEOUT", "2")
    assert invoke("ledger", "init", url).exit_code == 0
    real = FakeAdapter.publish
    stopped = []

    def publish(self, message):
        receipt = real(self, message)
        if not stopped:
            private_server.stop()  # while the first post is out: its result cannot be recorded
            stopped.append(message.idempotency_key)
        return receipt

    monkeypatch.setattr(FakeAdapter, "publish", publish)
    result = invoke("post", "--calendar", str(cal), "--now", "2026-12-03T12:05:00+07:00", "--account", "alpha")
    assert result.exit_code == 1, result.output
    err = result.stderr
    assert "this run stopped sending" in err and "s3cret-Pa55" not in result.output and masked(private_server.url) in err
    assert "1 post(s) went out (or may have) but could not be recorded; they show as unknown: morning/2026-12-03/alpha/en" in err
    assert [s["key"] for s in sends(tmp_path / "sent.jsonl")] == ["morning/2026-12-03/alpha/en"]
    down = invoke("post", "--calendar", str(cal), "--now", "2026-12-03T12:06:00+07:00", "--account", "alpha")
    assert down.exit_code == 2 and "cannot reach the PostgreSQL ledger" in down.stderr and "nothing was sent" in down.stderr
    private_server.start()
    monkeypatch.setattr(FakeAdapter, "publish", real)
    # Back up: the claim left by the run (this test's process, still alive) waits for its lease, then is unknown.
    after = invoke("post", "--calendar", str(cal), "--now", "2026-12-03T12:20:00+07:00", "--account", "alpha", "--json")
    rows = {r["id"]: r["status"] for r in json.loads(after.stdout)}
    assert rows["morning/2026-12-03/alpha/en"] == "unknown" and rows["noon/2026-12-03/alpha/en"] == "published"
    assert [s["key"] for s in sends(tmp_path / "sent.jsonl")].count("morning/2026-12-03/alpha/en") == 1
