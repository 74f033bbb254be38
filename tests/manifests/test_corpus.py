"""The bad-input corpus: each folder under corpus/ is one case, validated by the real CLI.

A case folder holds ``repo/`` (the files to validate) and ``case.yaml``:

- ``expect``: lines the output must contain (file:line: document N: field: message ...);
- ``exit``: the expected exit code (default 1);
- ``forbid``: text that must never appear in the output (secrets);
- ``setup``: what cannot be committed, made in the temp copy before validating:
  ``symlinks`` (path → target; ``{outside}`` is a folder outside the repository),
  ``sparse`` (path → size in bytes), ``many_files`` (folder → count),
  ``pad`` (path → size: comment lines appended), ``outside`` (name → content).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from controller.cli import main

CORPUS = Path(__file__).parent / "corpus"
CASES = sorted(p.name for p in CORPUS.iterdir() if (p / "case.yaml").is_file())


def _setup(repo: Path, outside: Path, setup: dict[str, Any]) -> None:
    for name, content in setup.get("outside", {}).items():
        (outside / name).parent.mkdir(parents=True, exist_ok=True)
        (outside / name).write_text(content, encoding="utf-8")
    for link, target in setup.get("symlinks", {}).items():
        (repo / link).parent.mkdir(parents=True, exist_ok=True)
        os.symlink(target.replace("{outside}", str(outside)), repo / link)
    for rel, size in setup.get("sparse", {}).items():
        with open(repo / rel, "wb") as handle:
            handle.truncate(size)
    for rel, count in setup.get("many_files", {}).items():
        (repo / rel).mkdir(parents=True, exist_ok=True)
        for number in range(count):
            (repo / rel / f"part-{number:05d}.txt").write_bytes(b"x")
    for rel, size in setup.get("pad", {}).items():
        with open(repo / rel, "a", encoding="utf-8") as handle:
            line = "# " + "padding " * 12 + "\n"
            handle.write(line * (size // len(line) + 1))


@pytest.mark.parametrize("case", CASES)
def test_corpus_case_reports_its_problem(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = yaml.safe_load((CORPUS / case / "case.yaml").read_text(encoding="utf-8"))
    repo, outside = tmp_path / "repo", tmp_path / "outside"
    shutil.copytree(CORPUS / case / "repo", repo, symlinks=True)
    outside.mkdir()
    _setup(repo, outside, spec.get("setup", {}))

    code = main(["validate", str(repo)])
    out = capsys.readouterr()

    assert "Traceback" not in out.out + out.err
    assert code == spec.get("exit", 1), out.out
    for line in spec["expect"]:
        assert line in out.out, f"expected {line!r} in:\n{out.out}"
    for text in spec.get("forbid", []):
        assert text not in out.out + out.err


def test_every_corpus_case_names_an_expectation() -> None:
    assert len(CASES) >= 30
    for case in CASES:
        spec = yaml.safe_load((CORPUS / case / "case.yaml").read_text(encoding="utf-8"))
        assert spec["expect"], case
