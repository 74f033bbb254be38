"""Sharing: model access lists and job shared roles; who then sees what."""

from __future__ import annotations

import json

import pytest

from emulator.server import EmulatorServer
from tests.fixtures.emulator import EmulatorApi

BOT, ALICE, BOB = "650000000000000000000001", "650000000000000000000002", "650000000000000000000003"
ML_PLATFORM, DATA_SCIENCE, ORG = (
    "6500000000000000000000a1",
    "6500000000000000000000a2",
    "6500000000000000000000f1",
)


def _acl(emulator_api, model):
    answer = emulator_api.get(f"customModels/{model['id']}/accessControl/").json()
    assert "totalCount" not in answer
    return {(e["username"], e["role"], e["canShare"]) for e in answer["data"]}


def _share(emulator_api, model, *entries):
    return emulator_api.patch(
        f"customModels/{model['id']}/accessControl/", json={"data": list(entries)}
    )


def test_the_creator_owns_a_new_model(emulator_api):
    model = emulator_api.create_model()
    listing = emulator_api.get(f"customModels/{model['id']}/accessControl/").json()
    assert listing["data"] == [
        {"username": "gitops-bot@example.com", "userId": BOT, "role": "OWNER", "canShare": True}
    ]


def test_roles_are_granted_changed_and_revoked(emulator_api):
    model = emulator_api.create_model()
    answer = _share(
        emulator_api,
        model,
        {"username": "alice@example.com", "role": "OWNER"},
        {"username": "bob@example.com", "role": "USER", "canShare": True},
    )
    assert answer.status_code == 204
    assert _acl(emulator_api, model) == {
        ("gitops-bot@example.com", "OWNER", True), ("alice@example.com", "OWNER", True), ("bob@example.com", "USER", True),
    }  # fmt: skip
    _share(
        emulator_api,
        model,
        {"username": "bob@example.com", "role": "CONSUMER"},
        {"username": "alice@example.com", "role": None},
    )
    assert _acl(emulator_api, model) == {
        ("gitops-bot@example.com", "OWNER", True),
        ("bob@example.com", "CONSUMER", False),
    }


def test_leaving_no_owner_is_a_409_and_changes_nothing(emulator_api):
    model = emulator_api.create_model()
    answer = _share(
        emulator_api,
        model,
        {"username": "alice@example.com", "role": "USER"},
        {"username": "gitops-bot@example.com", "role": None},
    )
    assert answer.status_code == 409
    assert _acl(emulator_api, model) == {("gitops-bot@example.com", "OWNER", True)}


def test_an_unknown_user_is_a_422(emulator_api):
    model = emulator_api.create_model()
    answer = _share(emulator_api, model, {"username": "mallory@example.com", "role": "USER"})
    assert answer.status_code == 422
    assert answer.json()["errors"] == {"data.0.username": "User mallory@example.com does not exist"}


def test_at_most_100_entries_and_valid_roles(emulator_api):
    model = emulator_api.create_model()
    many = [{"username": "bob@example.com", "role": "USER"}] * 101
    assert _share(emulator_api, model, *many).json()["errors"] == {
        "data": "must have at most 100 items"
    }
    assert (
        "data.0.role"
        in _share(emulator_api, model, {"username": "bob@example.com", "role": "KING"}).json()[
            "errors"
        ]
    )


