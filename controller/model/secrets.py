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

# Names are matched by whole words (split on _ - . and camelCase), so that MAX_TOKENS,
# TOKENIZER, AUTHOR or SORT_KEY stay visible while DB_PASSWORD, API_KEY or slackToken do not.
_SECRET_WORDS = frozenset(
    {"PASSWORD", "PASSWD", "PASSPHRASE", "PWD", "PW", "SECRET", "SECRETS", "TOKEN", "APIKEY",
     "DSN", "COOKIE", "AUTHORIZATION", "CREDENTIAL"}
)  # fmt: skip
_SECRET_SUFFIXES = ("TOKEN", "PASSWORD", "PASSWD", "SECRET")  # GHTOKEN, DBPASSWORD
_SECRET_PHRASES = re.compile(
    r"(^|_)((API|ACCESS|SECRET|PRIVATE|SIGNING|ENCRYPTION|CLIENT|MASTER)_KEY"
    r"|CONN(ECTION)?_STR(ING)?|AUTH(_HEADER)?|SESSION_KEY)($|_)|(^|_)JWT$"
)
_SECRET_VALUE = (
    re.compile(r"^-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    re.compile(r"^(ghp_|gho_|ghs_|ghu_|github_pat_|glpat-|xox[abpr]-|sk-|AKIA)[-_A-Za-z0-9]{12,}$"),
    re.compile(r"^(?![0-9a-f]{40}$|[0-9a-f]{64}$)[A-Za-z0-9+/=_-]{40,}$"),  # opaque; not a SHA
    re.compile(r"^eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$"),  # a JWT
    re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]*:[^/\s@]+@"),  # scheme://[user]:password@
    re.compile(r"(?i)(^|[;&?\s])(password|pwd)\s*="),  # key=value connection strings, URLs
    re.compile(r"(?i)[?&;](api[_-]?key|(access[_-]?)?token|secret|sig|signature|key)="),
    re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}"),  # an Authorization value
    re.compile(r"(?i)[\"'](password|passwd|secret|token|api[_-]?key)[\"']\s*:"),  # JSON/YAML
    re.compile(r"(?i)^https://hooks\.slack\.com/|^https://[^/]*webhook\.office\.com/"),
)
_WORD_BREAK = re.compile(r"[_\-.\s]+|(?<=[a-z0-9])(?=[A-Z])")
_ID = re.compile(r"^[0-9a-f]{24}$")


def is_sensitive(field_name: str, type_: str, value: Json) -> bool:
    """True when ``value`` must not be printed."""
    if value is None or isinstance(value, bool | int | float):
        return False
    text = str(value)
    if type_ in ("credential", "deployment") and _ID.match(text):
        return False  # an object ID, by design
    if _secret_name(field_name):
        return True
    return any(p.search(text) for p in _SECRET_VALUE)


MASK = "(sensitive)"


def _secret_name(field_name: str) -> bool:
    words = [w.upper() for w in _WORD_BREAK.split(field_name) if w]
    if any(w in _SECRET_WORDS or w.endswith(_SECRET_SUFFIXES) for w in words):
        return True
    return bool(_SECRET_PHRASES.search("_".join(words)))


def masked(value: Json) -> str:
    """How a sensitive value is shown: never the value, nor anything derived from it."""
    return MASK


def shown(field_name: str, type_: str, value: Json) -> Json:
    """``value`` itself, or its mask when it is sensitive."""
    return masked(value) if is_sensitive(field_name, type_, value) else value
