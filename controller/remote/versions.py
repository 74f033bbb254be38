"""Custom model version calls: list, get, the three ways to create, metadata, download.

* :meth:`VersionCalls.create_version`: ``POST .../versions/`` (multipart): a version with
  exactly the uploaded files; the first version of a model.
* :meth:`VersionCalls.create_version_from_latest`: ``PATCH .../versions/`` (multipart): the
  latest version's files, then uploads replace by path, then ``filesToDelete`` (item IDs).
* :meth:`VersionCalls.create_version_with_settings`: ``PATCH .../versions/`` (JSON): new
  settings or runtime values only, no file uploaded.

All three are writes: a 5xx or a dropped connection raises ``OutcomeUnknownError``; look
the version up with ``list_versions(model_id, main_branch_commit_sha=...)`` before trying
again.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import requests

from controller.model.live import LiveVersion
from controller.model.values import GitModelVersion, Json
from controller.remote import routes
from controller.remote.apierrors import ApiConnectionError
from controller.remote.decoders import decoding, version_from_api
from controller.remote.multipart import FileUpload, multipart_body
from controller.remote.pages import paginate
from controller.remote.transport import Transport, json_body

RuntimeValues = Sequence[Mapping[str, Json]]
"""Runtime parameter values in the API's form: ``[{"fieldName", "type", "value"}]``."""

# Fields of the version create forms whose schema type is a JSON-encoded string.
_JSON_STRING_FIELDS = frozenset(
    {
        "runtimeParameterValues",
        "requiredMetadataValues",
        "requiredMetadata",
        "trainingData",
        "holdoutData",
    }
)


class VersionCalls:
    """Calls on ``customModels/{id}/versions/``; mixed into ``DataRobotClient``."""

    http: Transport

    def list_versions(
        self,
        model_id: str,
        *,
        main_branch_commit_sha: str | None = None,
        page_size: int | None = None,
    ) -> list[LiveVersion]:
        """A model's versions, newest first; only those made from one commit when given."""
        query = {"mainBranchCommitSha": main_branch_commit_sha} if main_branch_commit_sha else None
        pages = paginate(
            self.http,
            routes.VERSIONS,
            path={"customModelId": model_id},
            query=query,
            page_size=page_size,
        )
        with decoding("GET", routes.VERSIONS):
            return [version_from_api(raw, model_id) for raw in pages]

    def get_version(self, model_id: str, version_id: str) -> LiveVersion:
        return self._version_call("GET", routes.VERSION, model_id, version_id)

    def create_version(
        self,
        model_id: str,
        *,
        files: Sequence[FileUpload],
        is_major_update: bool = False,
        settings: Mapping[str, Json] | None = None,
        runtime_parameter_values: RuntimeValues | None = None,
        git_model_version: GitModelVersion | None = None,
    ) -> LiveVersion:
        """POST a version holding exactly ``files``, with version ``settings`` (API names)."""
        values = _version_values(
            is_major_update, settings, runtime_parameter_values, git_model_version
        )
        return self._version_call(
            "POST", routes.VERSIONS, model_id, body=multipart_body(files, values)
        )

    def create_version_from_latest(
        self,
        model_id: str,
        *,
        files: Sequence[FileUpload] = (),
        files_to_delete: Sequence[str] = (),
        is_major_update: bool = False,
        settings: Mapping[str, Json] | None = None,
        runtime_parameter_values: RuntimeValues | None = None,
        git_model_version: GitModelVersion | None = None,
    ) -> LiveVersion:
        """PATCH (multipart) a version from the latest: replace/add ``files``, drop items."""
        values = _version_values(
            is_major_update, settings, runtime_parameter_values, git_model_version
        )
        values["filesToDelete"] = list(files_to_delete)
        return self._version_call(
            "PATCH", routes.VERSIONS, model_id, body=multipart_body(files, values)
        )

    def create_version_with_settings(
        self,
        model_id: str,
        *,
        is_major_update: bool = False,
        settings: Mapping[str, Json] | None = None,
        runtime_parameter_values: RuntimeValues | None = None,
        git_model_version: GitModelVersion | None = None,
        files_to_delete: Sequence[str] = (),
    ) -> LiveVersion:
        """PATCH (JSON) a version from the latest with new settings or runtime values only."""
        values = _version_values(
            is_major_update, settings, runtime_parameter_values, git_model_version
        )
        body: dict[str, Any] = {
            k: json.dumps(v) if k in _JSON_STRING_FIELDS and not isinstance(v, str) else v
            for k, v in values.items()
            if v is not None
        }
        if "keepTrainingHoldoutData" in body:  # a real boolean in JSON (as TF sends it)
            body["keepTrainingHoldoutData"] = body["keepTrainingHoldoutData"] == "true"
        if files_to_delete:
            body["filesToDelete"] = list(files_to_delete)
        return self._version_call("PATCH", routes.VERSIONS, model_id, json=body)

    def update_version_metadata(
        self,
        model_id: str,
        version_id: str,
        *,
        description: str | None = None,
        required_metadata_values: Sequence[Mapping[str, Json]] | None = None,
        git_model_version: GitModelVersion | None = None,
    ) -> LiveVersion:
        """PATCH a version's metadata (no new version); only the given parts are sent."""
        body: dict[str, Any] = {}
        if description is not None:
            body["description"] = description
        if required_metadata_values is not None:
            body["requiredMetadataValues"] = [dict(v) for v in required_metadata_values]
        if git_model_version is not None:
            body["gitModelVersion"] = git_model_version.to_api()
        return self._version_call(
            "PATCH", routes.VERSION, model_id, version_id, json=body, idempotent=True
        )

    def download_version(self, model_id: str, version_id: str, destination: Path) -> Path:
        """Save a version's files as a zip at ``destination`` (written whole or not at all)."""
        path = {"customModelId": model_id, "customModelVersionId": version_id}
        destination.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            dir=destination.parent, prefix=f".{destination.name}.", delete=False
        ) as handle:
            partial = Path(handle.name)
        try:
            self._download(path, partial)
            partial.replace(destination)
        finally:
            partial.unlink(missing_ok=True)
        return destination

    def _download(self, path: Mapping[str, str], target: Path) -> None:
        # request() retries failures before the body starts; a body that breaks off
        # midway is fetched again from the start, within the same retry count.
        attempts = self.http.settings.max_retries + 1
        for attempt in range(1, attempts + 1):
            response = self.http.request("GET", routes.VERSION_DOWNLOAD, path=path, stream=True)
            try:
                with target.open("wb") as out:
                    for chunk in response.iter_content(chunk_size=1 << 16):
                        out.write(chunk)
                return
            except requests.RequestException as exc:
                if attempt == attempts:
                    raise ApiConnectionError(
                        method="GET",
                        route=routes.API_PREFIX + routes.VERSION_DOWNLOAD,
                        status=response.status_code,
                        detail=f"the download broke off ({type(exc).__name__})",
                        attempts=attempt,
                    ) from exc
            finally:
                response.close()

    def _version_call(
        self,
        method: str,
        route: str,
        model_id: str,
        version_id: str | None = None,
        **kwargs: Any,
    ) -> LiveVersion:
        path = {"customModelId": model_id}
        if version_id is not None:
            path["customModelVersionId"] = version_id
        response = self.http.request(method, route, path=path, **kwargs)
        with decoding(method, route):
            return version_from_api(json_body(response, method, route), model_id)


