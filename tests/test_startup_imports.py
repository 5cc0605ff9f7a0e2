"""Start-up paths stay light: no pydantic for plain option values, and the same values (and errors) as typer's own.

(The SDK / database-driver check for these paths is in test_plan_cli.py.)
"""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer._coercion import build_runtime_param

from campaigner.cli import app
from campaigner.cli._typer import PlainValue, install
from tests.probe import imported_modules

@pytest.mark.parametrize("args", [
    ["--help"],
    ["plan", "--now", "2026-07-01T08:00", "--days", "40", "--account", "ccbl_x", "--kind", "anniversary"],
    ["plan", "--json", "--now", "2026-07-01T08:00"],
    ["validate", "--now", "2026-07-01T08:00"],
    ["post", "--dry-run", "--now", "2026-07-01T08:00"],
    ["accounts"],
    ["cron", "--every", "10"],
], ids=lambda a: " ".join(a[:2]))
def test_commands_with_plain_option_values_do_not_import_pydantic(fixture_calendar, tmp_path, args):
    code, modules, stderr = imported_modules(args, fixture_calendar("good"), tmp_path)
    assert code == 0, stderr
    assert [m for m in modules if m.split(".")[0] == "pydantic" or m == "typer._adapters"] == []


@pytest.mark.parametrize("command", ["plan", "validate", "post", "accounts"])
def test_a_command_imports_no_other_command_module(fixture_calendar, tmp_path, command):
    extra = {"post": ["--dry-run", "--now", "2026-07-01T08:00"], "plan": ["--now", "2026-07-01T08:00"]}.get(command, [])
    code, modules, stderr = imported_modules([command, *extra], fixture_calendar("good"), tmp_path)
    assert code == 0, stderr
    from campaigner.cli import COMMANDS

    others = {f"campaigner.cli.{module}" for name, (module, _) in COMMANDS.items()} - {f"campaigner.cli.{COMMANDS[command][0]}"}
    assert sorted(others & set(modules)) == []


def test_the_help_summaries_are_the_commands_docstrings():
    """`--help` reads its list from SUMMARIES; a docstring edited without it would show stale help."""
    from campaigner.cli import COMMANDS, SUMMARIES, summary

    assert {name: summary(name) for name in COMMANDS} == SUMMARIES, "update campaigner/cli/__init__.py SUMMARIES to the docstrings"


def test_help_imports_no_command_module(fixture_calendar, tmp_path):
    code, modules, stderr = imported_modules(["--help"], fixture_calendar("good"), tmp_path)
    assert code == 0, stderr
    assert sorted(m for m in modules if m.startswith("campaigner.cli.") and not m.startswith("campaigner.cli._")) == []


def test_help_lists_every_command_in_table_order():
    from campaigner.cli import COMMANDS
    from typer.testing import CliRunner

    out = CliRunner().invoke(app, ["--help"]).stdout
    listed = [line.split()[0] for line in out.split("Commands:")[1].splitlines() if line.startswith("  ") and line.split()]
    assert listed == list(COMMANDS)


@pytest.mark.parametrize("columns", ["50", "80", "200"])
def test_help_from_docstrings_is_what_typer_writes_when_it_builds_every_command(columns):
    from typer.testing import CliRunner

    from campaigner.cli import COMMANDS, build

    lazy = CliRunner().invoke(build(), ["--help"], env={"COLUMNS": columns})
    eager = CliRunner().invoke(build(list(COMMANDS)), ["--help"], env={"COLUMNS": columns})
    assert lazy.exit_code == eager.exit_code == 0
    assert lazy.stdout == eager.stdout


def _params():
    group = typer.main.get_command(app)
    ctx = typer.Context(group)
    install(group, ctx)
    found = {}

    def walk(cmd, prefix):
        for p in [*cmd.params, cmd.get_help_option(ctx)]:
            if p is not None and getattr(p, "type_descriptor", None) is not None:
                found.setdefault(repr(p.type_descriptor.annotation) + f" min={p.type_descriptor.parameter_info.min}"
                                 f" max={p.type_descriptor.parameter_info.max} multiple={p.multiple}", (prefix + p.name, p))
        for sub in (getattr(cmd, "commands", None) or {}).values():
            walk(sub, prefix + sub.name + " ")

    walk(group, "")
    return group, ctx, found


SAMPLES = [None, "", "x", "7", "-3", "0", "60", "1_0", " 5", "3.5", "+4", "٣", 30, 0, 2.5, True, False, Path("calendar.yaml"),
           "calendar.yaml", "-", ("a", "b"), ["ccbl_x"], (), [1]]


def _outcome(runtime, value, param, ctx):
    try:
        result = runtime.coerce(value, param=param, ctx=ctx)
    except typer.BadParameter as exc:
        return ("error", exc.format_message())
    return ("ok", type(result).__name__, list(result) if isinstance(result, (list, tuple)) else result)


def test_every_kind_of_option_gets_the_value_typer_would_give():
    group, ctx, params = _params()
    assert len(params) >= 6  # str, bool, int ranges, float, Path, list[str]
    for label, (name, param) in params.items():
        assert isinstance(param._runtime_param, PlainValue), name
        typers = build_runtime_param(param.type_descriptor)
        for value in SAMPLES:
            param._runtime_param = PlainValue(param.type_descriptor.annotation, param.type_descriptor.parameter_info,
                                              bool(param.multiple or param.nargs == -1))
            assert _outcome(param._runtime_param, value, param, ctx) == _outcome(typers, value, param, ctx), (label, name, value)


# A database driver on a start-up path costs every cron run and every person: psycopg (~170 ms to
# import) is for postgresql:// ledgers only, never for the default SQLite one.
DRIVERS = ("psycopg", "psycopg_binary", "psycopg2", "campaigner.ledger.postgres")


@pytest.mark.parametrize("args", [["--help"], ["plan", "--now", "2026-07-01T08:00"], ["validate", "--now", "2026-07-01T08:00"],
                                  ["status", "--now", "2026-07-01T08:00"], ["post", "--dry-run", "--now", "2026-07-01T08:00"]],
                         ids=lambda a: " ".join(a[:2]))
def test_no_database_driver_is_imported_with_a_sqlite_ledger(fixture_calendar, tmp_path, args):
    from campaigner.ledger import default_url, open_ledger

    cal = fixture_calendar("good")
    open_ledger(default_url(cal), create=True).close()  # an existing SQLite ledger, read by these commands
    code, modules, stderr = imported_modules(args, cal, tmp_path)
    assert code == 0, stderr
    assert [m for m in modules if m in DRIVERS or m.split(".")[0] in DRIVERS] == []
