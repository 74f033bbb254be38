"""Running git: one subprocess per call, counted, with failures turned into ``SourceError``.

Every git process this package starts goes through :class:`GitRunner`, so the number of
subprocesses a run costs is observable (``calls`` and ``commands``), and every error message
is scrubbed of credentials before anyone sees it.

Git gets only the environment it needs (:func:`git_environment`): not the DataRobot token,
the webhook secret or anything else of dr-gitops's own, which git, its hooks, its
credential helpers and ssh would otherwise all inherit. Transports are limited to
``file``, ``https`` and ``ssh`` (``GIT_ALLOW_PROTOCOL``; ``http`` only for a remote given as
an ``http://`` URL), so a URL such as ``fd::17`` or ``ext::sh -c ...``, or a redirect to
another scheme, is refused by git itself.

Why the git command line rather than GitPython: every operation here is one plumbing
command (``diff-tree``, ``ls-tree``, ``cat-file --batch``, ``fetch``), which GitPython would
also run as a subprocess; calling git directly keeps the process count exact, and lets
credentials travel only in the environment of each process (never in a URL, a config file
or an argument list).
"""

from __future__ import annotations

import subprocess
import threading
import time
from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from controller import logs
from controller.errors import SourceError
from controller.sources.remotes import strip_credentials

log = logs.get_logger(__name__)

# Variables that would point git at another repository, index or object store than the one
# we name (they leak in when dr-gitops itself runs inside a git hook).
_REPOSITORY_VARIABLES = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
    "GIT_NAMESPACE",
    "GIT_CEILING_DIRECTORIES",
)
# What git, ssh and credential helpers may read from the environment they are started
# from; everything else (DATAROBOT_API_TOKEN, DR_GITOPS_WEBHOOK_SECRET, cloud keys of the
# deployment...) stays with dr-gitops.
_PASSED = frozenset(
    {
        "PATH", "HOME", "USER", "LOGNAME", "TMPDIR", "TZ", "LANG",
        "XDG_CONFIG_HOME", "XDG_RUNTIME_DIR",  # git's global config; GCM's sockets
        "SSH_AUTH_SOCK", "SSH_AGENT_PID",  # an ssh agent holding the deploy key
        "KRB5CCNAME",  # http.emptyAuth / Negotiate
        "SSL_CERT_FILE", "SSL_CERT_DIR", "CURL_CA_BUNDLE",  # a company CA for https
        "http_proxy", "https_proxy", "all_proxy", "no_proxy",
        "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY",
        "GH_TOKEN", "GITHUB_TOKEN", "GH_HOST", "GH_ENTERPRISE_TOKEN",  # `gh auth git-credential`
        # `aws codecommit credential-helper` (and git-remote-codecommit): which profile,
        # files and role to use, never the deployment's own keys (AWS_ACCESS_KEY_ID,
        # AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN): give git a profile in a credentials
        # file, or a role (web identity, container credentials), instead.
        "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION",
        "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_CA_BUNDLE",
        "AWS_ROLE_ARN", "AWS_ROLE_SESSION_NAME", "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_STS_REGIONAL_ENDPOINTS", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    }
)  # fmt: skip
# Prefixes passed whole: git's own variables (GIT_SSH_COMMAND, GIT_CONFIG_*, GIT_ASKPASS,
# GIT_SSL_CAINFO, GIT_TRACE...), the locale and Git Credential Manager's settings.
_PASSED_PREFIXES = ("GIT_", "LC_", "GCM_")
ALLOWED_PROTOCOLS = ("file", "https", "ssh")
_FIXED = {
    "GIT_TERMINAL_PROMPT": "0",  # never wait for a password on a terminal
    "GIT_OPTIONAL_LOCKS": "0",  # `git status` must not rewrite the user's index
    "LC_ALL": "C",  # stable, English messages
    "LANGUAGE": "C",
}
_MAX_DETAIL = 600


@dataclass(frozen=True)
class GitResult:
    """What a git process returned."""

    returncode: int
    stdout: bytes
    stderr: str

    @property
    def text(self) -> str:
        return self.stdout.decode("utf-8", "surrogateescape").strip()


