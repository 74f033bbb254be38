"""Looking for secrets in captured output, in every form they could leak in.

A secret can leak as itself, URL-encoded, inside HTTP basic auth (``base64(user:secret)``)
or base64-encoded in any alignment inside a longer encoded string. :func:`forms` lists
what to look for; :func:`find_leaks` names each form found in a text.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping
from urllib.parse import quote


def _base64_cores(data: bytes) -> set[str]:
    """Substrings every base64 encoding of ``data`` contains, whatever precedes it."""
    cores = set()
    for shift in range(3):
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            encoded = encode(b"\0" * shift + data).decode()
            # Characters fully determined by ``data`` only: skip the shifted lead-in and the
            # last group, which depends on what follows.
            start = -(-shift * 4 // 3) + 1
            cores.add(encoded[start:-4])
    return {core for core in cores if len(core) >= 12}


def forms(secret: str, *, username: str | None = None) -> dict[str, str]:
    """Named forms of ``secret`` to search for."""
    found = {"plain": secret, "url-encoded": quote(secret, safe="")}
    for index, core in enumerate(sorted(_base64_cores(secret.encode()))):
        found[f"base64#{index}"] = core
    if username is not None:
        basic = base64.b64encode(f"{username}:{secret}".encode()).decode()
        found["basic-auth"] = basic
    return found


def find_leaks(text: str, secrets: Mapping[str, str], usernames: Iterable[str] = ()) -> list[str]:
    """``"<secret name> as <form>"`` for every form of every secret present in ``text``."""
    leaks = []
    users = list(usernames)
    for name, secret in secrets.items():
        for user in [None, *users]:
            for form, needle in forms(secret, username=user).items():
                if needle and needle in text:
                    leaks.append(f"{name} as {form}")
    return sorted(set(leaks))
