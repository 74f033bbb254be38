"""Writing manifests as YAML people read: key order kept, comments where they help (pure).

PyYAML cannot write comments, and manifests want them (the editor modeline, a note where a
secret was left out, a block to uncomment), so documents are laid out here line by line
while every value is still spelled by PyYAML (or, for text with line breaks, as an
escaped double-quoted scalar on one line). :func:`to_yaml` reads its own output
back and refuses to return text that would not load as the data it was given.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

Path = tuple[str, ...]
_LINE_BREAKS = ("\n", "\r", "\x85", "\u2028", "\u2029")
_WIDTH = 2**30
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


@dataclass(frozen=True)
class Commented:
    """A document to write: ``data`` plus comment lines.

    ``header`` lines go first; ``notes`` are keyed by the path of a mapping inside ``data``
    (``("spec", "version")``) and are written at the end of that mapping; ``trailing``
    holds a comment for one item of a list, keyed by the list's path and the item's index.
    """

    data: Mapping[str, Any]
    header: tuple[str, ...] = ()
    notes: Mapping[Path, tuple[str, ...]] = field(default_factory=dict)
    trailing: Mapping[tuple[Path, int], str] = field(default_factory=dict)


class YamlWritingError(RuntimeError):
    """The YAML written would not read back as the data (a bug, never a user mistake)."""


def to_yaml(document: Commented) -> str:
    """The document as YAML text, checked by reading it back."""
    lines = [f"# {_comment(line)}".rstrip() for line in document.header]
    _mapping(document.data, (), 0, lines, document)
    text = "\n".join(lines) + "\n"
    if yaml.safe_load(text) != _plain(document.data):
        raise YamlWritingError("the manifest written does not read back as the data exported")
    return text


def flow(value: Any) -> str:
    """One value on one line: a scalar, or a small mapping or list in flow style."""
    text = yaml.safe_dump(
        value, default_flow_style=True, allow_unicode=True, sort_keys=False, width=_WIDTH
    )
    text = text.removesuffix("\n...\n").removesuffix("\n")
    if not any(mark in text for mark in _LINE_BREAKS):
        return text
    # PyYAML folds text with line breaks over several lines; spell it escaped instead.
    if isinstance(value, str):
        return _double_quoted(value)
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{flow(k)}: {flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(flow(v) for v in value) + "]"
    return text


def _double_quoted(text: str) -> str:
    """A YAML double-quoted scalar with every character that could break a line escaped."""
    out = []
    for char in text:
        code = ord(char)
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif code < 0x20 or 0x7F <= code < 0xA0 or char in _LINE_BREAKS or code == 0xFEFF:
            out.append(f"\\u{code:04x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def block(data: Mapping[str, Any]) -> list[str]:
    """``data`` as block-style lines without comments (for a commented-out example)."""
    lines: list[str] = []
    _mapping(data, (), 0, lines, Commented(data))
    return lines


def _mapping(
    data: Mapping[str, Any], path: Path, depth: int, lines: list[str], doc: Commented
) -> None:
    pad = "  " * depth
    for key, value in data.items():
        here = (*path, key)
        if isinstance(value, Mapping) and path[-1:] == ("runtimeParameters",):
            lines.append(f"{pad}{flow(key)}: {flow(value)}")  # {credentialId: ...}
        elif isinstance(value, Mapping):
            if value:
                lines.append(f"{pad}{flow(key)}:")
                _mapping(value, here, depth + 1, lines, doc)
            else:
                lines.append(f"{pad}{flow(key)}: {{}}")
                lines.extend(f"{pad}  # {_comment(n)}".rstrip() for n in doc.notes.get(here, ()))
        elif isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
            lines.append(f"{pad}{flow(key)}:")
            lines.extend(_items(value, here, pad, doc))
        else:
            lines.append(f"{pad}{flow(key)}: {flow(value)}")
    if data:
        lines.extend(f"{pad}# {_comment(n)}".rstrip() for n in doc.notes.get(path, ()))


def _items(values: Sequence[Any], path: Path, pad: str, doc: Commented) -> list[str]:
    out = []
    for index, item in enumerate(values):
        comment = doc.trailing.get((path, index))
        out.append(f"{pad}  - {flow(item)}" + (f"  # {_comment(comment)}" if comment else ""))
    return out


def _comment(text: str) -> str:
    """Comment text on one line, whatever it quotes (a name with a line break...)."""
    for mark in _LINE_BREAKS:
        text = text.replace(mark, " ")
    return text


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value
