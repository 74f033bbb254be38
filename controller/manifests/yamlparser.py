"""Reading YAML safely, with the line of every value.

PyYAML's loaders accept duplicate keys silently, expand aliases without bound and forget
where a value came from. Here a file is decoded (UTF-8 only), composed into nodes by
libyaml's safe composer when available, then converted to plain Python values by our own
walk, which records the line of each key and item, rejects duplicate keys, non-string keys,
non-finite numbers, recursive aliases and documents that expand past the limits.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from controller.manifests.limits import ManifestLimits
from controller.manifests.problems import FieldPath, Problem, Severity, dotted

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_MERGE_TAG = "tag:yaml.org,2002:merge"
_STR_TAG = "tag:yaml.org,2002:str"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


@dataclass(frozen=True)
class Document:
    """One YAML document: its data as plain values and the line of every field path."""

    file: str
    index: int
    line: int
    data: Any
    lines: Mapping[FieldPath, int] = field(repr=False)

    def line_of(self, path: FieldPath) -> int:
        """The line of ``path``, or of its nearest parent that has one."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(path[:end])
            if line:
                return line
        return self.line

    def problem(
        self, path: FieldPath, message: str, hint: str = "", severity: Severity = "error"
    ) -> Problem:
        return Problem(
            self.file, self.line_of(path), self.index, dotted(path), message, hint, severity
        )


