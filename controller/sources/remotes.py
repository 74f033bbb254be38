"""Remote URLs: the forms git accepts, credentials stripped, web links and namespaces.

Pure functions and values; no git, no I/O. Understood forms: ``https://[user[:token]@]host
[:port]/path``, ``http://...``, ``ssh://[user@]host[:port]/path``, ``git://host/path``,
scp-like ``[user@]host:path`` and ``file:///path``.

Web links are derived for GitHub (``/commit/<sha>``), GitLab including nested groups
(``/-/commit/<sha>``), Bitbucket Cloud (``/commits/<sha>``), Bitbucket Server/Data Center
(``/projects/P/repos/r/commits/<sha>``) and Azure DevOps (``/commit/<sha>``), on their public
hosts and on any host whose name contains ``github``, ``gitlab`` or ``bitbucket``. Other hosts
get ``<web url>/commit/<sha>`` (the form GitHub Enterprise, Gitea, Forgejo and Gogs use);
``--commit-url-template`` covers everything else.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
# git's rule: "host:path" is scp-like when no slash comes before the first colon.
_SCP = re.compile(r"^(?:(?P<user>[^@/:]+)@)?(?P<host>\[[^\]/]+\]|[^/:@\[\]]{2,}):(?P<path>.*)$")
_HOST_ALIASES = {
    "www.github.com": "github.com",
    "ssh.github.com": "github.com",
    "altssh.gitlab.com": "gitlab.com",
    "altssh.bitbucket.org": "bitbucket.org",
    "ssh.dev.azure.com": "dev.azure.com",
    "vs-ssh.visualstudio.com": "dev.azure.com",
}
# Userinfo inside URLs in free text (git error messages): dropped for http(s), and the
# password part of ssh URLs.
_HTTP_USERINFO = re.compile(r"(?i)\b(https?://)[^/\s@]+@")
_SSH_PASSWORD = re.compile(r"(?i)\b(ssh://[^/\s:@]+):[^/\s@]+@")
_NAMESPACE_CHARS = re.compile(r"[^a-z0-9._/-]+")


@dataclass(frozen=True)
class RemoteUrl:
    """A parsed remote URL. ``password`` (a token) never shows in ``repr`` or ``display``."""

    scheme: str
    host: str
    port: int | None
    path: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    scp_like: bool = False

    @property
    def is_http(self) -> bool:
        return self.scheme in ("http", "https")

    @property
    def has_credentials(self) -> bool:
        """True when the URL itself carries something secret-like (http userinfo, a password)."""
        return self.password is not None or (self.is_http and self.username is not None)

    def display(self) -> str:
        """The URL as git should be given it and people shown it: no http userinfo, no
        password; an ssh user name (``git@``) is kept because ssh needs it."""
        if self.scheme == "file":
            return f"file://{self.path if self.path.startswith('/') else '/' + self.path}"
        user = "" if self.is_http or not self.username else f"{self.username}@"
        if self.scp_like:
            return f"{user}{self.host}:{self.path}"
        port = f":{self.port}" if self.port is not None else ""
        return f"{self.scheme}://{user}{_bracket(self.host)}{port}/{self.path}"

    @property
    def auth_scope(self) -> str:
        """The ``scheme://host[:port]/`` prefix an HTTP credential is limited to."""
        port = f":{self.port}" if self.port is not None else ""
        return f"{self.scheme}://{_bracket(self.host)}{port}/"

    @property
    def canonical_host(self) -> str:
        return _HOST_ALIASES.get(self.host, self.host)

    @property
    def repo_path(self) -> str:
        """The repository path without a leading ``/``, ``~user`` prefix or ``.git`` suffix."""
        return self.path.strip("/").removesuffix(".git").rstrip("/")

    @property
    def provider(self) -> str | None:
        """``github``, ``gitlab``, ``bitbucket``, ``bitbucket-server``, ``azure`` or None."""
        host = self.canonical_host
        if self.scheme == "file" or not host:
            return None
        if "github" in host:
            return "github"
        if "gitlab" in host:
            return "gitlab"
        if host == "bitbucket.org":
            return "bitbucket"
        if "bitbucket" in host:
            return "bitbucket-server"
        if host == "dev.azure.com" or host.endswith(".visualstudio.com"):
            return "azure"
        return None

    @property
    def project_path(self) -> str:
        """The repository's path on its host without provider decorations
        (``scm/`` of Bitbucket Server, ``_git/`` and ``v3/`` of Azure DevOps)."""
        parts = self.repo_path.split("/")
        if self.provider == "bitbucket-server" and "scm" in parts:
            parts = parts[parts.index("scm") + 1 :]
        if self.provider == "azure":
            parts = [p for p in parts if p not in ("_git", "v3")]
            if len(parts) == 2:  # legacy org.visualstudio.com/project/_git/repo
                parts = [self.canonical_host.split(".")[0], *parts]
        return "/".join(p for p in parts if p)

    @property
    def web_url(self) -> str | None:
        """The repository's web page (``https://github.com/o/r``); None for file URLs."""
        if self.scheme == "file" or not self.host:
            return None
        if self.is_http:
            port = f":{self.port}" if self.port is not None else ""
            base = f"{self.scheme}://{_bracket(self.host)}{port}"
        else:
            base = f"https://{_bracket(self.canonical_host)}"
        provider = self.provider
        if provider == "bitbucket-server":
            context = self.repo_path.split("/scm/")[0] + "/" if "/scm/" in self.repo_path else ""
            project, _, repo = self.project_path.partition("/")
            return f"{base}/{context}projects/{project.upper()}/repos/{repo}"
        if provider == "azure":
            org, project, repo = ([*self.project_path.split("/"), "", ""])[:3]
            return f"https://dev.azure.com/{org}/{project}/_git/{repo}"
        return f"{base}/{self.repo_path}"

    def commit_url(self, sha: str) -> str | None:
        """The web page of one commit, or None when the remote has no web page."""
        web = self.web_url
        if web is None:
            return None
        if self.provider == "gitlab":
            return f"{web}/-/commit/{sha}"
        if self.provider in ("bitbucket", "bitbucket-server"):
            return f"{web}/commits/{sha}"
        return f"{web}/commit/{sha}"


