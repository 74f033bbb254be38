"""Custom model calls: list, get, create, update, delete."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from controller.model.live import LiveModel
from controller.model.values import GitModelVersion, Json
from controller.remote import routes
from controller.remote.apierrors import NotFoundError
from controller.remote.decoders import decoding, model_from_api
from controller.remote.pages import PageMemo, paginate, read_list
from controller.remote.transport import Transport, json_body


class ModelCalls:
    """Calls on ``customModels/``; mixed into :class:`~controller.remote.client.DataRobotClient`."""

    http: Transport
    page_memo: PageMemo | None

    def iter_models(
        self, *, search: str | None = None, page_size: int | None = None
    ) -> Iterator[LiveModel]:
        """Every custom model the token can see, newest first, each with its newest version."""
        query = {"searchFor": search} if search else None
        for raw in paginate(self.http, routes.MODELS, query=query, page_size=page_size):
            with decoding("GET", routes.MODELS):
                yield model_from_api(raw)

    def list_models(
        self, *, search: str | None = None, page_size: int | None = None
    ) -> list[LiveModel]:
        """:meth:`iter_models` as a list (one request per page); pages the client's
        ``page_memo`` holds are not decoded again."""
        query = {"searchFor": search} if search else None
        return read_list(
            self.http, routes.MODELS, _model, memo=self.page_memo, query=query, page_size=page_size
        )

    def get_model(self, model_id: str) -> LiveModel:
        return self._model_call("GET", model_id)

    def create_model(
        self, fields: Mapping[str, Json], *, git_model_version: GitModelVersion | None = None
    ) -> LiveModel:
        """POST a new model. ``fields`` uses API names (``userProvidedId``, ``name``, ...);
        ``customModelType`` defaults to ``inference``.

        A 5xx or dropped connection raises ``OutcomeUnknownError``: find the model by its
        ``userProvidedId`` before trying again.
        """
        body: dict[str, Any] = {"customModelType": "inference", **fields}
        if git_model_version is not None:
            body["gitModelVersion"] = git_model_version.to_api()
        response = self.http.request("POST", routes.MODELS, json=body)
        with decoding("POST", routes.MODELS):
            return model_from_api(json_body(response, "POST", routes.MODELS))

    def update_model(
        self,
        model_id: str,
        changes: Mapping[str, Json],
        *,
        git_model_version: GitModelVersion | None = None,
    ) -> LiveModel:
        """PATCH model fields (CustomModelUpdate names); answers 200 or 201."""
        body: dict[str, Any] = dict(changes)
        if git_model_version is not None:
            body["gitModelVersion"] = git_model_version.to_api()
        # Setting fields to given values is harmless to repeat: resent like a GET.
        return self._model_call("PATCH", model_id, json=body, idempotent=True)

    def delete_model(self, model_id: str) -> None:
        """DELETE a model. A 404 on a resend (the first attempt did it) counts as done."""
        try:
            self.http.request("DELETE", routes.MODEL, path={"customModelId": model_id})
        except NotFoundError as exc:
            if exc.attempts <= 1:
                raise

    def _model_call(self, method: str, model_id: str, **kwargs: Any) -> LiveModel:
        response = self.http.request(
            method, routes.MODEL, path={"customModelId": model_id}, **kwargs
        )
        with decoding(method, routes.MODEL):
            return model_from_api(json_body(response, method, routes.MODEL))


def _model(raw: Any) -> LiveModel:
    with decoding("GET", routes.MODELS):
        return model_from_api(raw)
