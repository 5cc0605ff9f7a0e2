"""YAML that remembers where each key, value and item stands, so every problem can be located.

Two readers give the same result: a fast one built on libyaml's event stream for ordinary
documents, and PyYAML's node reader (compose, then construct) for everything else, errors
included. tests/test_yaml_reader.py holds them to that.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

import yaml

from campaigner.errors import Problem, problem_at


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
    duplicates: list[tuple[Any, tuple[int, int]]] = []

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
        where = (event.start_mark.line + 1, event.start_mark.column + 1)
        kind = type(event)
        if kind is AliasEvent:
            if event.anchor not in anchors:
                raise _Unusual("alias")
            return anchors[event.anchor]  # the anchored value, and its mark, as the node reader gives
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
    except Exception:  # unusual, or an error: the node reader reports it as it always did
        return None
    finally:
        loader.dispose()


def read_yaml(path: Path, problems: list[Problem]) -> Any:
    """Parse a YAML file keeping marks; syntax errors and duplicate keys become Problems."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        problems.append(problem_at(path, 0, 0, "file not found (pass --calendar PATH or set CAMPAIGNER_CALENDAR)"))
        return None
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(problem_at(path, 0, 0, f"cannot read the file: {exc}"))
        return None
    read = _read_events(text)
    if read is not None:
        data, duplicates = read
    else:
        loader = _Loader(text)
        loader.duplicates = duplicates = []
        try:
            data = loader.get_single_data()
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
