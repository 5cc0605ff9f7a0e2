"""`campaigner post`, `status`, `history`, `resolve` through the CLI, and real overlapping processes."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from campaigner.cli import app
from tests.conftest import ROOT
from tests.fake_platform import sends
from tests.childenv import child_env

runner = CliRunner()
MORNING = "2026-12-03T09:05:00+07:00"


@pytest.fixture
def cal(fixture_calendar, tmp_path, monkeypatch):
    import tests.fake_platform  # noqa: F401  registers the platform in this process

    path = fixture_calendar("publish")
    monkeypatch.setenv("CAMPAIGNER_ALPHA_TOKEN", "alpha-secret-token")
    monkeypatch.setenv("CAMPAIGNER_BETA_TOKEN", "beta-secret-token")
    monkeypatch.setenv("FAKE_SENT", str(tmp_path / "sent.jsonl"))
    monkeypatch.setenv("FAKE_SCRIPT", str(tmp_path / "script.json"))
    return path


def invoke(*args: str):
    return runner.invoke(app, list(args))


def test_post_prints_a_short_summary_and_json_is_stable(cal, tmp_path):
    result = invoke("post", "--calendar", str(cal), "--now", MORNING)
    assert result.exit_code == 0, result.output
    assert "published morning/2026-12-03/alpha/en https://fake.example/alpha/" in result.stdout
    assert "2 published" in result.stdout
    again = invoke("post", "--calendar", str(cal), "--now", "2026-12-03T09:06:00+07:00")
    assert again.exit_code == 0 and again.stdout == ""  # nothing to do: silent for cron
    verbose = invoke("post", "--calendar", str(cal), "--now", "2026-12-03T09:06:00+07:00", "-v")
    assert "0 published" in verbose.stdout
    res = invoke("post", "--calendar", str(cal), "--now", "2026-12-03T12:01:00+07:00", "--json")
    rows = json.loads(res.stdout)
    assert {tuple(sorted(r)) for r in rows} == {("account", "error", "id", "remote_id", "status", "url")}
    assert sorted((r["id"], r["status"]) for r in rows) == [
        ("noon/2026-12-03/alpha/en", "published"), ("noon/2026-12-03/beta/en", "published"),
        ("short-grace/2026-12-03/alpha/en", "missed")]
    assert res.exit_code == 1  # a missed post is a problem someone should hear about


def test_failures_go_to_stderr_and_exit_1(cal, tmp_path):
    (tmp_path / "script.json").write_text(json.dumps({"morning/2026-12-03/beta": ["permanent"]}))
    result = invoke("post", "--calendar", str(cal), "--now", MORNING)
    assert result.exit_code == 1
    assert "failed morning/2026-12-03/beta/en: fake platform refused the text: policy" in result.stderr
    assert "published morning/2026-12-03/alpha/en" in result.stdout


def test_dry_run_writes_nothing_and_shows_the_wire(cal, tmp_path):
    db = cal.parent / ".campaigner" / "state.db"
    result = invoke("post", "--calendar", str(cal), "--now", MORNING, "--dry-run")
    assert result.exit_code == 0, result.output
    assert not db.parent.exists()  # the ledger was not even created
    assert "would send morning/2026-12-03/alpha/en" in result.stdout
    assert "Note 1 for alpha on 3 December 2026." in result.stdout
    assert "-> POST https://fake.example/posts" in result.stdout
    assert "held draft: held/2026-12-03/alpha/en" in result.stdout
    assert sends(tmp_path / "sent.jsonl") == []

    assert invoke("post", "--calendar", str(cal), "--now", MORNING).exit_code == 0
    files = [db, db.with_name("state.db-wal"), db.with_name("state.db-shm")]
    before = {f: (f.read_bytes(), f.stat().st_mtime_ns) for f in files if f.exists()}
    result = invoke("post", "--calendar", str(cal), "--now", "2026-12-03T16:00:00+07:00", "--dry-run", "--json")
    rows = json.loads(result.stdout)
    assert {r["id"]: r["status"] for r in rows}["short-grace/2026-12-03/alpha/en"] == "would-miss"
    assert {r["id"]: r["status"] for r in rows}["noon/2026-12-03/alpha/en"] == "would-send"
    assert [r for r in rows if r["status"] == "would-send"][0]["requests"][0]["url"] == "https://fake.example/posts"
    after = {f: (f.read_bytes(), f.stat().st_mtime_ns) for f in files if f.exists()}
    assert all(before[f] == after[f] for f in before)
    # A WAL reader (mode=ro, so that it reads a consistent snapshot while a run writes) may leave an
    # empty -wal and SQLite's shared-memory index (-shm) beside the ledger: no data, nothing written.
    assert set(after) - set(before) <= {db.with_name("state.db-wal"), db.with_name("state.db-shm")}
    assert all(after[f][0] == b"" for f in set(after) - set(before) if f.name.endswith("-wal"))


def test_status_history_and_resolve_tell_a_volunteer_what_to_do(cal, tmp_path):
    (tmp_path / "script.json").write_text(json.dumps({"morning/2026-12-03/alpha": ["ambiguous"]}))
    assert invoke("post", "--calendar", str(cal), "--now", MORNING).exit_code == 1
    status = invoke("status", "--calendar", str(cal), "--now", "2026-12-03T09:10:00+07:00")
    assert status.exit_code == 0, status.output
    out = status.stdout
    assert "1 post(s) may or may not have gone out" in out
    assert "campaigner resolve morning/2026-12-03/alpha/en --published URL   # or --not-published" in out
    assert out.index("may or may not") < out.index("Next posts due")  # unknown first
    assert "Last run: 2026-12-03 09:05" in out
    js = json.loads(invoke("status", "--calendar", str(cal), "--now", "2026-12-03T09:10:00+07:00", "--json").stdout)
    assert js["counts"] == {"published": 1, "unknown": 1}
    assert js["unknown"][0]["id"] == "morning/2026-12-03/alpha/en"

    res = invoke("resolve", "morning/2026-12-03/alpha/en", "--published", "https://fake.example/alpha/77", "--calendar", str(cal), "--now", "2026-12-03T09:20:00+07:00")
    assert res.exit_code == 0 and "now published" in res.stdout
    hist = json.loads(invoke("history", "--calendar", str(cal), "--now", "2026-12-03T10:00:00+07:00", "--json").stdout)
    assert {h["id"]: h["url"] for h in hist}["morning/2026-12-03/alpha/en"] == "https://fake.example/alpha/77"
    text = invoke("history", "--calendar", str(cal), "--now", "2026-12-03T10:00:00+07:00", "--account", "beta").stdout
    assert "morning/2026-12-03/beta/en" in text and "alpha" not in text
    bad = invoke("resolve", "nope/2026-12-03/alpha/en", "--not-published", "--calendar", str(cal))
    assert bad.exit_code == 2 and "no post 'nope/2026-12-03/alpha/en'" in bad.stderr


def test_one_accounts_missing_credentials_leave_the_others_publishing(cal, monkeypatch, tmp_path):
    monkeypatch.delenv("CAMPAIGNER_ALPHA_TOKEN")
    result = invoke("post", "--calendar", str(cal), "--now", MORNING)
    assert result.exit_code == 1, result.output
    assert "published morning/2026-12-03/beta/en" in result.stdout
    assert "account alpha" in result.stderr and "set CAMPAIGNER_ALPHA_TOKEN" in result.stderr and "stay pending" in result.stderr
    assert [s["account"] for s in sends(tmp_path / "sent.jsonl")] == ["beta"]


def test_missing_credentials_exit_2_and_leave_the_ledger_untouched(cal, monkeypatch):
    monkeypatch.delenv("CAMPAIGNER_ALPHA_TOKEN")
    monkeypatch.delenv("CAMPAIGNER_BETA_TOKEN")
    result = invoke("post", "--calendar", str(cal), "--now", MORNING)
    assert result.exit_code == 2
    assert "set CAMPAIGNER_ALPHA_TOKEN" in result.stderr and "Traceback" not in result.output
    assert not (cal.parent / ".campaigner").exists()  # a first run with a configuration error creates no ledger
    status = json.loads(invoke("status", "--calendar", str(cal), "--now", MORNING, "--json").stdout)
    assert status["counts"] == {} and status["last_run"] is None


def test_cron_prints_absolute_paths(cal):
    out = invoke("cron", "--calendar", str(cal)).stdout
    assert f"--calendar {cal.resolve()}" in out
    assert out.count("*/5 * * * *") == 1 and "OnCalendar=*:0/5" in out


# ---------------------------------------------------------------- real processes


def _env(tmp_path: Path) -> dict[str, str]:
    env = child_env()
    env.update(
        CAMPAIGNER_PLUGINS="tests.fake_platform", PYTHONPATH=str(ROOT), FAKE_SENT=str(tmp_path / "sent.jsonl"),
        FAKE_SCRIPT=str(tmp_path / "script.json"), CAMPAIGNER_ALPHA_TOKEN="alpha-secret-token",
        CAMPAIGNER_BETA_TOKEN="beta-secret-token", CAMPAIGNER_GAMMA_TOKEN="gamma-secret-token",
    )
    return env


def _spawn(cal: Path, env: dict, *extra: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "campaigner", "post", "--calendar", str(cal), *extra],
                            env=env, cwd=cal.parent, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _many_posts_calendar(folder: Path, events: int) -> Path:
    (folder / "templates" / "note").mkdir(parents=True)
    (folder / "templates" / "note" / "en.j2").write_text("Post {{ event.id }} for {{ account.name }}.\n")
    lines = ["campaign: {name: Overlap, timezone: Asia/Phnom_Penh, languages: [en]}",
             "accounts: {alpha: {platform: fake}, beta: {platform: fake}, gamma: {platform: fake}}", "events:"]
    lines += [f"  - {{id: e{i:03d}, kind: note, date: 2026-12-03, time: \"09:{i % 50:02d}\"}}" for i in range(events)]
    (folder / "calendar.yaml").write_text("\n".join(lines) + "\n")
    return folder / "calendar.yaml"


@pytest.mark.slow
def test_overlapping_processes_send_each_post_exactly_once(tmp_path):
    contended_rounds = 0
    for round_ in range(4):
        folder = tmp_path / f"round{round_}"
        cal = _many_posts_calendar(folder / "cal", 30)  # 90 due posts over 3 accounts
        env = _env(folder)
        env["FAKE_DELAY"] = "0.01"
        procs = [_spawn(cal, env, "--now", "2026-12-03T10:00:00+07:00") for _ in range(6)]
        outputs = [p.communicate(timeout=120) for p in procs]
        assert [p.returncode for p in procs] == [0] * 6, outputs
        sent = sends(folder / "sent.jsonl")
        keys = [s["key"] for s in sent]
        assert len(keys) == 90 and len(set(keys)) == 90, f"duplicates: {sorted({k for k in keys if keys.count(k) > 1})}"
        assert not any("locked" in err for _, err in outputs)
        contended_rounds += len({s["pid"] for s in sent}) > 1
        for account in ("alpha", "beta", "gamma"):
            # Within one process, an account's posts go out in due order.
            for pid in {s["pid"] for s in sent}:
                mine = [s["key"] for s in sent if s["pid"] == pid and s["account"] == account]
                assert mine == sorted(mine, key=lambda k: int(k[1:4]) % 50 * 1000 + int(k[1:4]))
    assert contended_rounds >= 1, "no round had more than one process sending: the test did not exercise overlap"


@pytest.mark.slow
def test_a_process_killed_between_claim_and_record_leaves_unknown_and_is_not_resent(fixture_calendar, tmp_path):
    cal = fixture_calendar("publish")
    env = _env(tmp_path)
    (tmp_path / "script.json").write_text(json.dumps({"morning/2026-12-03/alpha": ["hang"]}))
    proc = _spawn(cal, env, "--now", MORNING)
    deadline = time.time() + 60
    while time.time() < deadline and not any(s["what"] == "hang" for s in sends(tmp_path / "sent.jsonl")):
        time.sleep(0.05)
    assert any(s["what"] == "hang" for s in sends(tmp_path / "sent.jsonl")), "the adapter never started sending"
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)

    nxt = _spawn(cal, env, "--now", "2026-12-03T09:07:00+07:00", "--json")
    out, err = nxt.communicate(timeout=60)
    rows = {r["id"]: r for r in json.loads(out)}
    assert rows["morning/2026-12-03/alpha/en"]["status"] == "unknown"
    assert "ended before recording the result" in rows["morning/2026-12-03/alpha/en"]["error"]
    assert nxt.returncode == 1
    third = _spawn(cal, env, "--now", "2026-12-03T09:09:00+07:00")
    third.communicate(timeout=60)
    keys = [s["key"] for s in sends(tmp_path / "sent.jsonl")]
    assert keys.count("morning/2026-12-03/alpha/en") == 1  # only the killed attempt
    status = subprocess.run([sys.executable, "-m", "campaigner", "status", "--calendar", str(cal), "--now", "2026-12-03T09:10:00+07:00"],
                            env=env, capture_output=True, text=True, timeout=60)
    assert "campaigner resolve morning/2026-12-03/alpha/en" in status.stdout


def test_cron_runs_this_installation(cal):
    import sys

    out = invoke("cron", "--calendar", str(cal)).stdout
    beside = Path(sys.executable).parent / "campaigner"
    expected = str(beside) if beside.is_file() else f"{sys.executable} -m campaigner"
    assert f"{expected} post --calendar {cal.resolve()}" in out


def test_history_lists_a_thread_once_by_its_post(cal):
    run = invoke("post", "--calendar", str(cal), "--now", "2026-12-04T09:05:00+07:00")
    assert "published long-thread/2026-12-04/alpha/en " in run.stdout, run.output  # (yesterday's posts are missed: exit 1)
    hist = json.loads(invoke("history", "--calendar", str(cal), "--now", "2026-12-04T10:00:00+07:00", "--json").stdout)
    ids = [h["id"] for h in hist]
    assert ids.count("long-thread/2026-12-04/alpha/en") == 1
    assert not [i for i in ids if i.startswith("long-thread/2026-12-04/alpha/en#")]  # its parts are not listed again


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_stops_claiming_lets_in_flight_finish_and_records_the_run(tmp_path, signum):
    cal = _many_posts_calendar(tmp_path / "cal", 20)  # 60 due posts over 3 accounts
    env = _env(tmp_path)
    env["FAKE_DELAY"] = "0.2"
    proc = _spawn(cal, env, "--now", "2026-12-03T10:00:00+07:00")
    deadline = time.time() + 60
    while time.time() < deadline and len(sends(tmp_path / "sent.jsonl")) < 3:
        time.sleep(0.02)
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signum, (out, err)
    sent = [s["key"] for s in sends(tmp_path / "sent.jsonl")]
    assert 3 <= len(sent) < 60  # it stopped early
    assert f"interrupted by {signal.Signals(signum).name}" in err and "Traceback" not in err
    assert out.count("published ") == len(sent)  # every post that went out is reported, none is lost
    status = json.loads(subprocess.run([sys.executable, "-m", "campaigner", "status", "--calendar", str(cal), "--json",
                                        "--now", "2026-12-03T10:01:00+07:00"], env=env, capture_output=True, text=True, timeout=60).stdout)
    assert status["counts"] == {"published": len(sent)}  # nothing left claimed or unknown
    assert status["last_run"]["exit_code"] == 128 + signum and status["last_run"]["counts"] == {"published": len(sent)}
    rest = _spawn(cal, env, "--now", "2026-12-03T10:02:00+07:00")
    rest.communicate(timeout=120)
    keys = [s["key"] for s in sends(tmp_path / "sent.jsonl")]
    assert len(keys) == 60 and len(set(keys)) == 60  # the rest went out at the next run, nothing twice


# ---------------------------------------------------------------- .env beside the calendar


@pytest.mark.parametrize("content, where", [
    (b"CAMPAIGNER_ALPHA_TOKEN=caf\xe9-token\n", ".env:1:27: byte 0xe9 is not UTF-8"),  # latin-1
    (b"CAMPAIGNER_BETA_TOKEN=x\n\x00\x01\x02binary", ".env:2:1: a NUL byte"),
])
def test_an_unreadable_env_file_is_a_located_configuration_error(cal, monkeypatch, content, where):
    monkeypatch.delenv("CAMPAIGNER_ALPHA_TOKEN")
    (cal.parent / ".env").write_bytes(content)
    (cal.parent / ".env").chmod(0o600)
    result = invoke("post", "--calendar", str(cal), "--now", MORNING)
    assert result.exit_code == 2, result.output
    assert where in result.stderr and "save it as UTF-8" in result.stderr
    assert "internal error" not in result.stderr and "Traceback" not in result.output


def test_env_warnings_name_the_file_and_line_and_a_readable_file(cal, monkeypatch):
    monkeypatch.delenv("CAMPAIGNER_ALPHA_TOKEN")
    env = cal.parent / ".env"
    env.write_text("CAMPAIGNER_ALPHA_TOKEN=alpha-from-dotenv\nthis line is not an assignment\n", encoding="utf-8")
    env.chmod(0o644)
    result = invoke("post", "--calendar", str(cal), "--now", MORNING)
    assert result.exit_code == 0, result.output  # the token was read: alpha published
    assert ".env:2:1: warning: not a KEY=value line" in result.stderr
    assert "warning: others can read this file of secrets (mode 644): run 'chmod 600" in result.stderr
    assert "Python-dotenv" not in result.stderr


def _as_another_user(argv: list[str]) -> list[str]:
    """Run argv as a user who may not write the test's folders: nobody when the tests run as root
    (root writes anywhere), else the current user on a folder made read-only."""
    import os
    import shutil

    if os.geteuid() != 0:
        return argv
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: cannot run as a user who lacks write permission")
    return ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *argv]


@pytest.mark.parametrize("command", [
    ["post", "--now", MORNING],
    ["condemn", "--report", "https://monitor.example/2026/12/new", "--source", "Landmine Monitor", "--now", MORNING],
])
def test_a_folder_that_cannot_be_written_is_a_configuration_error(tmp_path, command):
    import os
    import shutil
    import tempfile

    from tests.conftest import FIXTURES

    top = Path(tempfile.mkdtemp(prefix="campaigner-readonly-"))  # pytest's own folders are private to root
    try:
        folder = top / "publish"
        shutil.copytree(FIXTURES / "publish", folder)
        cal = folder / "calendar.yaml"
        for path in (top, folder, *folder.rglob("*")):
            path.chmod(0o755 if path.is_dir() else 0o644)
        if os.geteuid() != 0:
            folder.chmod(0o555)
        env = _env(tmp_path)
        env.update(CAMPAIGNER_CACHE="off", HOME=str(top))
        proc = subprocess.run(_as_another_user([sys.executable, "-m", "campaigner", *command, "--calendar", str(cal)]),
                              env=env, cwd="/", capture_output=True, text=True, timeout=60)
        folder.chmod(0o755)
        written = [(folder / ".campaigner").exists(), (folder / "rapid.yaml").exists()]
    finally:
        shutil.rmtree(top, ignore_errors=True)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "Permission denied" in proc.stderr and "writable" in proc.stderr
    assert "internal error" not in proc.stderr and "Traceback" not in proc.stderr
    assert written == [False, False]


@pytest.fixture
def full_disk(tmp_path):
    """A small file system of its own (tmpfs), filled up after the calendar is copied in; skip when it cannot be mounted."""
    import os
    import shutil

    from tests.conftest import FIXTURES

    mount = tmp_path / "full"
    mount.mkdir()
    if shutil.which("mount") is None or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)],
                                                       capture_output=True).returncode != 0:
        pytest.skip("cannot mount a small tmpfs here (needs root): no full disk to test with")
    try:
        shutil.copytree(FIXTURES / "publish", mount / "publish")
        fd = os.open(mount / "filler", os.O_WRONLY | os.O_CREAT)
        try:
            while os.write(fd, b"\0" * 4096):
                pass
        except OSError:  # the disk is full now
            pass
        finally:
            os.close(fd)
        yield mount / "publish" / "calendar.yaml"
    finally:
        subprocess.run(["umount", str(mount)], capture_output=True)


def test_a_full_disk_at_the_start_of_a_run_says_what_to_free(full_disk, tmp_path):
    env = _env(tmp_path)
    env["CAMPAIGNER_CACHE"] = "off"
    proc = subprocess.run([sys.executable, "-m", "campaigner", "post", "--calendar", str(full_disk), "--now", MORNING],
                          env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert ("disk is full" in proc.stderr or "No space left on device" in proc.stderr) and "free some space" in proc.stderr
    assert "internal error" not in proc.stderr and "Traceback" not in proc.stderr
    assert sends(tmp_path / "sent.jsonl") == []


# ---------------------------------------------------------------- status tells what is happening


def test_status_says_the_last_runs_failed_and_why_not_that_cron_is_silent(cal, monkeypatch):
    assert invoke("post", "--calendar", str(cal), "--now", "2026-11-20T09:00:00+07:00").exit_code == 0  # 13 days before: the ledger exists
    monkeypatch.delenv("CAMPAIGNER_ALPHA_TOKEN")
    monkeypatch.delenv("CAMPAIGNER_BETA_TOKEN")
    for moment in ("2026-12-03T09:05:00+07:00", "2026-12-03T09:10:00+07:00", "2026-12-03T09:15:00+07:00"):
        assert invoke("post", "--calendar", str(cal), "--now", moment).exit_code == 2
    out = invoke("status", "--calendar", str(cal), "--now", "2026-12-03T09:16:00+07:00").stdout
    assert "The last 3 'campaigner post' run(s) failed before sending anything" in out
    assert "CAMPAIGNER_ALPHA_TOKEN" in out and "is cron running" not in out
    js = json.loads(invoke("status", "--calendar", str(cal), "--now", "2026-12-03T09:16:00+07:00", "--json").stdout)
    assert js["failing_runs"] == 3 and js["last_run"]["exit_code"] == 2 and "CAMPAIGNER_BETA_TOKEN" in js["last_run"]["error"]
    assert js["counts"] == {}  # a refused run changes no post
    assert {d["id"] for d in js["due"]} >= {"morning/2026-12-03/alpha/en", "morning/2026-12-03/beta/en"}


def test_status_lists_posts_due_now_before_any_run_marks_them(cal):
    assert invoke("post", "--calendar", str(cal), "--now", "2026-12-03T08:00:00+07:00").exit_code == 0
    out = invoke("status", "--calendar", str(cal), "--now", "2026-12-03T14:40:00+07:00").stdout
    assert "post(s) are due now and not sent yet" in out
    assert "morning/2026-12-03/alpha/en: due 2026-12-03 09:00; missed at 2026-12-03 15:00 unless a run sends it first" in out
    assert "noon/2026-12-03/beta/en: due 2026-12-03 12:00" in out


def test_a_rehearsal_with_a_later_now_is_not_the_last_run(cal):
    assert invoke("post", "--calendar", str(cal), "--now", MORNING).exit_code == 0
    invoke("post", "--calendar", str(cal), "--now", "2027-01-10T09:00:00+07:00")  # rehearsing a day weeks ahead
    out = invoke("status", "--calendar", str(cal), "--now", "2026-12-03T09:20:00+07:00").stdout
    assert "Last run: 2026-12-03 09:05" in out and "is cron running" not in out