class GitRunner:
    """Runs the git command line with a fixed environment and counts every process.

    ``environ`` is the environment git inherits (the edge passes ``os.environ``);
    ``extra_env`` adds credentials (never on the command line); ``secrets`` are scrubbed
    from every message this runner produces.
    """

    def __init__(
        self,
        environ: Mapping[str, str],
        *,
        extra_env: Mapping[str, str] | None = None,
        secrets: Iterable[str | None] = (),
        executable: str = "git",
        timeout: float = 300.0,
        protocols: Iterable[str] = ALLOWED_PROTOCOLS,
    ) -> None:
        env = git_environment(environ, protocols)
        env.update(extra_env or {})
        self._env = env
        self._secrets = tuple(sorted({s for s in secrets if s}, key=len, reverse=True))
        self._executable = executable
        self._timeout = timeout
        self.calls = 0
        self.commands: Counter[str] = Counter()
        self._counting = threading.Lock()

    def authenticate(self, extra_env: Mapping[str, str], secrets: Iterable[str | None]) -> None:
        """Add credentials learnt after the first calls (a local repository's remote)."""
        self._env.update(extra_env)
        known = {*self._secrets, *(s for s in secrets if s)}
        self._secrets = tuple(sorted(known, key=len, reverse=True))

    def allow_protocols(self, *names: str) -> None:
        """Let git use ``names`` too (``http`` for a remote given as an ``http://`` URL)."""
        current = self._env["GIT_ALLOW_PROTOCOL"].split(":")
        self._env["GIT_ALLOW_PROTOCOL"] = ":".join(dict.fromkeys([*current, *names]))

    def scrub(self, text: str) -> str:
        """``text`` without any known secret and without credentials in URLs."""
        for secret in self._secrets:
            text = text.replace(secret, logs.REDACTED)
        return strip_credentials(logs.redactor.scrub(text))

    def run(
        self,
        *args: str,
        cwd: Path | None = None,
        input: bytes | None = None,
        ok: Collection[int] = (0,),
        env: Mapping[str, str] | None = None,
        timeout: float | None = None,
        ref: str | None = None,
        what: str | None = None,
        hint: str = "",
    ) -> GitResult:
        """Run ``git *args``; a return code outside ``ok`` raises ``SourceError``.

        ``what`` names the operation in the error ("fetch from origin"), ``hint`` says what
        to do next, ``ref`` is carried on the error.
        """
        command = _subcommand(args)
        with self._counting:  # git may run from two threads (GitSource.committed_tree)
            self.calls += 1
            self.commands[command] += 1
        limit = timeout or self._timeout
        started = time.monotonic()
        try:
            done = subprocess.run(
                [self._executable, *args],
                cwd=cwd,
                input=input,
                capture_output=True,
                env={**self._env, **(env or {})},
                timeout=limit,
                check=False,
            )
        except FileNotFoundError:
            raise SourceError(
                "git is not installed or not on PATH; install git 2.31 or newer", ref=ref
            ) from None
        except subprocess.TimeoutExpired:
            raise SourceError(
                f"{what or 'git ' + command} did not finish within {limit:.0f} s; "
                "check the network and the remote, or raise the git timeout",
                ref=ref,
            ) from None
        log.debug(
            "git_command",
            command=command,
            returncode=done.returncode,
            duration_ms=round((time.monotonic() - started) * 1000, 1),
        )
        result = GitResult(done.returncode, done.stdout, done.stderr.decode("utf-8", "replace"))
        if done.returncode not in ok:
            raise SourceError(self.failure(result, what or f"git {command}", hint), ref=ref)
        return result

    def failure(self, result: GitResult, what: str, hint: str = "") -> str:
        """A one-paragraph, scrubbed message for a failed git process."""
        lines = [ln.strip() for ln in result.stderr.splitlines() if ln.strip()]
        # From git's first verdict ("fatal: ...", "error: ...") on: progress chatter before
        # it says nothing, the advice after it ("git config --global --add safe.directory")
        # says what to do.
        first = next((i for i, ln in enumerate(lines) if ln.startswith(("fatal:", "error:"))), None)
        chosen = lines[first : first + 4] if first is not None else lines[-4:]
        detail = self.scrub(" / ".join(chosen))[:_MAX_DETAIL] or f"exit {result.returncode}"
        message = f"{what} failed: {detail.rstrip('.')}"
        return f"{message}. {hint[:1].upper()}{hint[1:]}" if hint else message


def git_environment(environ: Mapping[str, str], protocols: Iterable[str]) -> dict[str, str]:
    """The environment git runs with: what it needs from ``environ`` (see ``_PASSED``),
    without the variables that would point it at another repository, plus fixed settings
    and the transports it may use."""
    env = {
        k: v
        for k, v in environ.items()
        if (k in _PASSED or k.startswith(_PASSED_PREFIXES)) and k not in _REPOSITORY_VARIABLES
    }
    env.update(_FIXED)
    env["GIT_ALLOW_PROTOCOL"] = ":".join(dict.fromkeys(protocols))
    env.pop("GIT_PROTOCOL_FROM_USER", None)  # no effect once GIT_ALLOW_PROTOCOL is set
    return env


def _subcommand(args: tuple[str, ...]) -> str:
    # Skip global options (`-c k=v`, `--git-dir=...`) to name the subcommand.
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg in ("-c", "-C"):
            skip = True
        elif not arg.startswith("-"):
            return arg
    return "git"
