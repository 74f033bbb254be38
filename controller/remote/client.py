"""The DataRobot client the engine uses: one object, every call, thread-safe.

    client = DataRobotClient(load_api_settings(flags, os.environ, None), on_request=counter)
    models = client.list_models()
    version = client.create_version_from_latest(model_id, files=[...], files_to_delete=[...])

Calls are grouped by resource in mixins (:mod:`.models`, :mod:`.versions`, :mod:`.jobs`,
:mod:`.sharing`, :mod:`.modeltests`, :mod:`.gatecalls`); requests go through one :class:`Transport` (pooling,
retries, typed errors; see :mod:`.transport` for the retry policy).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import TracebackType

import requests

from controller.remote import routes
from controller.remote.apierrors import NotFoundError
from controller.remote.deployments import DeploymentCalls
from controller.remote.gatecalls import GateCalls
from controller.remote.jobs import JobCalls
from controller.remote.models import ModelCalls
from controller.remote.modeltests import ModelTestCalls
from controller.remote.pages import PageMemo
from controller.remote.registry import RegistryCalls
from controller.remote.requestcounts import RequestHook
from controller.remote.sharing import SharingCalls
from controller.remote.transport import Transport, build_session
from controller.remote.versions import VersionCalls
from controller.settings import ApiSettings


@dataclass(frozen=True)
class AccountInfo:
    """Who the API token belongs to."""

    id: str | None
    username: str
    email: str | None = None
    organization_id: str | None = None


class DataRobotClient(
    ModelCalls,
    VersionCalls,
    JobCalls,
    SharingCalls,
    ModelTestCalls,
    GateCalls,
    RegistryCalls,
    DeploymentCalls,
):
    """Every call the engine makes to DataRobot.

    ``on_request`` is called once per HTTP attempt (see :mod:`.counting`); ``session``
    replaces the pooled ``requests.Session`` the client would build (it is given the token,
    User-Agent and TLS setting).
    Safe to share between threads; ``pool_size`` bounds the open connections.
    ``page_memo`` (``serve`` keeps one across its runs) spares decoding the model and job
    list pages whose bytes a run before read.
    """

    def __init__(
        self,
        settings: ApiSettings,
        *,
        on_request: RequestHook | None = None,
        session: requests.Session | None = None,
        pool_size: int = 32,
        page_memo: PageMemo | None = None,
    ) -> None:
        self.settings = settings
        self.page_memo = page_memo
        self.http = Transport(
            settings,
            on_request=on_request,
            session=session if session is not None else build_session(settings, pool_size),
        )

    def account_info(self) -> AccountInfo | None:
        """The token's user, or ``None`` on servers without ``account/info`` (404)."""
        try:
            raw = self.http.get_json(routes.ACCOUNT_INFO)
        except NotFoundError:
            return None
        if not isinstance(raw, dict) or not raw.get("username"):
            return None
        return AccountInfo(
            id=_opt(raw.get("uid") or raw.get("id")),
            username=str(raw["username"]),
            email=_opt(raw.get("email")),
            organization_id=_opt(raw.get("orgId")),
        )

    def close(self) -> None:
        """Close pooled connections."""
        self.http.session.close()

    def __enter__(self) -> DataRobotClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"DataRobotClient({self.settings.endpoint!r})"


def _opt(value: object) -> str | None:
    return None if value is None or value == "" else str(value)
