"""Bad input through the real CLI: every input of the table is exit 2 with a located line, never an
internal error, never a hang. Each row was reproduced on main before its fix (issues 10 and 11).

A row mutates a copy of the good fixture; each command of COMMANDS runs on it in-process (the time
limit is shortened so that the endless-loop row takes a fraction of a second).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from campaigner.cli import app

NOW = "2026-07-01T00:00"
COMMANDS = (["validate"], ["plan", "--days", "40"], ["post", "--dry-run"])
# file:line:col, file:line or file (a problem with a whole file) and then the message
LOCATED = re.compile(r"^(?P<file>[^\s:][^:]*?)(?::(?P<line>\d+))?(?::\d+)?: \S")

# Nine lists of nine aliases each: 1 KB that expands to 387 million values.
ALIAS_BOMB = "    vars:\n      title: Weekly tip\n" + "".join(
    f"      l{i}: &l{i} [" + ", ".join([f"*l{i - 1}" if i > 1 else "a"] * 9) + "]\n" for i in range(1, 10))

Mutation = Callable[[Path], None]


def edit(old: str, new: str) -> Mutation:
    def mutate(folder: Path) -> None:
        path = folder / "calendar.yaml"
        text = path.read_text(encoding="utf-8")
        assert old in text, old
        path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return mutate


def raw(old: bytes, new: bytes) -> Mutation:
    def mutate(folder: Path) -> None:
        path = folder / "calendar.yaml"
        path.write_bytes(path.read_bytes().replace(old, new, 1))
    return mutate


def write(name: str, data: str | bytes) -> Mutation:
    def mutate(folder: Path) -> None:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_symlink() or path.is_file():
            path.unlink()
        path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return mutate


def symlink(name: str, target: str) -> Mutation:
    def mutate(folder: Path) -> None:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.is_symlink() or path.exists():
            path.unlink()
        os.symlink(target, path)
    return mutate


def both(*mutations: Mutation) -> Mutation:
    def mutate(folder: Path) -> None:
        for m in mutations:
            m(folder)
    return mutate


def folder_for(name: str) -> Mutation:
    def mutate(folder: Path) -> None:
        (folder / name).unlink()
        (folder / name).mkdir()
    return mutate


WEEKLY = "    vars: {title: Weekly tip}\n"
STORY = "templates/story/en.j2"

# id: (mutation, the file the problem must be located in, a phrase of its message)
CASES: dict[str, tuple[Mutation, str, str]] = {
    # issue 10, item 12
    "alias bomb": (edit(WEEKLY, ALIAS_BOMB), "calendar.yaml", "aliases repeat more than 1,000,000 values"),
    "recursive alias": (edit(WEEKLY, "    vars: &r {title: Weekly tip, again: *r}\n"), "calendar.yaml", "cannot contain itself"),
    # issue 10, item 13
    "endless loops": (write(STORY, "{% for i in range(99999) %}{% for j in range(99999) %}{% endfor %}{% endfor %}x\n"), STORY, "took more than"),
    "huge power": (write(STORY, "{{ 9**999999999 }}\n"), STORY, "too large a number"),
    "huge lipsum": (write(STORY, "{{ lipsum(10**6) }}\n"), STORY, "lipsum(1000000)"),
    "huge repetition": (write(STORY, "{{ 'a' * 10**10 }}\n"), STORY, "repeating a text of 1 character 10,000,000,000 times"),
    "huge list repetition": (write(STORY, "{{ (range(10)|list) * 10**9 }}\n"), STORY, "repeating a list of 10 items"),
    "huge % width": (write(STORY, "{{ '%0999999999d' % 1 }}\n"), STORY, "a format width of 999,999,999"),
    "huge format width": (write(STORY, "{{ '{:>999999999}'.format(1) }}\n"), STORY, "a format width of 999,999,999"),
    "huge center": (write(STORY, "{{ 'a'|center(999999999) }}\n"), STORY, "center(999,999,999)"),
    "huge ljust": (write(STORY, "{{ 'a'.ljust(999999999) }}\n"), STORY, "ljust(999,999,999)"),
    "huge replace": (write(STORY, "{{ ('a' * 99999).replace('a', 'b' * 99999) }}\n"), STORY, "replacing 99,999 times"),
    "huge join": (write(STORY, "{{ range(99999)|join('a' * 99999) }}\n"), STORY, "more memory than a text can"),
    "text too long": (write(STORY, "{% for i in range(99999) %}{{ 'abcdefghij' }}{% endfor %}\n"), STORY, "grew past 100,000 characters"),
    # issue 10, item 15
    "absolute media path": (edit("path: media/pixel.png", "path: /etc/hostname"), "calendar.yaml", "leaves the calendar's folder"),
    "../ media path": (edit("path: media/pixel.png", "path: ../good/media/pixel.png"), "calendar.yaml", "leaves the calendar's folder"),
    "template outside": (edit("    accounts: [ccbl_x]\n", "    accounts: [ccbl_x]\n    template: ../../outside\n"), "calendar.yaml", "not a path"),
    # issue 10, item 16
    "template changes vars": (write(STORY, "{{ vars.update({'title': 'x'}) }}{{ vars.title }}\n"), STORY, "cannot change the calendar's data"),
    "template changes media": (write(STORY, "{{ media.append(1) }}{{ media|length }}\n"), STORY, "cannot change the calendar's data"),
    # issue 11, item 7
    "NUL byte": (edit("  name: Test Campaign", "  name: Test\0Campaign"), "calendar.yaml", "NUL byte"),
    "control character": (edit("  name: Test Campaign", "  name: Test\x07Campaign"), "calendar.yaml", "U+0007"),
    "latin-1 calendar": (raw(b"Test Campaign", b"Test Campa\xefgn"), "calendar.yaml", "not UTF-8 text"),
    "empty time zone": (edit("  timezone: Asia/Phnom_Penh", '  timezone: ""'), "calendar.yaml", "campaign.timezone: empty"),
    "time: 900": (edit('    time: "18:30"', "    time: 900"), "calendar.yaml", 'e.g. "09:00", got 900'),
    # issue 11, item 8
    "huge grace": (edit("    goal: survivors", "    goal: survivors\n    grace: 99999999999d"), "calendar.yaml", "more than a year"),
    "huge grace in hours": (edit("  default_time:", "  grace: 99999999999999\n  default_time:"), "calendar.yaml", "more than a year"),
    "latin-1 template": (write(STORY, b"Caf\xe9 {{ vars.title }}\n"), STORY, "not UTF-8 text"),
    "latin-1 journalists CSV": (both(edit("events:", "journalists: press.csv\nevents:"), write("press.csv", b"name,email,languages\nJos\xe9,j@example.org,en\n")), "press.csv", "not UTF-8 text"),
    "media symlink loop": (both(symlink("media/loop.png", "loop.png"), edit("path: media/pixel.png", "path: media/loop.png")), "calendar.yaml", "leads in a loop"),
    "media folder loop": (both(symlink("media/sub", "sub"), edit("path: media/pixel.png", "path: media/sub/pixel.png")), "calendar.yaml", "leads in a loop"),
    "template symlink loop": (symlink(STORY, "en.j2"), STORY, "leads nowhere"),
    "templates folder loop": (symlink("templates", "templates"), "templates", "leads nowhere"),
    "template is a folder": (folder_for(STORY), STORY, "is a folder"),
}


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
@pytest.mark.parametrize("case", CASES, ids=str)
def test_bad_input_is_a_located_configuration_error(case, command, fixture_calendar, monkeypatch):
    from campaigner import sandbox

    monkeypatch.setattr(sandbox, "RENDER_SECONDS", 0.3)
    mutate, where, phrase = CASES[case]
    calendar = fixture_calendar("good")
    mutate(calendar.parent)
    result = CliRunner().invoke(app, [*command, "--calendar", str(calendar), "--now", NOW])
    out = result.stdout + result.stderr
    assert "Traceback" not in out and "internal error" not in out, out
    assert result.exit_code == 2, out
    lines = [line for line in result.stderr.splitlines() if phrase in line]
    assert lines, f"no line says {phrase!r}:\n{result.stderr}"
    match = LOCATED.match(lines[0])
    assert match and match["file"] == f"good/{where}", lines[0]
    if where == "calendar.yaml" or phrase == "not UTF-8 text":
        assert match["line"], lines[0]  # a line (and column) in the file, not only the file

