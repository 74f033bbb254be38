"""The flags several commands share (repository, DataRobot, engine, pruning, targeting,
the namespace lock), argparse only; :mod:`controller.cli.commands` gives them to commands."""

from __future__ import annotations

import argparse
from pathlib import Path

# --- flags shared by several commands ----------------------------------------------------


def add_source_options(
    parser: argparse.ArgumentParser, *, repo_required: bool = False, repo_help: str | None = None
) -> None:
    """The repository flags; with ``repo_help``, --repo is optional and has no default."""
    group = parser.add_argument_group("repository")
    group.add_argument(
        "--repo",
        required=repo_required,
        default=None if repo_required or repo_help else ".",
        metavar="PATH|URL",
        help=repo_help
        or "git repository: a local path"
        + ("" if repo_required else " (default: .)")
        + " or a URL (https, ssh, file://)",
    )
    group.add_argument(
        "--ref",
        metavar="REF",
        help="branch, tag or commit to read (default: the working tree of a local path, "
        "the default branch of a URL)",
    )
    group.add_argument(
        "--path",
        default="",
        metavar="SUBDIR",
        help="folder inside the repository holding the manifests (default: the whole repository)",
    )
    group.add_argument(
        "--namespace",
        metavar="NS",
        help="ownership namespace (default: $DR_GITOPS_NAMESPACE, else `namespace` in "
        ".dr-gitops.yaml at the manifest root, else derived from the git remote, e.g. "
        "github.com/acme/ml-models)",
    )
    group.add_argument(
        "--commit-url-template",
        metavar="TEMPLATE",
        help="commit link for gitModelVersion, e.g. https://git.example.com/{path}/commit/{sha} "
        "(default: $DR_GITOPS_COMMIT_URL_TEMPLATE, else `commitUrlTemplate` in .dr-gitops.yaml, "
        "else derived from CI variables or the remote)",
    )
    group.add_argument(
        "--cache-dir",
        type=Path,
        metavar="DIR",
        help="where clones of URLs are kept (default: $DR_GITOPS_CACHE_DIR, else "
        "$XDG_CACHE_HOME/dr-gitops, else ~/.cache/dr-gitops)",
    )


def add_api_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "DataRobot",
        "Credentials come from these flags, else a drconfig.yaml named by --drconfig or "
        "DATAROBOT_CONFIG_FILE, else DATAROBOT_ENDPOINT and DATAROBOT_API_TOKEN, else "
        "~/.config/datarobot/drconfig.yaml (endpoint and token from one source), as the "
        "official datarobot client reads them.",
    )
    group.add_argument(
        "--endpoint", metavar="URL", help="API endpoint, e.g. https://app.datarobot.com/api/v2"
    )
    group.add_argument(
        "--token-file",
        type=Path,
        metavar="FILE",
        help="read the API token from FILE (there is no --token flag: command lines are visible "
        "to other users)",
    )
    group.add_argument(
        "--drconfig",
        type=Path,
        metavar="FILE",
        help="path of a drconfig.yaml; wins over DATAROBOT_ENDPOINT/DATAROBOT_API_TOKEN",
    )
    group.add_argument(
        "--connect-timeout",
        type=float,
        metavar="SECONDS",
        help="give up connecting to the endpoint after this long (default: `connect_timeout` "
        "of drconfig.yaml, else 10); a refused connection fails at once",
    )
    group.add_argument(
        "--max-retries",
        type=int,
        metavar="N",
        help="send a failed request again at most N times (default: `max_retries` of "
        "drconfig.yaml or $DATAROBOT_MAX_RETRIES, else 5)",
    )


def add_engine_options(parser: argparse.ArgumentParser, *, applies: bool = True) -> None:
    """Engine flags; ``applies`` adds the ones that only matter when writing."""
    group = parser.add_argument_group("engine")
    group.add_argument(
        "--concurrency",
        type=int,
        default=4,
        metavar="N",
        help="objects written (and versions downloaded) at once (default: 4); sharing is "
        "read 2*N at once (16 to 32)",
    )
    group.add_argument(
        "--trusted-creator",
        action="append",
        default=[],
        metavar="USERNAME",
        help="a DataRobot user, besides the token's own, whose models under this namespace's "
        "userProvidedId and whose namespace lock count as this controller's (repeatable; "
        "default: $DR_GITOPS_TRUSTED_CREATORS, comma-separated). Those made by anyone else "
        "are blocked as possibly squatted",
    )
    if applies:
        group.add_argument(
            "--allow-dirty",
            action="store_true",
            help="apply even when the working tree has uncommitted changes",
        )


def add_prune_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("pruning")
    group.add_argument(
        "--prune",
        action="store_true",
        help="delete owned models and jobs whose manifests are gone (off by default; with "
        "--path, never what the rest of the repository declares)",
    )
    group.add_argument(
        "--max-deletions",
        type=int,
        default=5,
        metavar="N",
        help="refuse to prune more than N objects in one run (default: 5)",
    )
    group.add_argument(
        "--allow-empty",
        action="store_true",
        help="allow pruning when the manifests declare nothing at all",
    )
    group.add_argument(
        "--allow-deployment-deletion",
        action="store_true",
        help="with --prune, also delete owned deployments whose manifests are gone (they "
        "stop serving predictions); without it they are shown blocked",
    )


def add_target_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument_group("targeting").add_argument(
        "--target",
        action="append",
        default=[],
        metavar="KIND/NAME",
        help="limit the run to this object (e.g. CustomModel/fraud-detector) with its "
        "versions, runtime values and sharing; repeat for more. Not with --prune",
    )


def add_lock_options(parser: argparse.ArgumentParser, *, timeout: float | None = None) -> None:
    """The namespace-lock flags; ``timeout`` is the default of --lock-timeout."""
    group = parser.add_argument_group(
        "namespace lock",
        "Only one controller applies to a namespace at a time. The default lock is a custom "
        "model named 'dr-gitops lock: <namespace>' in DataRobot (userProvidedId "
        "<namespace>/.dr-gitops-lock), so it excludes controllers on any machine; the "
        "token's user must be allowed to create custom models.",
    )
    group.add_argument(
        "--lock",
        choices=["datarobot", "file", "none"],
        default="datarobot",
        help="where the lock lives: in DataRobot (excludes controllers on any machine), a "
        "file in --lock-dir (one host), or none (default: datarobot)",
    )
    group.add_argument("--lock-ttl", type=float, default=60.0, metavar="SECONDS",
                       help="a holder that stops heart-beating loses the lock after this (default: 60)")  # fmt: skip
    group.add_argument("--lock-dir", type=Path, metavar="DIR",
                       help="folder of --lock file (default: $XDG_STATE_HOME/dr-gitops/locks)")  # fmt: skip
    wait = "wait as long as it takes" if timeout is None else f"{timeout:g}"
    group.add_argument(
        "--lock-timeout",
        type=float,
        default=timeout,
        metavar="SECONDS",
        help=f"give up (exit 1, naming the holder) after waiting this long for the lock (default: {wait})",
    )
    group.add_argument(
        "--no-wait",
        action="store_true",
        help="exit 1 at once, naming the holder, when another controller holds the namespace",
    )
