"""The snapshot cache: a second run reuses the loaded calendar and rendered posts, and any change
to an input (calendar, rapid.yaml, templates, media, plugins) is seen at once."""

from __future__ import annotations

import json
import time
import os
from datetime import date as cache_date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from campaigner import cache, render
from campaigner.cli import app

NOW = "2026-07-01T08:00"


def run(*args: str):
    result = CliRunner().invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def snapshots() -> list[Path]:
    return sorted(Path(os.environ["CAMPAIGNER_CACHE_DIR"]).glob("*.pickle"))


@pytest.fixture
def good(fixture_calendar) -> Path:
    return fixture_calendar("good")


@pytest.fixture
def no_rendering(monkeypatch):
    """Fail the test if anything loads YAML or builds a Jinja environment."""
    def refuse(*args, **kwargs):
        raise AssertionError("rendered or loaded although nothing changed")

    def arm():
        monkeypatch.setattr("campaigner.sandbox.environment", refuse)
        monkeypatch.setattr("campaigner.calendar.load_calendar", refuse)
    return arm


@pytest.mark.parametrize("command", [["plan", "--days", "365"], ["plan", "--days", "365", "--json"], ["plan", "--full"], ["validate"]])
def test_second_run_prints_the_same_without_loading_or_rendering(shipped, command, no_rendering):
    args = [*command, "--calendar", str(shipped), "--now", NOW]
    cold = run(*args)
    assert cold.exit_code == 0, cold.stderr
    assert len(snapshots()) == 1
    no_rendering()
    warm = run(*args)
    assert (warm.exit_code, warm.stdout, warm.stderr) == (cold.exit_code, cold.stdout, cold.stderr)


def test_snapshot_grows_with_new_posts_and_is_rewritten_only_then(good):
    run("plan", "--calendar", str(good), "--now", NOW)
    (file,) = snapshots()
    first = file.stat().st_mtime_ns
    run("plan", "--calendar", str(good), "--now", NOW)
    assert file.stat().st_mtime_ns == first  # nothing new: not written again
    run("plan", "--calendar", str(good), "--now", NOW, "--days", "365")
    assert file.stat().st_mtime_ns != first
    assert len(cache._read(file.parent, file.name).rendered) > 12