class YamlProblem(Exception):
    """A file or document that cannot be read; carries the problem to report."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


def decode(raw: bytes, file: str) -> str:
    """The text of a YAML file; only UTF-8 (with or without a BOM) is accepted."""
    if raw.startswith(_UTF16_BOMS):
        raise YamlProblem(
            Problem(file, 1, 0, "", "the file is encoded as UTF-16", "save it as UTF-8")
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise YamlProblem(
            Problem(
                file,
                line,
                0,
                "",
                f"the file is not valid UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start})",
                "save it as UTF-8",
            )
        ) from None


def parse_documents(text: str, file: str, limits: ManifestLimits) -> list[Document]:
    """Every document of ``text``; an empty document has ``data`` None.

    Raises :class:`YamlProblem` for a file that is not valid YAML or breaks a limit.
    """
    try:
        nodes = list(yaml.compose_all(text, Loader=_Loader))
    except yaml.YAMLError as exc:
        raise YamlProblem(_syntax_problem(exc, text, file)) from None
    converter = _Converter(file, limits)
    documents: list[Document] = []
    for index, node in enumerate(nodes, start=1):
        if _is_empty(node):
            documents.append(Document(file, index, node.start_mark.line + 1, None, {}))
            continue
        lines: dict[FieldPath, int] = {(): node.start_mark.line + 1}
        data = converter.convert(node, (), lines, index)
        documents.append(Document(file, index, node.start_mark.line + 1, data, lines))
    return documents


def _is_empty(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.tag.endswith(":null") and node.value in ("", "~")


def _syntax_problem(exc: yaml.YAMLError, text: str, file: str) -> Problem:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line = mark.line + 1 if mark is not None else 0
    tab_line = _first_tab_indented_line(text, upto=line or None)
    if tab_line:
        return Problem(
            file, tab_line, 0, "", "a tab is used for indentation", "indent with spaces only"
        )
    what = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return Problem(file, line, 0, "", f"not valid YAML: {what}", "fix the YAML syntax here")


def _first_tab_indented_line(text: str, upto: int | None) -> int:
    for number, raw in enumerate(text.splitlines(), start=1):
        if upto is not None and number > upto:
            break
        stripped = raw.lstrip(" \t")
        if stripped and "\t" in raw[: len(raw) - len(stripped)]:
            return number
    return 0


class _Converter:
    """Turns composed nodes into plain values, enforcing the limits of one file."""

    def __init__(self, file: str, limits: ManifestLimits) -> None:
        self.file = file
        self.limits = limits
        self.count = 0
        self.constructor = SafeConstructor()
        self.active: set[int] = set()

    def fail(self, node: Node, index: int, path: FieldPath, message: str, hint: str) -> YamlProblem:
        line = node.start_mark.line + 1
        # Past the limits the full path is noise: name the top-level field only.
        where = dotted(path[:2]) + (" ..." if len(path) > 2 else "")
        return YamlProblem(Problem(self.file, line, index, where, message, hint))

    def convert(self, node: Node, path: FieldPath, lines: dict[FieldPath, int], index: int) -> Any:
        self.count += 1
        if self.count > self.limits.max_yaml_values:
            raise self.fail(
                node,
                index,
                path,
                f"the file expands to more than {self.limits.max_yaml_values} values "
                "(too large, or aliases that multiply)",
                "split the file, or use fewer aliases",
            )
        if len(path) > self.limits.max_yaml_depth:
            raise self.fail(
                node,
                index,
                path,
                f"values are nested more than {self.limits.max_yaml_depth} levels deep",
                "flatten the document",
            )
        if isinstance(node, ScalarNode):
            return self._scalar(node, path, index)
        if id(node) in self.active:
            raise self.fail(node, index, path, "an alias refers to itself", "remove the recursion")
        self.active.add(id(node))
        try:
            if isinstance(node, SequenceNode):
                return self._sequence(node, path, lines, index)
            if isinstance(node, MappingNode):
                return self._mapping(node, path, lines, index)
        finally:
            self.active.discard(id(node))
        raise self.fail(node, index, path, "unsupported YAML node", "use plain YAML values")

    def _scalar(self, node: ScalarNode, path: FieldPath, index: int) -> Any:
        if node.tag == _STR_TAG:  # most values: skip the constructor's bookkeeping
            return node.value
        build = SafeConstructor.yaml_constructors.get(node.tag)
        if build is None:
            raise self.fail(node, index, path, f"unsupported tag {node.tag}", "remove the tag")
        try:
            value = build(self.constructor, node)
        except yaml.YAMLError as exc:
            raise self.fail(
                node, index, path, f"cannot read this value: {exc}", "write a plain value"
            ) from None
        except (ValueError, TypeError, KeyError, AttributeError, OverflowError):
            # SafeConstructor's builders raise these for a tagged value its type cannot
            # hold (``!!int abc``, ``!!timestamp nope``).
            raise self.fail(
                node,
                index,
                path,
                f"{node.value!r} is not a valid {node.tag.rsplit(':', 1)[-1]}",
                "remove the tag or write a value of that type",
            ) from None
        if isinstance(value, float) and not math.isfinite(value):
            raise self.fail(node, index, path, "not a finite number", "write a finite number")
        if isinstance(value, bytes):
            raise self.fail(node, index, path, "binary values are not supported", "write text")
        return value

    def _sequence(
        self, node: SequenceNode, path: FieldPath, lines: dict[FieldPath, int], index: int
    ) -> list[Any]:
        out: list[Any] = []
        for position, item in enumerate(node.value):
            item_path = (*path, position)
            lines[item_path] = item.start_mark.line + 1
            out.append(self.convert(item, item_path, lines, index))
        return out

    def _mapping(
        self, node: MappingNode, path: FieldPath, lines: dict[FieldPath, int], index: int
    ) -> dict[str, Any]:
        out: dict[str, Any] = {}
        merged: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                merged.update(self._merge(value_node, path, lines, index))
                continue
            key = self._scalar(key_node, path, index) if isinstance(key_node, ScalarNode) else None
            if not isinstance(key, str):
                raise self.fail(
                    key_node,
                    index,
                    path,
                    f"the key {key_node.value!r} is not a string"
                    if isinstance(key_node, ScalarNode)
                    else "a key is not a string",
                    f'quote it: "{key_node.value}"' if isinstance(key_node, ScalarNode) else "",
                )
            if key in out:
                raise self.fail(
                    key_node,
                    index,
                    (*path, key),
                    f"duplicate key {key!r} (first on line {lines[(*path, key)]})",
                    "keep one of them",
                )
            lines[(*path, key)] = key_node.start_mark.line + 1
            out[key] = self.convert(value_node, (*path, key), lines, index)
        for key, value in merged.items():
            out.setdefault(key, value)
        return out

    def _merge(
        self, node: Node, path: FieldPath, lines: dict[FieldPath, int], index: int
    ) -> dict[str, Any]:
        sources = node.value if isinstance(node, SequenceNode) else [node]
        merged: dict[str, Any] = {}
        for source in reversed(sources):
            if not isinstance(source, MappingNode):
                raise self.fail(source, index, path, "`<<` merges only mappings", "merge a mapping")
            for key, value in self._mapping(source, path, lines, index).items():
                merged[key] = value
        return merged
