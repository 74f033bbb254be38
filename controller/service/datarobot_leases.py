"""A namespace lease kept in DataRobot itself, so that controllers on different machines
(a service, a CI job, a laptop) exclude each other.

DataRobot has no lock API, but a custom model's ``userProvidedId`` is unique and set at
creation: creating a model with ``userProvidedId = <namespace>/.dr-gitops-lock`` is an
atomic "create if absent" (a second one is a 422). The lock model is an ``Unstructured``
inference model named ``dr-gitops lock: <namespace>`` with no version; its description
holds the lease record (JSON: holder host, pid and instance, acquired and renewed times,
TTL). Its model ID is the token: refreshing (a PATCH of the description by ID) and
releasing (a DELETE by ID) act only on the lease that was read, and a 404 means it was
taken over. It is never taken for a managed model (``.dr-gitops-lock`` is not a valid
manifest name) and never pruned. The token's user must be allowed to create custom models.

The lock is only as good as its ``userProvidedId`` is ours. Another DataRobot user who can
create custom models can make the lock model first: read back, one made by anyone but the
token's user (or a ``trusted_creators`` user) is refused with a :class:`LockError` naming
its creator, and one made privately (the create is a duplicate, yet no model can be seen)
is reported as such rather than waited for forever. (The TTL a record claims is capped at
the local one by the lock, see ``controller.service.locks``.)

Errors that say nothing about the lease (DataRobot unreachable, 5xx, rate limited) become
:class:`~controller.service.leases.LeaseStoreUnavailable`, which a waiting instance rides
out; others (a rejected token, no permission) are raised as they are, with a hint.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from controller.errors import LockError
from controller.logs import get_logger
from controller.model.identity import lock_model_name, lock_upid
from controller.model.live import LiveModel
from controller.remote import (
    ApiConnectionError,
    DataRobotClient,
    ForbiddenError,
    NotFoundError,
    OutcomeUnknownError,
    RateLimitedError,
    ServerError,
    ValidationError,
)
from controller.service.leases import LeaseRecord, LeaseStoreUnavailable

log = get_logger(__name__)

_TRANSIENT = (ApiConnectionError, OutcomeUnknownError, RateLimitedError, ServerError)
_DUPLICATE = "user provided ID"  # the 422 of a second create with the same userProvidedId
# Creates answered "duplicate" while no lock model can be seen before it is called invisible.
_INVISIBLE_TRIES = 3


class DataRobotLeaseStore:
    """:class:`~controller.service.leases.LeaseStore` on a DataRobot custom model."""

    def __init__(
        self, client: DataRobotClient, namespace: str, *, trusted_creators: tuple[str, ...] = ()
    ) -> None:
        self._client = client
        self._namespace = namespace
        self._trusted = trusted_creators
        self._user: str | None = None
        self.user_provided_id = lock_upid(namespace)
        self.name = lock_model_name(namespace)

    def create_if_absent(self, record: LeaseRecord) -> str | None:
        fields = {
            "name": self.name,
            "description": record.to_json(),
            "targetType": "Unstructured",
            "userProvidedId": self.user_provided_id,
        }
        for _ in range(_INVISIBLE_TRIES):
            created, token = self._create(fields, record)
            if created:
                return token
            if self.read() is not None:
                return None  # held, and visible: the lock waits for it
            # A duplicate nobody can see: released between our create and read (then the
            # next create succeeds), or made by a user who did not share it with us.
        raise LockError(self._invisible_message())

    def _create(self, fields: dict[str, str], record: LeaseRecord) -> tuple[bool, str | None]:
        """``(True, token)`` when this create made the lease (or, outcome unknown, found it
        holding our record); ``(False, None)`` on a duplicate; ``(True, None)`` when another
        record turned up after an unknown outcome."""
        with self._translated("create"):
            try:
                return True, self._client.create_model(fields).id
            except ValidationError as exc:
                if _DUPLICATE in str(exc):
                    return False, None
                raise
            except OutcomeUnknownError:
                # The create may have happened: the lease is ours if it holds our record.
                current = self.read()
                if current is not None and current[0] is not None:
                    if current[0].lease_id == record.lease_id:
                        log.info("namespace_lock_found_after_unknown_outcome")
                        return True, current[1]
                    return True, None
                if current is None:
                    raise  # nothing there: it did not happen; the caller tries again
                return True, None

    def read(self) -> tuple[LeaseRecord | None, str] | None:
        with self._translated("read"):
            model = self._find(search=self.name) or self._find(search=None)
        if model is None:
            return None
        self._check_creator(model)
        try:
            record: LeaseRecord | None = LeaseRecord.from_json(
                str(model.fields.get("description") or "")
            )
        except ValueError:
            record = None
        return record, model.id

    def refresh(self, record: LeaseRecord, token: str) -> bool:
        with self._translated("refresh"):
            try:
                self._client.update_model(token, {"description": record.to_json()})
            except NotFoundError:
                return False
        return True

    def delete(self, token: str) -> bool:
        with self._translated("delete"):
            try:
                self._client.delete_model(token)
            except NotFoundError:
                return False
        return True

    def _check_creator(self, model: LiveModel) -> None:
        """Refuse a lock model made by someone other than us or a trusted user."""
        if self._user is None:
            with self._translated("read"):
                info = self._client.account_info()
            self._user = info.username if info is not None else ""
        creator = model.created_by
        if not creator or not self._user:
            return  # the server does not say who made it, or who we are: nothing to compare
        if creator.casefold() in {n.casefold() for n in (self._user, *self._trusted)}:
            return
        log.error(
            "namespace_lock_foreign", namespace=self._namespace, model=model.id, creator=creator
        )
        raise LockError(
            f"the namespace lock of {self._namespace!r} (custom model {model.id}, "
            f"userProvidedId {self.user_provided_id!r}) was created by {creator!r}, not by "
            f"{self._user!r} (the user dr-gitops runs as) nor a --trusted-creator: another "
            "DataRobot user may be holding this namespace hostage. Have that model deleted (by "
            "its creator or an administrator); if that user runs a controller of this "
            f"namespace, pass --trusted-creator {creator}"
        )

    def _invisible_message(self) -> str:
        return (
            f"the namespace lock of {self._namespace!r} exists (DataRobot refuses a second "
            f"custom model with userProvidedId {self.user_provided_id!r}) but the token's user "
            "cannot see it: another DataRobot user made it without sharing it, and it would be "
            "waited for forever. Ask a DataRobot administrator to find and delete that model "
            "(or its creator to share it with the user dr-gitops runs as, if it is a "
            "controller's); meanwhile --lock file or --lock none run without it"
        )

    def _find(self, *, search: str | None) -> LiveModel | None:
        # The search finds it by name in one small page; a renamed lock model is still
        # found by its userProvidedId in the full list.
        for model in self._client.iter_models(search=search):
            if model.user_provided_id == self.user_provided_id:
                return model
        return None

    @contextlib.contextmanager
    def _translated(self, step: str) -> Iterator[None]:
        try:
            yield
        except _TRANSIENT as exc:
            raise LeaseStoreUnavailable(
                f"cannot {step} the namespace lock in DataRobot: {exc}"
            ) from exc
        except ForbiddenError as exc:
            said = f" ({exc.server_message})" if exc.server_message else ""
            raise LockError(
                f"cannot {step} the namespace lock in DataRobot: DataRobot answered 403{said}. "
                "The lock is a custom model: give the token's user the permission to create "
                "custom models, or use --lock file or --lock none"
            ) from exc
