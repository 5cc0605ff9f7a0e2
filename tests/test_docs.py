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
