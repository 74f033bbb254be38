"""Just enough of GitLab CI to run the example's jobs: `extends`, `rules: if`, scripts.

``resolve`` merges a job with the hidden jobs it extends (hashes deep-merged, the job's own
keys winning, as GitLab does). ``rule_matches`` evaluates the ``$VAR == "value"`` /
``$A == $B`` clauses (joined by ``&&``) the example uses and refuses anything else, so a
change that needs more is noticed. ``run_script`` runs ``before_script`` and ``script`` as
one bash script with ``-eo pipefail``, as the runner does; unless told to install for real,
it leaves out the install lines (``git clone`` and checkout, ``venv``, ``pip``) and points the folder
they would fill (or the image's ``/usr/local/bin``) at the machine's stand-ins.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_CLAUSE = re.compile(r'^\$(?P<var>\w+)\s*(?P<op>==|!=)\s*(?:"(?P<text>[^"]*)"|\$(?P<other>\w+))$')


def resolve(config: Mapping[str, Any], name: str) -> dict[str, Any]:
    """Job ``name`` with everything it ``extends`` merged in."""
    job = dict(config[name])
    parents = job.pop("extends", [])
    merged: dict[str, Any] = {}
    for parent in [parents] if isinstance(parents, str) else parents:
        merged = _deep_merge(merged, resolve(config, parent))
    return _deep_merge(merged, job)


def _deep_merge(base: Mapping[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    result = dict(base)
    for key, value in top.items():
        if isinstance(value, Mapping) and isinstance(result.get(key), Mapping):
            result[key] = _deep_merge(result[key], value)
        else:
            result[key] = value
    return result


def rule_matches(expression: str, env: Mapping[str, str]) -> bool:
    """Whether ``rules: - if: expression`` holds in ``env``."""
    for clause in expression.split("&&"):
        found = _CLAUSE.match(clause.strip())
        if not found:
            raise ValueError(f"unsupported rule clause {clause!r}")
        left = env.get(found["var"])
        right = found["text"] if found["other"] is None else env.get(found["other"])
        if (left == right) != (found["op"] == "=="):
            return False
    return True


def job_runs(job: Mapping[str, Any], env: Mapping[str, str]) -> bool:
    """The first matching rule decides; no rule matching means the job is left out."""
    for rule in job.get("rules", []):
        if rule_matches(rule["if"], env):
            return rule.get("when", "on_success") != "never"
    return False


@dataclass(frozen=True)
class ScriptResult:
    code: int
    output: str


_INSTALL = re.compile(r"git clone|git -C \"\$dr_gitops_home/src\"| -m venv | -m pip ")


def run_script(
    job: Mapping[str, Any],
    env: Mapping[str, str],
    workspace: Path,
    *,
    install: bool = False,
    stand_ins: tuple[Path, Path] | None = None,
) -> ScriptResult:
    """Run the job's shell lines in one bash, with project variables over the YAML's.

    ``stand_ins``: (the folder standing for ``mktemp -d``, the one for ``/usr/local/bin``)
    when installs are left out."""
    lines = list(job.get("before_script", []))
    if not install:
        assert stand_ins is not None
        home, image_bin = stand_ins
        lines = [
            f'dr_gitops_home="{home}"' if line.startswith("dr_gitops_home=") else line
            for line in lines
            if not _INSTALL.search(line)
        ]
        lines = [line.replace("/usr/local/bin/", f"{image_bin}/") for line in lines]
    lines += job["script"]
    script = workspace.parent / "job.sh"
    script.write_text("\n".join(lines) + "\n")
    variables = {k: str(v) for k, v in job.get("variables", {}).items()}
    done = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
        cwd=workspace,
        env={**variables, **env, "CI_PROJECT_DIR": str(workspace)},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    return ScriptResult(done.returncode, done.stdout + done.stderr)