def _bracket(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def looks_like_url(repo: str) -> bool:
    """True when ``repo`` names a remote (a scheme, or scp-like ``host:path``)."""
    return bool(_SCHEME.match(repo) or _SCP.match(repo))


def parse_remote(url: str) -> RemoteUrl | None:
    """Parse a remote URL; None when it is a plain local path or not understood."""
    url = url.strip()
    scheme_match = _SCHEME.match(url)
    if scheme_match:
        return _parse_with_scheme(url, scheme_match.group(1).lower())
    scp = _SCP.match(url)
    if scp:
        return RemoteUrl(
            scheme="ssh",
            host=scp.group("host").strip("[]").lower(),
            port=None,
            path=scp.group("path").lstrip("/"),
            username=scp.group("user"),
            scp_like=True,
        )
    return None


def _parse_with_scheme(url: str, scheme: str) -> RemoteUrl | None:
    if scheme == "file":
        path = url[len("file://") :]
        return RemoteUrl(scheme="file", host="", port=None, path=unquote(path))
    scheme = "ssh" if scheme in ("git+ssh", "ssh+git") else scheme
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if not parts.hostname:
        return None
    return RemoteUrl(
        scheme=scheme,
        host=parts.hostname.lower(),
        port=port,
        path=parts.path.lstrip("/"),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
    )


def strip_credentials(text: str) -> str:
    """Remove userinfo from http(s) URLs and passwords from ssh URLs anywhere in ``text``."""
    return _SSH_PASSWORD.sub(r"\1@", _HTTP_USERINFO.sub(r"\1", text))


def display_url(url: str) -> str:
    """A remote URL fit to show and store: credentials removed, otherwise unchanged."""
    parsed = parse_remote(url)
    if parsed is None or parsed.scheme == "file":
        return strip_credentials(url)
    return parsed.display() if parsed.has_credentials else strip_credentials(url)


def derive_namespace(remote_url: str | None, fallback_name: str, *, max_length: int = 64) -> str:
    """The default namespace of a repository.

    ``host/path`` of the remote, lower-cased, without scheme, user, port or ``.git``:
    ``https://github.com/Acme/ML-Models.git``, ``git@github.com:acme/ml-models`` and
    ``ssh://git@github.com:22/acme/ml-models.git`` all give ``github.com/acme/ml-models``.
    GitLab subgroups stay (``gitlab.com/group/sub/repo``). A ``file://`` or local-path remote,
    or no remote at all, gives the folder name (``fallback_name`` when there is no remote).
    Characters outside ``[a-z0-9._/-]`` become ``-``; a result longer than ``max_length``
    keeps its start and ends in ``-`` and 8 hex digits of its SHA-1 so it stays unique.
    """
    parsed = parse_remote(remote_url) if remote_url else None
    if parsed is not None and parsed.scheme != "file" and parsed.host:
        raw = f"{parsed.canonical_host}/{parsed.project_path}"
    elif parsed is not None:
        raw = PurePosixPath(parsed.repo_path).name
    elif remote_url:
        raw = PurePosixPath(remote_url.rstrip("/")).name.removesuffix(".git")
    else:
        raw = fallback_name
    return _shorten(
        _clean_namespace(raw) or _clean_namespace(fallback_name) or "default", max_length
    )


def _clean_namespace(raw: str) -> str:
    text = _NAMESPACE_CHARS.sub("-", raw.lower())
    text = re.sub(r"-{2,}", "-", text)
    text = re.sub(r"/{2,}", "/", text)
    parts = [p.strip("-.") for p in text.split("/")]
    return "/".join(p for p in parts if p)


def _shorten(text: str, max_length: int) -> str:
    if len(text) <= max_length:
        return text
    digest = hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()[:8]
    return f"{text[: max_length - 9].rstrip('/-.')}-{digest}"
