"""Docs cannot drift: every command has help and a README section; CI runs the README's test command."""

from __future__ import annotations

import re

import typer
from typer.testing import CliRunner

from campaigner.cli import app
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def _commands(group, prefix=""):
    for name, cmd in group.commands.items():
        yield prefix + name, cmd
        if hasattr(cmd, "commands"):
            yield from _commands(cmd, prefix + name + " ")


def test_every_command_has_help_and_appears_in_the_readme():
    commands = list(_commands(typer.main.get_command(app)))
    assert len(commands) >= 9
    for name, cmd in commands:
        assert (cmd.help or "").strip(), f"{name} has no help text"
        assert f"campaigner {name}" in README, f"README does not mention 'campaigner {name}'"
        result = CliRunner().invoke(app, name.split() + ["--help"])
        assert result.exit_code == 0 and "Usage" in result.output


def test_ci_runs_the_readmes_test_command():
    blocks = re.findall(r"```sh\n(.*?)\n```", README.split("## Quick start", 1)[1].split("\n## ", 1)[0], re.S)
    assert len(blocks) == 2, "the quick start is two commands"
    install_and_plan, tests = blocks
    assert "pip install -e ." in install_and_plan and install_and_plan.rstrip().endswith("campaigner plan")
    ci = (ROOT / ".ci" / "run").read_text()
    assert tests.strip() in ci.splitlines(), ".ci/run must run the README's test command verbatim"


def _sample(marker: str) -> list[str]:
    """The README's sample output after the line `$ campaigner validate          # <marker>`."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    lines = text[text.index(f"$ campaigner validate          # {marker}"):].splitlines()[1:]
    return [line for line in (lines[: next(i for i, v in enumerate(lines) if v.startswith(("$", "```")))]) if not line.startswith("...")]


def _shape(line: str) -> str:
    return re.sub(r"\d+", "N", line)  # line numbers and counts move as the shipped calendar grows


def test_the_readmes_validate_samples_are_what_validate_prints(tmp_path):
    """The two samples are reproduced on a copy of the shipped calendar; only the numbers may differ."""
    import shutil
    import subprocess
    import sys

    from tests.childenv import child_env

    def validate(folder):
        run = subprocess.run([sys.executable, "-m", "campaigner", "validate"], cwd=folder, capture_output=True, text=True, env=child_env(CAMPAIGNER_CACHE="off"))
        assert run.returncode == 2, run.stdout + run.stderr
        return {_shape(line) for line in run.stderr.splitlines()}

    for marker, edit in (("an event with accounts: [fb]", "calendar"), ("a template that says vars.tretay", "template")):
        folder = tmp_path / edit
        shutil.copytree(ROOT, folder, ignore=shutil.ignore_patterns(".git", ".venv", ".campaigner", "tests", "benchmarks", "*.egg-info", "__pycache__"))
        if edit == "calendar":
            cal = (folder / "calendar.yaml").read_text(encoding="utf-8")
            at = cal.index("\n", cal.index("    date:", cal.index("  - id: vanuatu-joins-ccm")))
            (folder / "calendar.yaml").write_text(cal[:at] + "\n    accounts: [fb]" + cal[at:], encoding="utf-8")
        else:
            template = folder / "templates" / "anniversary" / "x.km.j2"
            template.write_text(template.read_text(encoding="utf-8").replace("vars.treaty", "vars.tretay.name", 1), encoding="utf-8")
        printed = validate(folder)
        sample = _sample(marker)
        assert sample and all(_shape(line.split("    #")[0].rstrip()) in printed for line in sample), (sample, sorted(printed))
