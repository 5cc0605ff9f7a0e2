"""`campaigner diff BASE_REF`: the posts a change adds, removes or alters, for a pull-request check."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from campaigner.cli import app
from tests.conftest import FIXTURES

runner = CliRunner()
WINDOW = ["--from", "2026-05-01", "--to", "2026-12-31"]

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")


def git(repo: Path, *args: str) -> str:
    proc = subprocess.run(["git", "-c", "user.name=Test", "-c", "user.email=test@example.org", "-c", "commit.gpgsign=false", *args],
                          cwd=repo, capture_output=True, text=True, check=True)
    return proc.stdout


@pytest.fixture
def repo(tmp_path):
    """A git repository with the rapid fixture committed in a subfolder, as a campaign might keep it."""
    import tests.fake_platform  # noqa: F401

    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q")
    (root / "README.md").write_text("campaign\n")
    git(root, "add", "README.md")
    git(root, "commit", "-qm", "start")
    shutil.copytree(FIXTURES / "rapid", root / "campaign")
    git(root, "add", "campaign")
    git(root, "commit", "-qm", "calendar")
    return root / "campaign" / "calendar.yaml"


def diff(cal: Path, *args: str):
    return runner.invoke(app, ["diff", *args, "--calendar", str(cal), *WINDOW])


def test_no_change_exits_0(repo):
    result = diff(repo, "HEAD")
    assert result.exit_code == 0, result.output
    assert "no post changes compared with HEAD (2026-05-01 to 2026-12-31)" in result.stdout


def test_added_removed_and_changed_posts_with_their_texts(repo):
    folder = repo.parent
    (folder / "templates" / "note" / "en.j2").write_text("Yearly note {{ vars.n }} for {{ account.name }}.\n", encoding="utf-8")
    text = repo.read_text(encoding="utf-8")
    start = text.index("  # A condemnation kept in calendar.yaml")
    repo.write_text(text[:start], encoding="utf-8")  # the old-report event is deleted
    added = runner.invoke(app, ["condemn", "--report", "https://www.hrw.org/r", "--source", "Human Rights Watch", "--draft",
                                "--calendar", str(repo), "--now", "2026-11-30T14:05"])
    assert added.exit_code == 0, added.output

    result = diff(repo, "HEAD", "--json")
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    assert report["base"] == "HEAD" and (report["from"], report["to"]) == ("2026-05-01", "2026-12-31")
    added_ids = sorted(p["id"] for p in report["added"])
    assert len(added_ids) == 3 and all(i.startswith("condemn-2026-11-30-hrw-") for i in added_ids)
    assert all(p["draft"] for p in report["added"])
    assert sorted(p["id"] for p in report["removed"]) == ["old-report/2026-11-01/alpha/en", "old-report/2026-11-01/alpha/km", "old-report/2026-11-01/beta/en"]
    assert [c["id"] for c in report["changed"]] == ["yearly-note/2026-06-01/alpha/en"]
    change = report["changed"][0]
    assert change["old"]["text"] == "Yearly note 1 for alpha on 1 June 2026." and change["new"]["text"] == "Yearly note 1 for alpha."

    human = diff(repo, "HEAD")
    assert human.exit_code == 1
    out = human.stdout
    assert "~ yearly-note/2026-06-01/alpha/en" in out
    assert "    - Yearly note 1 for alpha on 1 June 2026." in out and "    + Yearly note 1 for alpha." in out
    assert "- old-report/2026-11-01/beta/en" in out and "+ condemn-2026-11-30-hrw-" in out
    assert "3 added, 3 removed, 1 changed compared with HEAD" in out


def test_approving_a_draft_shows_as_a_change(repo):
    assert runner.invoke(app, ["condemn", "--report", "https://www.hrw.org/r", "--source", "HRW", "--draft", "--calendar", str(repo),
                               "--now", "2026-11-30T14:05"]).exit_code == 0
    git(repo.parent.parent, "add", "campaign/rapid.yaml")
    git(repo.parent.parent, "commit", "-qm", "draft")
    eid = next(line.split("id: ")[1] for line in (repo.parent / "rapid.yaml").read_text().splitlines() if "- id: " in line)
    assert runner.invoke(app, ["approve", eid, "--calendar", str(repo), "--now", "2026-11-30T14:30"]).exit_code == 0
    result = diff(repo, "HEAD")
    assert result.exit_code == 1
    assert f"~ {eid}/2026-11-30/alpha/en  2026-11-30 14:30" in result.stdout
    assert "was due 2026-11-30 14:05  (draft)" in result.stdout


def test_a_calendar_new_in_this_change_adds_every_post(repo):
    result = diff(repo, "HEAD~1", "--json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["removed"] == [] and report["changed"] == [] and len(report["added"]) == 5


def test_unknown_revision_and_no_repository_are_config_errors(repo, tmp_path):
    bad = diff(repo, "no-such-branch")
    assert bad.exit_code == 2 and "unknown git revision 'no-such-branch'" in bad.stderr
    outside = tmp_path / "outside"
    shutil.copytree(FIXTURES / "rapid", outside)
    none = diff(outside / "calendar.yaml", "HEAD")
    assert none.exit_code == 2 and "not in a git repository" in none.stderr


def test_a_broken_base_is_reported_as_the_base(repo):
    text = repo.read_text(encoding="utf-8")
    repo.write_text(text.replace("languages: [km, en]", "languages: [km, en"), encoding="utf-8")
    git(repo.parent.parent, "commit", "-qam", "broken")
    repo.write_text(text, encoding="utf-8")  # fixed in the working tree
    result = diff(repo, "HEAD")
    assert result.exit_code == 2
    assert "HEAD:calendar.yaml" in result.stderr and "(in the base version)" in result.stderr


def test_media_and_the_repository_root(tmp_path):
    """The base version's images are fetched too: the loader checks they exist."""
    root = tmp_path / "good"
    shutil.copytree(FIXTURES / "good", root)
    git(root, "init", "-q")
    git(root, "add", ".")
    git(root, "commit", "-qm", "calendar")
    result = runner.invoke(app, ["diff", "HEAD", "--calendar", str(root / "calendar.yaml"), "--now", "2026-11-01T08:00", "--days", "60"])
    assert result.exit_code == 0, result.output + result.stderr
