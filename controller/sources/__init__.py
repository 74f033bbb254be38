"""Git: checkout and fetch, commit facts, changed paths between commits, gitModelVersion.

The only package of ours that runs git. The engine calls::

    with open_source(settings.git, environ=env) as source:  # GitSettings
        checkout = source.checkout                      # root, commit, ref, remote, dirty
        source.prefetch(recorded_shas)                  # optional: one round for all
        changes = source.changed_paths(recorded_sha, prefixes=[model_dir])
        blobs = source.blob_shas(prefixes=[model_dir])  # content fallback
        stamp = source.git_model_version(ci)            # CiFacts from read_ci, or None
        namespace = source.namespace()
"""

from controller.sources.blobs import file_blob_sha1, git_blob_sha1
from controller.sources.changes import (
    ChangedPaths,
    Changes,
    ChangeStatus,
    PathChange,
    PrefixMatcher,
    UnknownChanges,
)
from controller.sources.checkouts import Checkout, RefKind
from controller.sources.ci import CiFacts, load_github_event, read_ci
from controller.sources.commits import CommitInfo
from controller.sources.git_model_versions import commit_url, git_model_version
from controller.sources.opener import open_source
from controller.sources.remotes import (
    RemoteUrl,
    derive_namespace,
    display_url,
    parse_remote,
    strip_credentials,
)
from controller.sources.source import GitSource

__all__ = [
    "ChangeStatus",
    "ChangedPaths",
    "Changes",
    "Checkout",
    "CiFacts",
    "CommitInfo",
    "GitSource",
    "PathChange",
    "PrefixMatcher",
    "RefKind",
    "RemoteUrl",
    "UnknownChanges",
    "commit_url",
    "derive_namespace",
    "display_url",
    "file_blob_sha1",
    "git_blob_sha1",
    "git_model_version",
    "load_github_event",
    "open_source",
    "parse_remote",
    "read_ci",
    "strip_credentials",
]
