"""Objects the controller must never touch, planted before the runs.

A hand-made model (with a version) and job, a model of another namespace whose
``userProvidedId`` even ends like one of ours, one whose prefix only looks like ours, and a
job stamped by another namespace. The verifier checks they are still there, unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

import requests


@dataclass(frozen=True)
class Bystander:
    """An object the controller must leave alone, as it was before the runs."""

    kind: str  # "model" | "job"
    id: str
    description: str
    versions: int = 0


def plant_bystanders(api_url: str, token: str, namespace: str) -> list[Bystander]:
    """Objects the controller must not touch: a hand-made model (with a version) and job,
    a model of another namespace, and a job stamped by another namespace."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    base = api_url.rstrip("/")
    planted: list[Bystander] = []

    def model(description: str, upid: str | None) -> None:
        body = {
            "name": "Hand made",
            "description": description,
            "customModelType": "inference",
            "targetType": "Regression",
            "targetName": "y",
        }
        if upid:
            body["userProvidedId"] = upid
        made = session.post(f"{base}/customModels/", json=body, timeout=30)
        made.raise_for_status()
        files = [
            ("file", ("custom.py", b"x = 1\n")),
            ("filePath", (None, "custom.py")),
            ("isMajorUpdate", (None, "true")),
            ("baseEnvironmentId", (None, "64d2ba178dd3f0b1fa2162f0")),
        ]
        session.post(
            f"{base}/customModels/{made.json()['id']}/versions/", files=files, timeout=30
        ).raise_for_status()
        planted.append(Bystander("model", made.json()["id"], description, versions=1))

    def job(description: str) -> None:
        body = {
            "name": "Hand made job",
            "description": description,
            "jobType": "default",
            "environmentId": "64d2ba178dd3f0b1fa2162f2",
        }
        made = session.post(f"{base}/customJobs/", json=body, timeout=30)
        made.raise_for_status()
        planted.append(Bystander("job", made.json()["id"], description))

    model("made by hand, no userProvidedId", None)
    model("another team's model", f"other-team/{namespace}/gm-000")
    model("a prefix look-alike", f"{namespace}-other/gm-001")
    job("made by hand")
    job(f"another namespace's job\n\n[dr-gitops ns={namespace}-other name=gj-000]")
    session.close()
    return planted
