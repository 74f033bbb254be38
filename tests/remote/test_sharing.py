"""Sharing calls against the emulator: read all pages, write batches of at most 100."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from controller.model.live import LiveGrant
from controller.model.plans import GrantChange
from controller.remote import DataRobotClient, RequestCounter, apierrors
from controller.remote.sharing import job_role_entry, model_access_entry
from controller.settings import ApiSettings
from emulator.server import EmulatorServer
from tests.fixtures.remote import fast_settings, model_fields
from tests.remote.fakes import FakeSession, response

BOT = "gitops-bot@example.com"
GROUP_ID = "6500000000000000000000a1"
ORG_ID = "6500000000000000000000f1"


def _by_name(grants: tuple[LiveGrant, ...]) -> dict[str, str]:
    return {g.name: g.role for g in grants}


def test_a_new_model_is_owned_by_the_tokens_user(dr_client: DataRobotClient) -> None:
    model = dr_client.create_model(model_fields("shared"))
    assert dr_client.get_model_access(model.id) == (
        LiveGrant("user", BOT, "OWNER", "650000000000000000000001", True),
    )


def test_model_access_is_granted_changed_and_revoked_from_grant_changes(
    dr_client: DataRobotClient,
) -> None:
    model = dr_client.create_model(model_fields("shared"))
    dr_client.update_model_access(
        model.id,
        [
            GrantChange("user", "alice@example.com", None, "USER", None, True),
            GrantChange("user", "bob@example.com", None, "OWNER"),
        ],
    )
    assert _by_name(dr_client.get_model_access(model.id)) == {
        BOT: "OWNER",
        "alice@example.com": "USER",
        "bob@example.com": "OWNER",
    }
    dr_client.update_model_access(
        model.id,
        [
            GrantChange("user", "alice@example.com", "USER", "EDITOR"),
            GrantChange("user", "bob@example.com", "OWNER", None),
        ],
    )
    grants = {g.name: g for g in dr_client.get_model_access(model.id)}
    assert set(grants) == {BOT, "alice@example.com"}
    assert grants["alice@example.com"].role == "EDITOR"


def test_revoking_the_last_owner_is_a_conflict(dr_client: DataRobotClient) -> None:
    model = dr_client.create_model(model_fields("guarded"))
    with pytest.raises(apierrors.ConflictError, match="409"):
        dr_client.update_model_access(model.id, [GrantChange("user", BOT, "OWNER", None)])


def test_granting_an_unknown_user_is_a_validation_error(dr_client: DataRobotClient) -> None:
    model = dr_client.create_model(model_fields("stranger"))
    with pytest.raises(apierrors.ValidationError):
        dr_client.update_model_access(
            model.id, [GrantChange("user", "nobody@nowhere", None, "USER")]
        )


def test_more_than_100_entries_go_in_batches_owners_first_revocations_last() -> None:
    session = FakeSession.of(*[response(204)] * 6)
    client = DataRobotClient(
        ApiSettings(endpoint="https://dr.example.com", token="t0ken-for-batches"),
        session=session,  # type: ignore[arg-type]
    )
    revoke = [GrantChange("user", f"old{i}@x", "USER", None) for i in range(60)]
    grant = [GrantChange("user", f"new{i}@x", None, "USER") for i in range(150)]
    owner = [GrantChange("user", "boss@x", None, "OWNER")]
    assert client.update_model_access("m1", revoke + grant + owner) == 3
    batches = [kwargs["json"]["data"] for _, _, kwargs in session.sent]
    assert [len(b) for b in batches] == [100, 100, 11]
    assert batches[0][0] == {"username": "boss@x", "role": "OWNER"}
    assert all(e["role"] is None for e in batches[-1])
    assert client.update_job_roles("j1", revoke + grant + owner) == 3
    roles = [kwargs["json"] for _, _, kwargs in session.sent[3:]]
    assert {r["operation"] for r in roles} == {"updateRoles"}
    assert all(len(r["roles"]) <= 100 for r in roles)


def test_job_roles_cover_users_groups_and_organizations(dr_client: DataRobotClient) -> None:
    job = dr_client.create_job({"name": "shared job", "jobType": "default"})
    dr_client.update_job_roles(
        job.id,
        [
            GrantChange("user", "bob@example.com", None, "EDITOR"),
            GrantChange("group", "ml-platform", None, "CONSUMER", recipient_id=GROUP_ID),
            GrantChange("organization", "Example Org", None, "CONSUMER", recipient_id=ORG_ID),
        ],
    )
    grants = {(g.recipient_type, g.name): g for g in dr_client.get_job_roles(job.id)}
    assert grants[("user", "bob@example.com")].role == "EDITOR"
    assert grants[("group", "ml-platform")].id == GROUP_ID
    assert grants[("organization", "Example Org")].role == "CONSUMER"
    dr_client.update_job_roles(job.id, [GrantChange("user", "bob@example.com", "EDITOR", None)])
    assert ("user", "bob@example.com") not in {
        (g.recipient_type, g.name) for g in dr_client.get_job_roles(job.id)
    }


def test_sharing_lists_are_read_across_pages(emulator: EmulatorServer) -> None:
    counter = RequestCounter()
    with DataRobotClient(fast_settings(emulator, page_size=2), on_request=counter) as client:
        model = client.create_model(model_fields("paged"))
        people = ["alice@example.com", "bob@example.com", "carol@example.com"]
        client.update_model_access(model.id, [{"username": p, "role": "USER"} for p in people])
        job = client.create_job({"name": "paged job", "jobType": "default"})
        client.update_job_roles(
            job.id,
            [{"shareRecipientType": "user", "username": p, "role": "CONSUMER"} for p in people],
        )
        counter.reset()
        assert len(client.get_model_access(model.id)) == 4
        assert len(client.get_job_roles(job.id)) == 4
    tally = counter.snapshot()
    assert tally.count("GET", "/api/v2/customModels/{customModelId}/accessControl/") == 2
    assert tally.count("GET", "/api/v2/customJobs/{customJobId}/sharedRoles/") == 2


def test_sharing_of_a_missing_object_is_not_found(dr_client: DataRobotClient) -> None:
    with pytest.raises(apierrors.NotFoundError):
        dr_client.get_model_access("0" * 24)
    with pytest.raises(apierrors.NotFoundError):
        dr_client.get_job_roles("0" * 24)


@pytest.mark.parametrize(
    ("convert", "change", "expected"),
    [
        (
            model_access_entry,
            GrantChange("user", "a@x", None, "USER", None, True),
            {"username": "a@x", "role": "USER", "canShare": True},
        ),
        (
            model_access_entry,
            GrantChange("user", "a@x", "USER", None),
            {"username": "a@x", "role": None},
        ),
        (
            job_role_entry,
            GrantChange("group", "team", None, "EDITOR", recipient_id="g1"),
            {"shareRecipientType": "group", "role": "EDITOR", "id": "g1"},
        ),
        (
            job_role_entry,
            GrantChange("user", "a@x", "EDITOR", None),
            {"shareRecipientType": "user", "role": "NO_ROLE", "username": "a@x"},
        ),
        (  # a user declared by ID only
            job_role_entry,
            GrantChange("user", "u1", None, "USER", recipient_id="u1"),
            {"shareRecipientType": "user", "role": "USER", "id": "u1"},
        ),
    ],
)
def test_grant_changes_become_api_entries(
    convert: Callable[[GrantChange], dict[str, Any]], change: GrantChange, expected: dict[str, Any]
) -> None:
    assert convert(change) == expected
