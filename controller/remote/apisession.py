"""The ``requests.Session`` the client sends with: the same requests, prepared for less CPU.

``requests.Session.request`` merges every request with the session's settings through
general helpers (``merge_setting`` copies each mapping into an ``OrderedDict`` by way of
key-value lists, two new cookie jars are made and merged, four more merges for proxies,
stream, TLS and certificate): ~0.08 ms of the ~0.55 ms of controller CPU a small GET costs,
paid a thousand times by the sharing reads of a 1,000-model plan (issue 20). For the
requests the transport sends (no per-request cookies, auth, proxies or hooks; the session
does not read the environment, see ``prepare_session``) most of those merges copy a
mapping onto an empty one; :class:`ApiSession` does only what changes the outcome:
the session's headers under the request's, ``None``-valued headers and query values
dropped, the session's auth, hooks, proxies, stream, TLS and certificate settings.
Anything else (cookies the server set, request-level auth or cookies, session hooks or
params, ``trust_env``) takes ``requests``' own path, so the prepared request and the send
settings are always what ``requests.Session`` would make (a test compares them).
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import requests
from requests.structures import CaseInsensitiveDict

if TYPE_CHECKING:
    from requests.sessions import _Settings


class ApiSession(requests.Session):
    """A ``requests.Session`` whose preparation skips merges that would change nothing."""

    def _lean(self, request: requests.Request) -> bool:
        """Whether nothing but the session's own settings applies to ``request``."""
        return not (
            self.trust_env
            or not isinstance(self.headers, Mapping)
            or not isinstance(self.params, Mapping)
            or not isinstance(self.proxies, Mapping)
            or self.params
            or len(self.cookies)  # a cookie the server set: requests merges it in
            or request.cookies
            or request.auth
            or self.hooks.get("response")
            or request.hooks.get("response")
            or not isinstance(request.headers, Mapping)
            or not isinstance(request.params, Mapping)
        )

    def prepare_request(self, request: requests.Request) -> requests.PreparedRequest:
        if not self._lean(request):
            return super().prepare_request(request)
        headers: CaseInsensitiveDict[Any] = CaseInsensitiveDict(self.headers)
        headers.update(request.headers)
        for key in [k for k, v in headers.items() if v is None]:
            del headers[key]
        prepared = requests.PreparedRequest()
        prepared.prepare(
            method=str(request.method).upper(),
            url=request.url,
            files=request.files,
            data=request.data,
            json=request.json,
            headers=headers,
            params=_query(request.params),
            auth=self.auth,
            cookies=None,  # an empty jar, as requests makes from the empty session jar
            hooks=request.hooks,
        )
        return prepared

    def merge_environment_settings(
        self,
        url: str | bytes | None,
        proxies: MutableMapping[str, str] | None,
        stream: bool | None,
        verify: bool | str | None,
        cert: str | tuple[str, str] | None,
    ) -> _Settings:
        if self.trust_env or proxies:
            return super().merge_environment_settings(url, proxies, stream, verify, cert)
        return {
            "proxies": {k: v for k, v in self.proxies.items() if v is not None},
            "stream": self.stream if stream is None else stream,
            "verify": self.verify if verify is None else verify,
            "cert": self.cert if cert is None else cert,
        }


def _query(params: Mapping[Any, Any]) -> str | None:
    """The query string requests would encode from ``params`` (``None`` values left out),
    without its ``Protocol`` checks (runtime ``isinstance`` against a protocol walks the
    protocol's attributes every time); ``None`` when there is nothing to add."""
    pairs: list[tuple[Any, Any]] = []
    for key, values in params.items():
        if isinstance(values, str | bytes) or not hasattr(values, "__iter__"):
            values = [values]
        for value in values:
            if value is not None:
                pairs.append(
                    (
                        key.encode("utf-8") if isinstance(key, str) else key,
                        value.encode("utf-8") if isinstance(value, str) else value,
                    )
                )
    return urlencode(pairs, doseq=True) if pairs else None