def plan(cal: Path) -> list[dict]:
    result = run("plan", "--calendar", str(cal), "--now", NOW, "--days", "60", "--json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def texts(cal: Path) -> set[str]:
    return {p["text"] for p in plan(cal)}


def test_an_edited_template_is_rendered_again(good):
    before = texts(good)
    (good.parent / "templates/story/en.j2").write_text("Edited: {{ vars.title }}\n", encoding="utf-8")
    after = texts(good)
    assert "Edited: Deminers at work" in after and "Edited: Deminers at work" not in before


def test_a_new_platform_template_overrides_the_language_one_at_once(good):
    plan(good)
    (good.parent / "templates/anniversary/x.en.j2").write_text("Only on X: {{ vars.treaty }}\n", encoding="utf-8")
    assert "Only on X: Convention on Cluster Munitions" in texts(good)


def test_an_edited_calendar_and_a_new_rapid_yaml_are_seen(good):
    plan(good)
    good.write_text(good.read_text(encoding="utf-8").replace("title: Deminers at work", "title: Women deminers at work"), encoding="utf-8")
    assert any("Women deminers at work" in t for t in texts(good))
    (good.parent / "rapid.yaml").write_text(
        "events:\n  - id: praise-test\n    kind: story\n    date: 2026-07-02\n    accounts: [ccbl_x]\n    vars: {title: Welcome, Testland}\n",
        encoding="utf-8")
    assert "praise-test" in {p["event"] for p in plan(good)}


def test_a_deleted_media_file_fails_validation_on_the_next_run(good):
    assert run("validate", "--calendar", str(good), "--now", NOW).exit_code == 0
    (good.parent / "media/pixel.png").unlink()
    result = run("validate", "--calendar", str(good), "--now", NOW)
    assert result.exit_code == 2
    assert "media file 'media/pixel.png' not found" in result.stderr


def test_warnings_are_printed_on_every_run(good):
    good.write_text(good.read_text(encoding="utf-8").replace(', alt: "A deminer kneels in a marked lane"', ""), encoding="utf-8")
    cold = run("validate", "--calendar", str(good), "--now", NOW)
    warm = run("validate", "--calendar", str(good), "--now", NOW)
    assert "has no alt text" in cold.stderr
    assert (warm.exit_code, warm.stdout, warm.stderr) == (cold.exit_code, cold.stdout, cold.stderr)


def test_errors_are_never_cached(fixture_calendar):
    cal = fixture_calendar("broken-templates")
    first = run("validate", "--calendar", str(cal), "--now", NOW)
    second = run("validate", "--calendar", str(cal), "--now", NOW)
    assert first.exit_code == second.exit_code == 2
    assert first.stderr == second.stderr


def test_a_corrupt_or_foreign_snapshot_is_ignored_and_replaced(good):
    expected = plan(good)
    (file,) = snapshots()
    file.write_bytes(b"not a pickle")
    assert plan(good) == expected
    assert isinstance(cache._read(file.parent, file.name), cache.Snapshot)


def test_a_snapshot_for_other_code_is_ignored(good, monkeypatch):
    expected = plan(good)
    (file,) = snapshots()
    monkeypatch.setattr(cache, "_CODE_KEY", "another campaigner version")
    assert plan(good) == expected  # re-rendered and correct, whatever the old snapshot held
    assert cache._read(file.parent, file.name).key == cache._key(good)


def test_a_post_due_at_another_instant_is_rendered_again(good):
    plan(good)
    (file,) = snapshots()
    snap = cache._read(file.parent, file.name)
    for pid, kept in snap.rendered.items():
        snap.rendered[pid] = ("1999-01-01T00:00:00+07:00", "stale text", *kept[2:])
    cache._write(file.parent, file.name, snap)
    assert "stale text" not in texts(good)
    snap.rendered = {pid: (kept[0], "kept text", *kept[2:]) for pid, kept in cache._read(file.parent, file.name).rendered.items()}
    cache._write(file.parent, file.name, snap)
    assert texts(good) == {"kept text"}  # the same instant: served from the snapshot


def test_off_and_unsafe_folders_write_nothing(good, tmp_path, monkeypatch):
    expected = plan(good)
    monkeypatch.setenv("CAMPAIGNER_CACHE_DIR", str(tmp_path / "off"))
    monkeypatch.setenv("CAMPAIGNER_CACHE", "off")
    assert plan(good) == expected
    assert not (tmp_path / "off").exists()
    monkeypatch.delenv("CAMPAIGNER_CACHE")
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    monkeypatch.setenv("CAMPAIGNER_CACHE_DIR", str(shared))
    assert plan(good) == expected
    assert list(shared.iterdir()) == []


def test_a_snapshot_others_can_write_is_not_read(good):
    plan(good)
    (file,) = snapshots()
    file.chmod(0o666)
    assert cache._read(file.parent, file.name) is None


def test_an_edit_saved_during_a_run_is_not_stored_under_the_old_key(good):
    from campaigner import runtime

    with runtime.session(good) as rt:
        render.expand(rt.calendar, cache_date(2026, 7, 1), cache_date(2026, 8, 31), renderer=rt.renderer)
        (good.parent / "templates/story/en.j2").write_text("Edited mid-run: {{ vars.title }}\n", encoding="utf-8")
    assert snapshots() == []  # nothing written: the next run loads and renders afresh
    assert any(t.startswith("Edited mid-run") for t in texts(good))


# ---------------------------------------------------------------- what the key covers, and the folder's safety


def test_an_edit_inside_a_symlinked_template_folder_is_seen(good, tmp_path):
    shared = tmp_path / "shared-templates" / "story"
    shared.parent.mkdir()
    (good.parent / "templates" / "story").rename(shared)
    (good.parent / "templates" / "story").symlink_to(shared, target_is_directory=True)
    before = texts(good)
    (shared / "en.j2").write_text("Edited through a link: {{ vars.title }}\n", encoding="utf-8")
    after = texts(good)
    assert any(t.startswith("Edited through a link") for t in after) and after != before


def test_a_symlink_loop_in_templates_does_not_hang_the_key(good):
    (good.parent / "templates" / "story" / "loop").symlink_to(good.parent / "templates", target_is_directory=True)
    assert cache._key(good) is not None


def test_a_journalists_csv_edited_to_the_same_size_and_time_is_seen(good):
    from campaigner import runtime

    csv = good.parent / "journalists.csv"
    csv.write_text("name,email,languages\nSok Dara,dara@news.example,km\n", encoding="utf-8")
    good.write_text(good.read_text(encoding="utf-8") + "journalists: journalists.csv\n", encoding="utf-8")
    with runtime.session(good) as rt:
        assert [j.email for j in rt.calendar.journalists] == ["dara@news.example"]
    stamp = csv.stat()
    csv.write_text("name,email,languages\nSok Dara,sara@news.example,km\n", encoding="utf-8")  # same length
    os.utime(csv, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
    assert csv.stat().st_size == stamp.st_size and csv.stat().st_mtime_ns == stamp.st_mtime_ns
    with runtime.session(good) as rt:
        assert [j.email for j in rt.calendar.journalists] == ["sara@news.example"]


def test_a_cache_folder_swapped_for_a_symlink_is_not_read(good, tmp_path):
    plan(good)
    (file,) = snapshots()
    folder = file.parent
    elsewhere = tmp_path / "elsewhere"
    folder.rename(elsewhere)  # an attacker's folder, with a snapshot of their own making
    folder.symlink_to(elsewhere, target_is_directory=True)
    assert cache.directory() is None  # the symlink is never taken for the folder
    assert cache._read(folder, file.name) is None


def test_only_the_caches_own_files_are_ever_removed(good):
    plan(good)
    (own,) = snapshots()
    folder = own.parent
    old = time.time() - 40 * 86400
    keep = [folder / "notes.pickle", folder / "someone-elses.txt", folder / "0123.pickle"]
    stale = folder / ("f" * 24 + ".pickle")
    for f in [*keep, stale]:
        f.write_bytes(b"x")
        os.utime(f, (old, old))
    good.write_text(good.read_text(encoding="utf-8").replace("Deminers at work", "Deminers at work today"), encoding="utf-8")
    plan(good)  # writes a new snapshot, and removes the stale ones
    assert all(f.exists() for f in keep) and not stale.exists()
