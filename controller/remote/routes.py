"""Route templates of the API, relative to ``/api/v2/``, named as in the reference.

Hooks, stats and errors report the full template (``/api/v2/customModels/{customModelId}/``)
so that counts group by route rather than by object.
"""

from __future__ import annotations

import re

API_PREFIX = "/api/v2/"

MODELS = "customModels/"
MODEL = "customModels/{customModelId}/"
MODEL_ACCESS = "customModels/{customModelId}/accessControl/"
VERSIONS = "customModels/{customModelId}/versions/"
VERSION = "customModels/{customModelId}/versions/{customModelVersionId}/"
VERSION_DOWNLOAD = "customModels/{customModelId}/versions/{customModelVersionId}/download/"
JOBS = "customJobs/"
JOB = "customJobs/{customJobId}/"
JOB_ITEM = "customJobs/{customJobId}/items/{itemId}/"
JOB_ROLES = "customJobs/{customJobId}/sharedRoles/"
MODEL_TESTS = "customModelTests/"
MODEL_TEST = "customModelTests/{customModelTestId}/"
STATUS = "status/{statusId}/"
ACCOUNT_INFO = "account/info/"
API_VERSION = "version/"

# A collection name followed by an ID segment: the name of that ID in the reference.
_ID_AFTER = {
    "customModels": "customModelId",
    "versions": "customModelVersionId",
    "customJobs": "customJobId",
    "items": "itemId",
    "runs": "customJobRunId",
    "customModelTests": "customModelTestId",
    "status": "statusId",
    "conversions": "conversionId",
    "executionEnvironments": "environmentId",
}
_NOT_AN_ID = re.compile(r"^[a-z][A-Za-z]*$")


def template_for_path(path: str) -> str:
    """The route template of a concrete API path found in a ``Location`` header.

    ``/api/v2/customModelTests/65ab.../`` → ``customModelTests/{customModelTestId}/``.
    Segments that look like words (``download``, ``fromCustomModel``) are kept.
    """
    index = path.find(API_PREFIX)
    rest = path[index + len(API_PREFIX) :] if index >= 0 else path.lstrip("/")
    segments = [s for s in rest.split("/") if s]
    out: list[str] = []
    for i, segment in enumerate(segments):
        name = _ID_AFTER.get(segments[i - 1]) if i > 0 else None
        if name and not _NOT_AN_ID.match(segment) and out[-1] == segments[i - 1]:
            out.append("{" + name + "}")
        else:
            out.append(segment)
    return "/".join(out) + "/"
