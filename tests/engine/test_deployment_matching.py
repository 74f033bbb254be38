"""``match_deployments``: a Deployment manifest finds its deployment by ``userProvidedId``,
or by ``spec.deploymentId`` (adoption), and is refused whenever that claim is doubtful."""

from __future__ import annotations

from controller.engine.ownership import match_deployments
from controller.model.delivery import DesiredDeployment, LiveDeployment
from controller.model.desired import ResourceKey
from controller.model.values import Location

NS = "acme/models"


def _wanted(name: str, deployment_id: str | None = None) -> DesiredDeployment:
    return DesiredDeployment(
        key=ResourceKey("Deployment", name),
        location=Location(f"deployments/{name}.yaml", 1, 1),
        label=name,
        model="fraud",
        version="latest",
        deployment_id=deployment_id,
    )


def _live(deployment_id: str, upid: str | None = None) -> LiveDeployment:
    return LiveDeployment(deployment_id, upid, "label", None, None, None, None)


def test_manifests_find_their_deployment_by_user_provided_id_or_by_id() -> None:
    made = _live("a" * 24, f"{NS}/prod")
    by_hand = _live("b" * 24)

    matches = match_deployments(
        [_wanted("prod"), _wanted("staging", "b" * 24), _wanted("new")], [made, by_hand], NS
    )

    assert dict(matches.owned) == {ResourceKey("Deployment", "prod"): made}
    assert dict(matches.adopted) == {ResourceKey("Deployment", "staging"): by_hand}
    assert matches.live_for(ResourceKey("Deployment", "new")) is None
    assert not matches.conflicts


def test_an_id_naming_the_namespace_own_deployment_of_that_manifest_is_owned() -> None:
    made = _live("a" * 24, f"{NS}/prod")

    matches = match_deployments([_wanted("prod", "a" * 24)], [made], NS)

    assert dict(matches.owned) == {ResourceKey("Deployment", "prod"): made}
    assert not matches.adopted


def test_doubtful_claims_by_id_are_refused_with_the_reason() -> None:
    live = [
        _live("a" * 24, f"{NS}/prod"),
        _live("c" * 24, "other-team/fraud"),
        _live("d" * 24),
        _live("e" * 24, f"{NS}/twice"),
    ]
    wanted = [
        _wanted("prod"),
        _wanted("steals", "a" * 24),  # another manifest's deployment
        _wanted("foreign", "c" * 24),  # another namespace's or tool's
        _wanted("gone", "f" * 24),  # no such deployment
        _wanted("twice", "d" * 24),  # this namespace made one for it already
    ]

    conflicts = match_deployments(wanted, live, NS).conflicts

    assert set(conflicts) == {
        ResourceKey("Deployment", n) for n in ("steals", "foreign", "gone", "twice")
    }
    assert "belongs to Deployment/prod" in conflicts[ResourceKey("Deployment", "steals")]
    assert "'other-team/fraud'" in conflicts[ResourceKey("Deployment", "foreign")]
    assert "no such deployment" in conflicts[ResourceKey("Deployment", "gone")]
    assert "e" * 24 in conflicts[ResourceKey("Deployment", "twice")]