def test_users_see_only_what_is_shared_with_them(tmp_path):
    seed = {
        "tokenOwner": BOT,
        "users": [
            {"id": BOT, "username": "gitops-bot@example.com", "apiTokens": ["bot"]},
            {"id": ALICE, "username": "alice@example.com", "apiTokens": ["alice"]},
        ],
        "executionEnvironments": [
            {
                "id": "64d2ba178dd3f0b1fa2162f0",
                "name": "env",
                "versions": [{"id": "64d2ba178dd3f0b1fa2163b0"}],
            }
        ],
    }
    seed_file = tmp_path / "seed.json"
    seed_file.write_text(json.dumps(seed))
    with EmulatorServer(seed_file=seed_file) as server:
        bot, alice = EmulatorApi(server, "bot"), EmulatorApi(server, "alice")
        model = bot.create_model()
        assert alice.get("customModels/").json()["totalCount"] == 0
        assert alice.get(f"customModels/{model['id']}/").status_code == 404
        bot.patch(
            f"customModels/{model['id']}/accessControl/",
            json={"data": [{"username": "alice@example.com", "role": "CONSUMER"}]},
        )
        assert alice.get(f"customModels/{model['id']}/").status_code == 200
        assert alice.patch(f"customModels/{model['id']}/", json={"name": "x"}).status_code == 403
        assert (
            alice.patch(
                f"customModels/{model['id']}/accessControl/",
                json={"data": [{"username": "alice@example.com", "role": "OWNER"}]},
            ).status_code
            == 403
        )
        bot.patch(
            f"customModels/{model['id']}/accessControl/",
            json={"data": [{"username": "alice@example.com", "role": "OWNER"}]},
        )
        alice.patch(
            f"customModels/{model['id']}/accessControl/",
            json={"data": [{"username": "gitops-bot@example.com", "role": None}]},
        )
        assert (
            bot.get(f"customModels/{model['id']}/").status_code == 404
        )  # the bot shared itself away
        assert (
            bot.post(
                "customModels/",
                json={
                    "name": "m",
                    "customModelType": "inference",
                    "targetType": "Regression",
                    "targetName": "y",
                },
            ).status_code
            == 201
        )


# -- jobs -------------------------------------------------------------------------------


@pytest.fixture
def job(emulator_api):
    return emulator_api.post("customJobs/", json={"name": "nightly"}).json()


def _roles(emulator_api, job, query=""):
    answer = emulator_api.get(f"customJobs/{job['id']}/sharedRoles/{query}").json()
    assert answer["totalCount"] == len(answer["data"]) or query
    return {(r["shareRecipientType"], r["name"], r["role"], r["canShare"]) for r in answer["data"]}


def _update(emulator_api, job, *roles):
    return emulator_api.patch(
        f"customJobs/{job['id']}/sharedRoles/",
        json={"operation": "updateRoles", "roles": list(roles)},
    )


def test_job_roles_go_to_users_groups_and_the_organization(emulator_api, job):
    answer = _update(
        emulator_api,
        job,
        {"shareRecipientType": "user", "username": "bob@example.com", "role": "EDITOR"},
        {"shareRecipientType": "group", "id": ML_PLATFORM, "role": "CONSUMER"},
        {
            "shareRecipientType": "organization",
            "username": "Example Org",
            "role": "USER",
            "canShare": True,
        },
    )
    assert answer.status_code == 204
    assert _roles(emulator_api, job) == {
        ("user", "gitops-bot@example.com", "OWNER", True),
        ("user", "bob@example.com", "EDITOR", False),
        ("group", "ml-platform", "CONSUMER", False),
        ("organization", "Example Org", "USER", True),
    }
    assert _roles(emulator_api, job, "?shareRecipientType=group") == {
        ("group", "ml-platform", "CONSUMER", False)
    }
    assert _roles(emulator_api, job, f"?id={BOB}") == {("user", "bob@example.com", "EDITOR", False)}


def test_no_role_revokes_a_job_role(emulator_api, job):
    _update(emulator_api, job, {"shareRecipientType": "group", "id": DATA_SCIENCE, "role": "USER"})
    _update(
        emulator_api,
        job,
        {"shareRecipientType": "group", "username": "data-science", "role": "NO_ROLE"},
    )
    assert _roles(emulator_api, job) == {("user", "gitops-bot@example.com", "OWNER", True)}


def test_job_sharing_refuses_unknown_recipients_and_ownerless_jobs(emulator_api, job):
    unknown = _update(
        emulator_api,
        job,
        {"shareRecipientType": "group", "id": "6500000000000000000000ff", "role": "USER"},
    )
    assert unknown.status_code == 422
    ownerless = _update(
        emulator_api, job, {"shareRecipientType": "user", "id": BOT, "role": "NO_ROLE"}
    )
    assert ownerless.status_code == 409
    bad_role = _update(emulator_api, job, {"shareRecipientType": "user", "id": BOB, "role": "KING"})
    assert bad_role.json()["errors"] == {
        "roles.0.role": "must be one of: ADMIN, CONSUMER, DATA_SCIENTIST, EDITOR, OBSERVER, OWNER, READ_ONLY, READ_WRITE, USER, NO_ROLE"
    }
    empty = emulator_api.patch(
        f"customJobs/{job['id']}/sharedRoles/", json={"operation": "updateRoles", "roles": []}
    )
    assert empty.json()["errors"] == {"roles": "must have at least 1 item(s)"}
