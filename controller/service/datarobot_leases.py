"""A namespace lease kept in DataRobot itself, so that controllers on different machines
(a service, a CI job, a laptop) exclude each other.

DataRobot has no lock API, but a custom model's ``userProvidedId`` is unique and set at
creation: creating a model with ``userProvidedId = <namespace>/.dr-gitops-lock`` is an
atomic "create if absent" (a second one is a 422). The model's description holds the
lease record; its model ID is the token, so refreshing (a PATCH by ID) and releasing (a
DELETE by ID) act only on the lease that was read. The lock model is an ``Unstructured``
model named ``dr-gitops lock: <namespace>``; it has no version and is never taken for a
managed model (``.dr-gitops-lock`` is not a valid manifest name).
"""

from __future__ import annotations

from controller.logs import get_logger
from controller.model.identity import lock_upid
from controller.remote import DataRobotClient, NotFoundError, OutcomeUnknownError, ValidationError
from controller.service.leases import LeaseRecord

log = get_logger(__name__)


class DataRobotLeaseStore:
    """:class:`~controller.service.leases.LeaseStore` on a DataRobot custom model."""

    def __init__(self, client: DataRobotClient, namespace: str) -> None:
        self._client = client
        self._namespace = namespace
        self._upid = lock_upid(namespace)
        self._name = f"dr-gitops lock: {namespace}"[:255]

    def create_if_absent(self, record: LeaseRecord) -> str | None:
        fields = {
            "name": self._name,
            "description": record.to_json(),
            "targetType": "Unstructured",
            "userProvidedId": self._upid,
        }
        try:
            return self._client.create_model(fields).id
        except ValidationError as exc:
            if "user provided ID" in str(exc):
                return None
            raise
        except OutcomeUnknownError:
            current = self.read()
            if (
                current is not None
                and current[0] is not None
                and current[0].lease_id == record.lease_id
            ):
                return current[1]
            return None

    def read(self) -> tuple[LeaseRecord | None, str] | None:
        for model in self._client.list_models(search=self._name):
            if model.user_provided_id == self._upid:
                try:
                    record: LeaseRecord | None = LeaseRecord.from_json(
                        str(model.fields.get("description") or "")
                    )
                except ValueError:
                    record = None
                return record, model.id
        return None

    def refresh(self, record: LeaseRecord, token: str) -> bool:
        try:
            self._client.update_model(token, {"description": record.to_json()})
        except NotFoundError:
            return False
        return True

    def delete(self, token: str) -> bool:
        try:
            self._client.delete_model(token)
        except NotFoundError:
            return False
        return True
