"""Hostile manifests and source trees, as Hypothesis strategies and a tree builder.

:func:`build_tree` makes a repository next to an ``outside`` folder holding a secret, with
symbolic links pointing out of the repository, at a parent, at themselves and at the
secret file, so that a ``source``, ``entryPoint`` or ``exclude`` drawn from
:data:`HOSTILE_PATHS` has every trap to fall into. The strategies draw whole manifests
(valid ones with hostile values swapped in), raw YAML text built from dangerous
snippets, and raw bytes.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml
from hypothesis import strategies as st

ENV = "64d2ba178dd3f0b1fa2162f0"
SECRET = "TOP-SECRET-OUTSIDE-THE-REPOSITORY"

HOSTILE_PATHS = [
    "..",
    "../..",
    "../outside",
    "../../../../../../etc",
    "/etc",
    "/",
    "~",
    "~/.ssh",
    "./src/../../outside",
    "src/../..",
    "src\x00",
    "C:\\Windows",
    "\\\\server\\share",
    "%2e%2e/%2e%2e",
    "file:///etc",
    "src/./../src",
    "",
    ".",
    "./",
    "src/",
    " src",
    "src\n",
    "-rf",
    "*",
    "**",
    "traps",
    "./traps",
    "traps/link-out",
    "traps/link-parent",
    "traps/link-loop",
    "link-out",
    "link-file",
    "traps/link-file",
    "traps/link-secret",
    "src/link-inside.py",
    "shared",
    "traps/link-out/dir",
    "x" * 5000,
    "src/" + "a/" * 300,
    "src/custom.py",
    "traps/link-out/secret.txt",
    "../outside/secret.txt",
    "run.sh",
    "src/run.sh",
    "/etc/passwd",
    "../../etc/passwd",
    "src/../../../etc/passwd",
    "\uff53\uff52\uff43",  # full-width "src"
    "src\u202e",
    "CON",
    "src/.git",
    ".git",
    "src/__pycache__",
]
HOSTILE_PATTERNS = [
    "../**",
    "!../outside",
    "[",
    "**/[z-a]",
    "\\",
    "",
    "/",
    "*" * 1000,
    "!",
    "#",
    "!*",
    "**/**/**/**/**/**/**/**",
    "src/../../*",
    "/etc/*",
    "\x00",
    "a" * 5000,
    "[!]",
    "{a,b}",
]
YAML_SNIPPETS = [
    "&a [*a, *a]",
    "!!python/object/apply:os.system ['echo pwned']",
    "!!python/name:os.system",
    "<<: *b\n",
    "&b {x: 1}\n",
    "%YAML 1.1\n",
    "---\n",
    "...\n",
    "\t",
    "? [a, b]\n: c\n",
    "key: !!binary AAAA\n",
    "{{{{",
    "[" * 300,
    "]",
    "}",
    ":",
    ": ",
    "- ",
    "\n  ",
    "\u0000",
    "\ufeff",
    "'",
    '"',
    "|\n",
    ">-\n",
    "*undefined",
    "&x\n",
    "metadata: {name: m}\n",
    "spec:\n",
    "  version:\n",
    "    source: ../outside\n",
    "  entryPoint: /etc/passwd\n",
    "kind: CustomJob\n",
    "name: [1,2]\n",
    "1e400",
    ".nan",
    "!!float .inf",
    "0x1F",
    "~",
    "null",
    "yes",
    "on",
    "2001-12-14",
    "!!set {a, b}",
    "!!omap [a: 1]",
    "!!timestamp 2001-12-14t21:59:43.10-05:00",
    "&r [*r]",
    "\r\n",
    "\x85",
]
HEADER = "apiVersion: dr-gitops/v1\nkind: CustomModel\n"
_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(HOSTILE_PATHS),
)
HOSTILE_VALUES = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def build_tree(top: Path) -> Path:
    """A repository under ``top/repo`` with a source folder and traps; returns its root."""
    outside = top / "outside"
    (outside / "dir").mkdir(parents=True)
    (outside / "secret.txt").write_text(SECRET)
    (outside / "dir" / "x.txt").write_text(SECRET)
    repo = top / "repo"
    src = repo / "src"
    src.mkdir(parents=True)
    (repo / ".git").mkdir()
    (src / "custom.py").write_text("def score(data, model, **kw):\n    return data\n")
    (src / "run.sh").write_text("#!/bin/sh\necho hi\n")
    (src / "model-metadata.yaml").write_text("name: m\ntype: inference\ntargetType: regression\n")
    (src / "metadata.yaml").write_text("name: j\n")
    (repo / "shared").mkdir()
    (repo / "shared" / "common.py").write_text("COMMON = 1\n")
    traps = repo / "traps"
    traps.mkdir()
    links = {
        src / "link-inside.py": "../shared/common.py",  # allowed: followed, stays inside
        traps / "link-out": "../../outside",
        traps / "link-secret": "../../outside/secret.txt",
        traps / "link-file": "../../outside/dir/x.txt",
        traps / "link-loop": "link-loop",
        traps / "link-parent": "..",
        repo / "link-out": "../outside",
        repo / "link-file": "../outside/secret.txt",
    }
    for link, target in links.items():
        os.symlink(target, link)
    return repo


@st.composite
def manifests(draw: st.DrawFn) -> dict[str, Any]:
    """A model or job manifest with hostile paths, patterns and values swapped in."""
    # About half of the draws keep each part sane, so that some manifests come out valid
    # and the "nothing outside the repository" property has files to look at.
    careful = draw(st.integers(0, 3)) == 0  # a quarter of the draws are wholly sane
    sane = st.just(True) if careful else st.booleans()
    source = "./src" if draw(sane) else draw(st.sampled_from(HOSTILE_PATHS) | st.text(max_size=20))
    exclude = (
        ["tests/**"]
        if draw(sane)
        else draw(
            st.lists(st.sampled_from(HOSTILE_PATTERNS) | st.text(max_size=10), max_size=4)
            | HOSTILE_VALUES
        )
    )
    if draw(st.booleans()):
        spec: dict[str, Any] = {
            "targetType": "Regression",
            "targetName": "y",
            "version": {"source": source, "baseEnvironmentId": ENV, "exclude": exclude},
        }
        doc = {"apiVersion": "dr-gitops/v1", "kind": "CustomModel", "spec": spec}
    else:
        entry = (
            "run.sh" if draw(sane) else draw(st.sampled_from(HOSTILE_PATHS) | st.text(max_size=20))
        )
        spec = {"environmentId": ENV, "source": source, "entryPoint": entry}
        doc = {"apiVersion": "dr-gitops/v1", "kind": "CustomJob", "spec": spec}
    names = ["m", "j", "k"] if draw(sane) else ["m", "x" * 70, "Bad Name", "", "-", "a" * 63]
    doc["metadata"] = {"name": draw(st.sampled_from(names))}
    for _ in range(0 if draw(sane) else draw(st.integers(1, 3))):
        holders = [doc, spec, doc["metadata"], spec.get("version")]
        target = draw(st.sampled_from([h for h in holders if isinstance(h, dict)]))
        key = draw(st.sampled_from([*target.keys(), "runtimeParameters", "sharing", "adopt"]))
        target[key] = draw(HOSTILE_VALUES)
    return doc


def manifest_text(doc: dict[str, Any]) -> str:
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)


yaml_texts = st.lists(
    st.sampled_from(YAML_SNIPPETS) | st.text(max_size=20), min_size=1, max_size=12
).map(lambda parts: HEADER + "".join(parts))

yaml_bytes = st.binary(max_size=400).map(lambda raw: HEADER.encode() + raw) | st.binary(
    max_size=400
).map(lambda raw: b"\xff\xfe" + raw)
