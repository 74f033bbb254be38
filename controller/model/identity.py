"""How the controller recognises what it owns inside a namespace, with no local state.

* Models carry ``userProvidedId = <namespace prefix><metadata.name>`` (unique in DataRobot,
  set at creation, never changed). The prefix is ``<namespace>/``, shortened with a hash
  when the namespace is long so that the ID stays within the API's 100 characters.
* Custom jobs have no such field, so each owned job carries a *stamp*: the last line of its
  description, ``[dr-gitops ns=<namespace> name=<metadata.name> commit=<sha> items=<digest>]``.
  It is written with the job's creation (so a crash cannot leave an unmarked job), and
  refreshed after every change: ``commit`` is the commit the job was last synced from (the
  base for ``git diff``) and ``items`` a digest of the item IDs it held then (a file
  replaced by hand gets a new item ID, so the digest reveals drift without downloading).
* A model adopted from one made by hand keeps its own ``userProvidedId``; it carries the
  same stamp (without commit and items) in its description.

A job or model made by hand carries neither, so the controller never claims it unless a
manifest asks to adopt it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

UPID_MAX = 100
DESCRIPTION_MAX = 9500
"""The longest description a manifest may give: the API's 10,000 characters less room for
the stamp (at most about 360: a namespace of 200, a name of 63, a commit and a digest)."""
_NAME_ROOM = 64  # metadata.name is at most 63 characters, plus the "/" separator
_LOCK_NAME = ".dr-gitops-lock"
LOCK_NAME_PREFIX = "dr-gitops lock: "  # of the lock object's display name (lock_model_name)
_STAMP = re.compile(r"\s*\[dr-gitops ([^\]\n]*)\]\s*$")
_NAMESPACE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/:@-]*$")


def valid_namespace(namespace: str) -> bool:
    return bool(_NAMESPACE.match(namespace)) and len(namespace) <= 200


def upid_prefix(namespace: str) -> str:
    """The ``userProvidedId`` prefix of every model in ``namespace``."""
    room = UPID_MAX - _NAME_ROOM - 1
    if len(namespace) <= room:
        return f"{namespace}/"
    digest = hashlib.sha256(namespace.encode()).hexdigest()[:10]
    return f"{namespace[: room - 11]}~{digest}/"


def model_upid(namespace: str, name: str) -> str:
    """The ``userProvidedId`` of the model ``name`` in ``namespace``."""
    return upid_prefix(namespace) + name


def lock_model_name(namespace: str) -> str:
    """The display name of the namespace's lock object (a custom model; DataRobot keeps at
    most 255 characters of a name). Only the ``userProvidedId`` identifies it; the name lets
    a search find it and names a namespace that ``userProvidedId`` shortened with a hash."""
    return (LOCK_NAME_PREFIX + namespace)[:255]


def lock_upid(namespace: str) -> str:
    """The ``userProvidedId`` of the namespace's lock object (never a manifest name)."""
    return upid_prefix(namespace) + _LOCK_NAME


def is_lock_upid(upid: str | None) -> bool:
    """True for the ``userProvidedId`` of a namespace lock object (any namespace)."""
    return bool(upid) and str(upid).endswith("/" + _LOCK_NAME)


def lock_namespace_prefix(upid: str) -> str:
    """The ``userProvidedId`` prefix (without its ``/``) of a lock object's namespace."""
    return upid.removesuffix("/" + _LOCK_NAME)


def owned_model_name(namespace: str, upid: str | None) -> str | None:
    """The ``metadata.name`` a model with this ``userProvidedId`` belongs to, if ours."""
    prefix = upid_prefix(namespace)
    if not upid or not upid.startswith(prefix):
        return None
    name = upid[len(prefix) :]
    return None if name == _LOCK_NAME or "/" in name or not name else name


@dataclass(frozen=True)
class Stamp:
    """The ownership stamp at the end of a job's (or adopted model's) description."""

    namespace: str
    name: str
    commit: str | None = None
    items: str | None = None

    def render(self) -> str:
        parts = [f"ns={self.namespace}", f"name={self.name}"]
        if self.commit:
            parts.append(f"commit={self.commit}")
        if self.items:
            parts.append(f"items={self.items}")
        return f"[dr-gitops {' '.join(parts)}]"


def read_stamp(description: str | None) -> Stamp | None:
    """The stamp at the end of ``description``, if there is a well-formed one."""
    match = _STAMP.search(description or "")
    if not match:
        return None
    values = dict(p.split("=", 1) for p in match.group(1).split() if "=" in p)
    if "ns" not in values or "name" not in values:
        return None
    return Stamp(values["ns"], values["name"], values.get("commit"), values.get("items"))


def strip_stamp(description: str | None) -> str:
    """The user's part of a description: the stamp and the blank lines before it removed."""
    return _STAMP.sub("", description or "")


def stamped(description: str | None, stamp: Stamp) -> str:
    """``description`` with ``stamp`` as its last line (replacing any previous stamp)."""
    text = strip_stamp(description)
    return f"{text}\n\n{stamp.render()}" if text else stamp.render()


def items_digest(item_ids: Iterable[str]) -> str:
    """A short digest of a set of item IDs (order does not matter)."""
    joined = "\n".join(sorted(item_ids))
    return hashlib.sha256(joined.encode()).hexdigest()[:12]
