"""What counts as a secret-looking value, and how it is shown instead.

Credentials are referenced by ID in manifests, so most values are safe to print. A value is
still never printed when its parameter's name says it is secret (``*_TOKEN``, ``PASSWORD``,
``API_KEY``...) or when it looks like a key or token itself. It is shown as a short digest,
enough to tell in review that it changed.
"""

from __future__ import annotations

import hashlib
import re

from controller.model.values import Json

_SECRET_NAME = re.compile(r"(?i)(token|secret|passw(or)?d|api_?key|private|credential_?value|auth)")
_SECRET_VALUE = (
    re.compile(r"^-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    re.compile(r"^(ghp|gho|ghs|github_pat|glpat|xox[abpr]|sk|AKIA)[-_A-Za-z0-9]{12,}$"),
    re.compile(r"^[A-Za-z0-9+/=_-]{40,}$"),  # long opaque strings: keys, tokens
)
_ID = re.compile(r"^[0-9a-f]{24}$")


def is_sensitive(field_name: str, type_: str, value: Json) -> bool:
    """True when ``value`` must not be printed."""
    if value is None or isinstance(value, bool | int | float):
        return False
    text = str(value)
    if type_ in ("credential", "deployment") and _ID.match(text):
        return False  # an object ID, by design
    if _SECRET_NAME.search(field_name):
        return True
    return any(p.search(text) for p in _SECRET_VALUE)


def masked(value: Json) -> str:
    """How a sensitive value is shown: a digest, never the value."""
    digest = hashlib.sha256(str(value).encode()).hexdigest()[:8]
    return f"(sensitive, sha256:{digest})"


def shown(field_name: str, type_: str, value: Json) -> Json:
    """``value`` itself, or its mask when it is sensitive."""
    return masked(value) if is_sensitive(field_name, type_, value) else value
