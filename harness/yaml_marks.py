"""YAML that remembers where things are: parse once, keep the node tree for line numbers.

pydantic reports a problem as a ``loc`` tuple; :func:`locate` walks the same path through the
composed nodes to name the field the way a user reads the file (``faults[2].schedule.every_s``)
and the line it is on.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

#: keys whose value selects the variant of a tagged union (pydantic puts the tag into ``loc``)
TAG_KEYS = ("type", "kind")

#: Limits for YAML from an untrusted file (a scenario is a few hundred nodes; these are far above that).
MAX_YAML_BYTES = 1024 * 1024          # the text itself
MAX_YAML_DEPTH = 64                   # nested mappings / sequences
MAX_YAML_EVENTS = 200_000             # parser events (scalars, starts, ends, aliases) before expansion
MAX_YAML_NODES = 200_000              # nodes after every alias is expanded (a 9x9 alias bomb is 4e8)


class YamlProblem(ValueError):
    """The text is not YAML (or repeats a key); carries the 1-based line."""

    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.message, self.line = message, line


def parse(text: str) -> tuple[Any, Node | None]:
    """The document's data and its node tree (None for an empty document).

    Untrusted text: refused (:class:`YamlProblem`) above :data:`MAX_YAML_BYTES`, nesting deeper than
    :data:`MAX_YAML_DEPTH`, more than :data:`MAX_YAML_NODES` nodes once aliases are expanded, or an
    alias that contains itself, before anything walks the document recursively."""
    size = len(text.encode("utf-8", "surrogatepass")) if len(text) * 4 > MAX_YAML_BYTES else len(text)
    if size > MAX_YAML_BYTES:
        raise YamlProblem(f"the text is {size} bytes; a scenario or an evidence YAML file is at most "
                          f"{MAX_YAML_BYTES} bytes", None)
    _check_events(text)
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, None
        _check_expansion(node)
        _refuse_duplicate_keys(node)
        return loader.construct_document(node), node
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        problem = " ".join(p for p in (e.context, e.problem) if p) or str(e)
        raise YamlProblem(problem, mark.line + 1 if mark else None) from None
    except yaml.YAMLError as e:
        raise YamlProblem(str(e), None) from None
    finally:
        loader.dispose()


def _check_events(text: str) -> None:
    """Depth and size from the event stream (PyYAML's parser is not recursive; its composer is)."""
    depth = events = 0
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            events += 1
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
                if depth > MAX_YAML_DEPTH:
                    raise YamlProblem(f"nesting deeper than {MAX_YAML_DEPTH} levels",
                                      event.start_mark.line + 1 if event.start_mark else None)
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
            if events > MAX_YAML_EVENTS:
                raise YamlProblem(f"more than {MAX_YAML_EVENTS} YAML elements",
                                  event.start_mark.line + 1 if event.start_mark else None)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        problem = " ".join(p for p in (e.context, e.problem) if p) or str(e)
        raise YamlProblem(problem, mark.line + 1 if mark else None) from None
    except yaml.YAMLError as e:
        raise YamlProblem(str(e), None) from None


def _check_expansion(root: Node) -> None:
    """Count nodes as if every alias were expanded (memoised, iterative); refuse self-containing aliases."""
    expanded: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if children_done:
            on_path.discard(key)
            total = 1 + sum(expanded[id(c)] for c in _children(node))
            if total > MAX_YAML_NODES:
                raise YamlProblem(f"the document expands to more than {MAX_YAML_NODES} elements (aliases "
                                  f"repeating aliases?)", node.start_mark.line + 1)
            expanded[key] = total
            continue
        if key in expanded:
            continue
        if key in on_path:
            raise YamlProblem("an alias refers to a node that contains it (a recursive alias)",
                              node.start_mark.line + 1)
        on_path.add(key)
        stack.append((node, True))
        for child in _children(node):
            if id(child) in on_path:
                raise YamlProblem("an alias refers to a node that contains it (a recursive alias)",
                                  child.start_mark.line + 1)
            if id(child) not in expanded:
                stack.append((child, False))


def _children(node: Node) -> list[Node]:
    if isinstance(node, MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, SequenceNode):
        return list(node.value)
    return []


def _refuse_duplicate_keys(node: Node) -> None:
    """PyYAML keeps the last of two equal keys silently; a scenario must not lose the first."""
    if isinstance(node, MappingNode):
        seen: dict[str, int] = {}
        for key, value in node.value:
            if isinstance(key, ScalarNode):
                if key.value in seen:
                    raise YamlProblem(f"key {key.value!r} appears twice (first on line {seen[key.value]})",
                                      key.start_mark.line + 1)
                seen[key.value] = key.start_mark.line + 1
            _refuse_duplicate_keys(value)
    elif isinstance(node, SequenceNode):
        for item in node.value:
            _refuse_duplicate_keys(item)


def _mapping_get(node: MappingNode, key: str) -> tuple[Node, Node] | None:
    for k, v in node.value:
        if isinstance(k, ScalarNode) and k.value == key:
            return k, v
    return None


def locate(root: Node | None, loc: Sequence[str | int]) -> tuple[str, int | None]:
    """``(field path, line)`` of a pydantic ``loc`` in the document rooted at ``root``.

    Union tags in ``loc`` (a name that is not a key but the value of the mapping's ``type`` or
    ``kind``) are skipped. A missing key resolves to the line of the mapping that lacks it."""
    node, line = root, (root.start_mark.line + 1 if root is not None else None)
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
            if isinstance(node, SequenceNode) and 0 <= part < len(node.value):
                node = node.value[part]
                line = node.start_mark.line + 1
            else:
                node = None
            continue
        if part == "[key]":  # pydantic's marker for a problem with a mapping key rather than its value
            continue
        if isinstance(node, MappingNode):
            hit = _mapping_get(node, part)
            if hit is None and _is_tag(node, part):
                continue
            path += f".{part}" if path else part
            if hit is not None:
                key_node, node = hit
                line = key_node.start_mark.line + 1
            else:
                node = None
            continue
        path += f".{part}" if path else str(part)
        node = None
    return path, line


def _is_tag(node: MappingNode, name: str) -> bool:
    for key in TAG_KEYS:
        hit = _mapping_get(node, key)
        if hit is not None and isinstance(hit[1], ScalarNode) and hit[1].value == name:
            return True
    return False
