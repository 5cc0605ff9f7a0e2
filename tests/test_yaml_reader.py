"""calendar.yaml_reader.read_yaml's event reader gives exactly what the node reader gives, or leaves the document to it."""

from __future__ import annotations

import random

import pytest

import campaigner.calendar.yaml_reader as C
from tests.conftest import FIXTURES, ROOT

DOCUMENTS = [
    "", "# only a comment\n", "a: 1\nb: [1, 2, {c: d}]\n", "a: &x {p: 1}\nb: *x\nc: *x\n", "a: &x [1, 2]\nb: *x\n",
    "base: &b {x: 1, y: 2}\nd:\n  <<: *b\n  y: 3\n", "a: 1\na: 2\n", "{a: 1, a: 1, b: {c: 1, c: 2}}\n",
    "d: 2010-02-30\nt: 08:00\nx: 0o17\ny: 0x1F\nz: 1_000\nf: .inf\nn: ~\nb: yes\nc: off\nts: 2026-01-01 10:00:00\n",
    "2010-02-30: x\n", "2010-02-30\n", "--- a\n--- b\n", "a: !!str 123\nb: !!int '7'\nc: !!float 1\n", "a: !!set {x, y}\n",
    "a: !!binary aGVsbG8=\n", "a: !custom x\n", "a: *nope\n", "a: [1, 2\n", "a:\n  - b\n - c\n", "? [a, b]\n: c\n", "? {a: 1}\n: c\n",
    "a: !!map {b: 1}\nc: !!seq [1]\n", "=: 1\n", "a: =\n", "a: '2010-02-30'\nb: \"08:00\"\n", "- a\n- &y b\n- *y\n",
    "a: &r [1, *r]\n", "x: !!timestamp 2026-02-30\n", "k: ! 12\nl: ! '12'\n", "e: ''\nf:\n", "a: 1\n...\n", "%YAML 1.1\n---\na: 1\n",
    "a: |\n  text\n  more\nb: >\n  folded\n", "\ufeffa: 1\n", "a: ខ្មែរ\n", "[1, 2]: x\n", "a: [[1], {b: c}]\n",
]


def _node_reader(text):
    loader = C._Loader(text)
    loader.duplicates = []
    try:
        return "ok", loader.get_single_data(), loader.duplicates
    except Exception as exc:  # whatever it does, the event reader must have left it alone
        return "error", type(exc).__name__, None
    finally:
        loader.dispose()


def _same(x, y) -> bool:
    if type(x) is not type(y):
        return False
    if isinstance(x, dict):
        return (list(x) == list(y) and (x.mark, x.key_marks, x.value_marks) == (y.mark, y.key_marks, y.value_marks)
                and all(_same(x[k], y[k]) for k in x))
    if isinstance(x, list):
        return len(x) == len(y) and (x.mark, x.item_marks) == (y.mark, y.item_marks) and all(_same(a, b) for a, b in zip(x, y))
    return x == y or (x != x and y != y)  # NaN


def _mutants(text: str, n: int, seed: int = 6) -> list[str]:
    rng, out = random.Random(seed), []
    for _ in range(n):
        lines = text.splitlines()
        j = rng.randrange(len(lines))
        op = rng.choice(["delete", "duplicate", "swap", "insert"])
        if op == "delete":
            del lines[j]
        elif op == "duplicate":
            lines.insert(j, lines[j])
        elif op == "swap" and j + 1 < len(lines):
            lines[j], lines[j + 1] = lines[j + 1], lines[j]
        else:
            k = rng.randrange(len(lines[j]) + 1)
            lines[j] = lines[j][:k] + rng.choice([":", " ", "-", "[", "{", "&a ", "*a", '"', "'", "\t", "2010-02-30", "<<: *a", "!!str "]) + lines[j][k:]
        out.append("\n".join(lines) + "\n")
    return out


def _documents() -> list[str]:
    files = [ROOT / "calendar.yaml", ROOT / "facts.yaml", *sorted(FIXTURES.rglob("*.yaml"))]
    texts = [f.read_text(encoding="utf-8") for f in files if f.is_file()]
    return DOCUMENTS + texts + _mutants(texts[0], 300)


