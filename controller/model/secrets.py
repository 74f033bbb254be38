"""What counts as a secret-looking value, and how it is shown instead.

Credentials are referenced by ID in manifests, so most values are safe to print. A value is
still never printed when its parameter's name says it is secret (``*_TOKEN``, ``PASSWORD``,
``API_KEY``, ``PW``, ``DSN``...) or when it looks like one itself (a private key, a known
token prefix, a JWT, a URL or connection string with a password, a long opaque string).
A plan lists only values that change, so ``(sensitive)`` is enough to tell a reviewer that
one does; no digest is shown, since a digest of a weak password can be searched for.
"""

from __future__ import annotations

import re

from controller.model.values import Json

_SECRET_NAME = re.compile(
    r"(?i)(token|secret|passw(or)?d|passphrase|api_?key|private|credential_?value|auth"
    r"|(^|_)pwd?($|_)|(^|_)dsn($|_)|conn(ection)?_?str(ing)?|cookie|session_?key|jwt)"
)
_SECRET_VALUE = (
    re.compile(r"^-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    re.compile(r"^(ghp|gho|ghs|github_pat|glpat|xox[abpr]|sk|AKIA)[-_A-Za-z0-9]{12,}$"),
    re.compile(r"^[A-Za-z0-9+/=_-]{40,}$"),  # long opaque strings: keys, tokens
    re.compile(r"^eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$"),  # a JWT
    re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]+:[^/\s@]+@"),  # scheme://user:password@
    re.compile(r"(?i)(^|;)\s*(password|pwd)\s*="),  # key=value connection strings
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


MASK = "(sensitive)"


def masked(value: Json) -> str:
    """How a sensitive value is shown: never the value, nor anything derived from it."""
    return MASK


def shown(field_name: str, type_: str, value: Json) -> Json:
    """``value`` itself, or its mask when it is sensitive."""
    return masked(value) if is_sensitive(field_name, type_, value) else value
