"""YAML that remembers where each key, value and item stands, so every problem can be located.

Two readers give the same result: a fast one built on libyaml's event stream for ordinary
documents, and PyYAML's node reader (compose, then construct) for everything else, errors
included. tests/test_yaml_reader.py holds them to that.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

import yaml

from campaigner.errors import ConfigError, Problem, problem_at, read_utf8

# Aliases (*name) repeat what an anchor (&name) wrote without copying it, but everything after the
# reader (plain values for templates, the renders) walks the repeats. A 1 KB document of nine lists
# of nine aliases expands to 387 million values: more than this many added by aliases is refused.
ALIAS_LIMIT = 1_000_000


class MarkedDict(dict):
    """A mapping that remembers where each key and value stands (1-based line, col)."""

    def __init__(self) -> None:
        super().__init__()
        self.key_marks: dict[Any, tuple[int, int]] = {}
        self.value_marks: dict[Any, tuple[int, int]] = {}
        self.mark: tuple[int, int] = (0, 0)


class MarkedList(list):
    """A sequence that remembers where each item stands."""

    def __init__(self) -> None:
        super().__init__()
        self.item_marks: list[tuple[int, int]] = []
        self.mark: tuple[int, int] = (0, 0)


def _mark(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


_BaseLoader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_BaseLoader):
    duplicates: list[tuple[Any, tuple[int, int]]]


def _construct_map(loader: _Loader, node: yaml.MappingNode) -> Iterable[MarkedDict]:
    data = MarkedDict()
    data.mark = _mark(node)
    yield data
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if isinstance(key, (list, dict)):
            key = str(key)
        if key in data:
            loader.duplicates.append((key, _mark(key_node)))
        data[key] = _construct_value(loader, value_node)
        data.key_marks[key] = _mark(key_node)
        data.value_marks[key] = _mark(value_node)


def _construct_seq(loader: _Loader, node: yaml.SequenceNode) -> Iterable[MarkedList]:
    data = MarkedList()
    data.mark = _mark(node)
    yield data
    for item in node.value:
        data.append(_construct_value(loader, item))
        data.item_marks.append(_mark(item))


def _construct_value(loader: _Loader, node: yaml.Node) -> Any:
    try:
        return loader.construct_object(node, deep=True)
    except ValueError:
        # A scalar that looks typed but is not (2010-02-30): keep its text so the checks locate it.
        if isinstance(node, yaml.ScalarNode):
            return node.value
        raise


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_map)
_Loader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)


class _Refused(Exception):
    """A document the reader refuses, with where and why (an alias bomb, a recursive alias)."""

    def __init__(self, line: int, col: int, message: str):
        super().__init__(message)
        self.line, self.col, self.message = line, col, message


def _too_many(line: int, col: int, name: str) -> _Refused:
    return _Refused(line, col, f"with the alias '*{name}', aliases repeat more than {ALIAS_LIMIT:,} values "
                               "(aliases inside aliases multiply): write the values out, or nest fewer aliases")


def _recursive(line: int, col: int, name: str) -> _Refused:
    return _Refused(line, col, f"the alias '*{name}' stands inside the collection '&{name}' it repeats: "
                               "a value cannot contain itself; write the values out")


def _check_aliases(text: str) -> None:
    """Count the values aliases add, from the event stream alone; raise _Refused past ALIAS_LIMIT
    or at a recursive alias. Errors of any other kind are left to the node reader."""
    from yaml.events import AliasEvent, CollectionEndEvent, CollectionStartEvent, DocumentStartEvent, ScalarEvent

    loader = _Loader(text)
    sizes: dict[str, int] = {}  # anchor -> how many values it stands for, aliases inside included
    open_: list[tuple[str | None, int]] = []  # the collections being read: (anchor, count at start)
    count = added = 0
    try:
        while not loader.check_event(yaml.StreamEndEvent):
            event = loader.get_event()
            if isinstance(event, DocumentStartEvent):
                sizes.clear()
            elif isinstance(event, AliasEvent):
                mark: Any = event.start_mark  # an alias event always has its marks
                where, name = (mark.line + 1, mark.column + 1), str(event.anchor)
                if any(anchor == name for anchor, _ in open_):
                    raise _recursive(*where, name)
                size = sizes.get(name, 1)
                count += size
                added += size
                if added > ALIAS_LIMIT:
                    raise _too_many(*where, name)
            elif isinstance(event, ScalarEvent):
                count += 1
                if event.anchor is not None:
                    sizes[event.anchor] = 1
            elif isinstance(event, CollectionStartEvent):
                count += 1
                open_.append((event.anchor, count))
            elif isinstance(event, CollectionEndEvent):
                anchor, start = open_.pop()
                if anchor is not None:
                    sizes[anchor] = count - start + 1
    except yaml.YAMLError:
        return
    finally:
        loader.dispose()


class _Unusual(Exception):
    """Something the event reader leaves to the node reader."""


_STR, _MAP, _SEQ = "tag:yaml.org,2002:str", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"
_LEFT_TO_NODES = ("tag:yaml.org,2002:merge", "tag:yaml.org,2002:value")


def _read_events(text: str) -> tuple[Any, list[tuple[Any, tuple[int, int]]]] | None:
    """The same data, marks and duplicates as the node reader, built straight from libyaml's events.

    The node reader (compose a node tree, then construct it) calls back into Python four times per
    scalar and keeps the whole tree: most of `plan` for a calendar of 10,000 events. This reader
    resolves and constructs each scalar as it arrives, with the loader's own resolvers and
    constructors. It returns None, and the node reader decides, for anything it does not do the
    same way: explicit collection tags, merge keys, an alias to an unfinished collection, more
    than one document, and every error.
    """
    from yaml.events import AliasEvent, MappingEndEvent, MappingStartEvent, ScalarEvent, SequenceEndEvent, SequenceStartEvent

    loader = _Loader(text)
    get = loader.get_event
    resolvers = loader.yaml_implicit_resolvers
    wildcard = resolvers.get(None, [])
    constructors = loader.yaml_constructors
    anchors: dict[str, tuple[Any, tuple[int, int]]] = {}
    sizes: dict[str, int] = {}  # anchor -> how many values it stands for (see ALIAS_LIMIT)
    duplicates: list[tuple[Any, tuple[int, int]]] = []
    count = added = 0

    def scalar(event: ScalarEvent, lenient: bool) -> Any:
        value, tag = event.value, event.tag
        if tag is None or tag == "!":
            if not event.implicit[0]:
                return value
            tag = _STR
            for candidate, regexp in resolvers.get(value[0] if value else "", []) + wildcard:
                if regexp.match(value):
                    tag = candidate
                    break
        if tag == _STR:
            return value
        if tag in _LEFT_TO_NODES or tag not in constructors or tag in (_MAP, _SEQ):
            raise _Unusual(tag)
        try:
            start: Any = event.start_mark  # libyaml's own Mark type, which the node accepts as it is
            end: Any = event.end_mark
            return constructors[tag](loader, yaml.ScalarNode(tag, value, start, end, event.style))
        except ValueError:
            if lenient:  # as _construct_value: a value or item that looks typed but is not keeps its text
                return value
            raise

    def node(event: Any, lenient: bool = True) -> tuple[Any, tuple[int, int]]:
        nonlocal count, added
        where = (event.start_mark.line + 1, event.start_mark.column + 1)
        kind = type(event)
        if kind is AliasEvent:
            if event.anchor not in anchors:
                raise _Unusual("alias")
            count += sizes[event.anchor]
            added += sizes[event.anchor]
            if added > ALIAS_LIMIT:
                raise _too_many(*where, event.anchor)
            return anchors[event.anchor]  # the anchored value, and its mark, as the node reader gives
        count += 1
        first = count
        if kind is ScalarEvent:
            value: Any = scalar(event, lenient)
        elif kind is MappingStartEvent:
            if event.tag not in (None, "!", _MAP):
                raise _Unusual(event.tag)
            value = MarkedDict()
            value.mark = where
            while True:
                key_event = get()
                if type(key_event) is MappingEndEvent:
                    break
                key, key_mark = node(key_event, lenient=False)
                if isinstance(key, (list, dict)):
                    key = str(key)
                if key in value:
                    duplicates.append((key, key_mark))
                value[key], value.value_marks[key] = node(get())
                value.key_marks[key] = key_mark
        elif kind is SequenceStartEvent:
            if event.tag not in (None, "!", _SEQ):
                raise _Unusual(event.tag)
            value = MarkedList()
            value.mark = where
            while True:
                item_event = get()
                if type(item_event) is SequenceEndEvent:
                    break
                item, item_mark = node(item_event)
                value.append(item)
                value.item_marks.append(item_mark)
        else:
            raise _Unusual(kind.__name__)
        if event.anchor is not None:
            anchors[event.anchor] = (value, where)
            sizes[event.anchor] = count - first + 1
        return value, where

    try:
        get()  # stream start
        if loader.check_event(yaml.StreamEndEvent):
            return None, duplicates
        get()  # document start
        data, _ = node(get(), lenient=False)
        get()  # document end
        if not loader.check_event(yaml.StreamEndEvent):
            raise _Unusual("documents")
        return data, duplicates
    except _Refused:
        raise
    except Exception:  # unusual, or an error: the node reader reports it as it always did
        return None
    finally:
        loader.dispose()


def read_yaml(path: Path, problems: list[Problem]) -> Any:
    """Parse a YAML file keeping marks; syntax errors and duplicate keys become Problems."""
    try:
        text = read_utf8(path)
    except FileNotFoundError:
        problems.append(problem_at(path, 0, 0, "file not found (pass --calendar PATH or set CAMPAIGNER_CALENDAR)"))
        return None
    except ConfigError as exc:  # not UTF-8, located
        problems.extend(exc.problems)
        return None
    except (OSError, RuntimeError) as exc:  # RuntimeError: a symlink loop, before Python 3.13
        problems.append(problem_at(path, 0, 0, f"cannot read the file: {getattr(exc, 'strerror', None) or exc}"))
        return None
    try:
        read = _read_events(text)
        if read is None and "*" in text:  # the node reader expands aliases as it goes: count them first
            _check_aliases(text)
    except _Refused as exc:
        problems.append(problem_at(path, exc.line, exc.col, exc.message))
        return None
    if read is not None:
        data, duplicates = read
    else:
        loader = _Loader(text)
        loader.duplicates = duplicates = []
        try:
            data = loader.get_single_data()
        except yaml.reader.ReaderError as exc:  # a character YAML does not allow (a NUL byte, a control character)
            position = exc.position
            if _BaseLoader is not yaml.SafeLoader:  # libyaml counts the bytes of the UTF-8 text, PyYAML characters
                position = len(text.encode("utf-8")[:position].decode("utf-8", "ignore"))
            line, col = _line_col(text, position)
            code = exc.character if isinstance(exc.character, int) else ord(exc.character)
            what = "a NUL byte (U+0000)" if code == 0 else f"the character U+{code:04X}"
            problems.append(problem_at(path, line, col, f"{what} is not allowed in YAML: delete it (most editors do not show it)"))
            return None
        except yaml.MarkedYAMLError as exc:
            m = exc.problem_mark or exc.context_mark
            line, col = (m.line + 1, m.column + 1) if m else (0, 0)
            what = exc.problem or exc.context or "invalid YAML"
            problems.append(problem_at(path, line, col, f"YAML syntax: {what} (check indentation, colons and quotes)"))
            return None
        except yaml.YAMLError as exc:
            problems.append(problem_at(path, 0, 0, f"YAML syntax: {exc}"))
            return None
        finally:
            loader.dispose()
    for key, (line, col) in duplicates:
        problems.append(problem_at(path, line, col, f"duplicate key '{key}': each key may appear once in a mapping"))
    return data


def _line_col(text: str, position: int) -> tuple[int, int]:
    """1-based line and column of a character offset."""
    line = text.count("\n", 0, position) + 1
    return line, position - (text.rfind("\n", 0, position) + 1) + 1