def _version_values(
    is_major_update: bool,
    settings: Mapping[str, Json] | None,
    runtime_parameter_values: RuntimeValues | None,
    git_model_version: GitModelVersion | None,
) -> dict[str, Json]:
    values: dict[str, Json] = {
        k: v for k, v in (settings or {}).items() if v is not None and k not in TRAINING_SETTINGS
    }
    values.update(training_values(settings or {}))
    values["isMajorUpdate"] = "true" if is_major_update else "false"
    if runtime_parameter_values is not None:
        values["runtimeParameterValues"] = json.dumps(
            [dict(v) for v in runtime_parameter_values], separators=(",", ":")
        )
    if git_model_version is not None:
        values["gitModelVersion"] = dict(git_model_version.to_api())
    return values


TRAINING_SETTINGS = (
    "trainingDatasetId",
    "trainingDatasetVersionId",
    "holdoutDatasetId",
    "partitionColumn",
)


def training_values(settings: Mapping[str, Json]) -> dict[str, Json]:
    """The version create fields for the training settings (API-DELIVERY.md §3):
    ``trainingData`` and ``holdoutData`` as JSON strings, and ``keepTrainingHoldoutData``
    false, since new data replaces the inherited; nothing when no training data is set."""
    dataset = settings.get("trainingDatasetId")
    if not dataset:
        return {}
    training: dict[str, Json] = {"datasetId": dataset}
    if settings.get("trainingDatasetVersionId"):
        training["datasetVersionId"] = settings["trainingDatasetVersionId"]
    values: dict[str, Json] = {
        "trainingData": json.dumps(training, separators=(",", ":")),
        "keepTrainingHoldoutData": "false",
    }
    if settings.get("holdoutDatasetId"):
        holdout = {"datasetId": settings["holdoutDatasetId"]}
        values["holdoutData"] = json.dumps(holdout, separators=(",", ":"))
    elif settings.get("partitionColumn"):
        holdout = {"partitionColumn": settings["partitionColumn"]}
        values["holdoutData"] = json.dumps(holdout, separators=(",", ":"))
    return values