def test_event_reader_matches_the_node_reader_or_steps_aside():
    used = 0
    for text in _documents():
        fast = C._read_events(text)
        if fast is None:
            continue  # the node reader handles it, errors included
        used += 1
        status, data, duplicates = _node_reader(text)
        assert status == "ok", text
        assert _same(fast[0], data) and fast[1] == duplicates, text
    assert used > 200  # the fast path is the common one


@pytest.mark.parametrize("text", ["a: *nope\n", "a: [1, 2\n", "--- a\n--- b\n", "base: &b {x: 1}\nd: {<<: *b}\n", "a: !!set {x}\n", "2010-02-30: x\n"])
def test_unusual_documents_and_errors_are_left_to_the_node_reader(text):
    assert C._read_events(text) is None


def test_read_yaml_reports_duplicates_and_keeps_bad_dates_as_text(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("a: 1\nb: {d: 2010-02-30, e: 9:00}\na: 2\n", encoding="utf-8")
    problems: list = []
    data = C.read_yaml(path, problems)
    assert data["b"]["d"] == "2010-02-30" and data["b"]["e"] == 540 and data.value_marks["b"] == (2, 4)
    assert [(p.line, p.col) for p in problems] == [(3, 1)] and "duplicate key 'a'" in problems[0].message


# ---------------------------------------------------------------- what the reader refuses

BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{n}: &{n} [{', '.join([f'*{p}'] * 9)}]\n" for p, n in zip("abcdefgh", "bcdefghi"))


def _refusal(text, tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(text, encoding="utf-8")
    problems: list = []
    assert C.read_yaml(path, problems) is None
    return [(p.line, p.col, p.message) for p in problems]


def test_an_alias_bomb_is_refused_where_the_aliases_pass_the_limit_by_both_readers(tmp_path):
    # 9 ** 7 = 4.8 million values at 'g': both readers stop at the first alias of line 7 that passes 1,000,000.
    fast = _refusal(BOMB, tmp_path)
    slow = _refusal("base: &base {k: v}\nm: {<<: *base}\n" + BOMB, tmp_path)  # a merge key: the node reader's document
    assert len(fast) == 1 and "aliases repeat more than 1,000,000 values" in fast[0][2] and "'*f'" in fast[0][2]
    assert fast[0][0] == 7 and slow[0][0] == 9 and fast[0][1:] == slow[0][1:]


def test_aliases_that_add_less_than_the_limit_are_read(tmp_path):
    # A block of 31 values repeated for 30,000 events: 930,000 added values, a calendar may do that.
    block = "common: &c {" + ", ".join(f"k{i}: v" for i in range(15)) + "}\n"
    text = block + "events:\n" + "".join(f"  - {{id: e{i}, vars: *c}}\n" for i in range(30_000))
    path = tmp_path / "c.yaml"
    path.write_text(text, encoding="utf-8")
    problems: list = []
    data = C.read_yaml(path, problems)
    assert problems == [] and len(data["events"]) == 30_000 and data["events"][-1]["vars"]["k14"] == "v"


def test_a_recursive_alias_is_refused_at_the_alias(tmp_path):
    assert _refusal("a: 1\nb: &r\n  c: [1, *r]\n", tmp_path) == [
        (3, 10, "the alias '*r' stands inside the collection '&r' it repeats: a value cannot contain itself; write the values out")]


@pytest.mark.parametrize("text, where, what", [
    ("a: 1\nb: x\0y\n", (2, 5), "a NUL byte (U+0000)"),
    ("a: 1\nb: ខ្មែរ\x07\n", (2, 9), "the character U+0007"),
])
def test_a_character_yaml_refuses_is_located(tmp_path, text, where, what):
    assert _refusal(text, tmp_path) == [(*where, f"{what} is not allowed in YAML: delete it (most editors do not show it)")]


def test_a_file_that_is_not_utf8_is_located_at_the_first_bad_byte(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_bytes("a: 1\nb: ខ្មែរ Caf".encode() + b"\xe9\n")
    problems: list = []
    assert C.read_yaml(path, problems) is None
    assert [(p.line, p.col, p.message) for p in problems] == [
        (2, 13, "not UTF-8 text (byte 0xe9): save the file as UTF-8 (in most editors: Save with Encoding, UTF-8)")]
