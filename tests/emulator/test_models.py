"""Custom models: create, read, list, update, delete, copy."""

from __future__ import annotations

import pytest

ALWAYS = {
    "id", "name", "description", "createdBy", "created", "updated", "language", "customModelType",
    "targetType", "trainingDataAssignmentInProgress", "deploymentsCount", "latestVersion",
}  # fmt: skip


def test_a_created_model_carries_every_field_clients_rely_on(emulator_api):
    model = emulator_api.create_model(name="Fraud")
    assert set(model) >= ALWAYS
    assert model["description"] == ""
    assert model["language"] == ""
    assert model["latestVersion"] is None
    assert model["deploymentsCount"] == 0
    assert model["createdBy"] == "gitops-bot@example.com"
    assert model["supportsRegression"] is True


def test_a_binary_model_gets_default_labels_and_threshold(emulator_api):
    model = emulator_api.create_model(targetType="Binary", targetName="is_fraud")
    assert (
        model["positiveClassLabel"],
        model["negativeClassLabel"],
        model["predictionThreshold"],
    ) == ("1", "0", 0.5)


def test_the_target_type_may_come_from_the_legacy_supports_flags(emulator_api):
    model = emulator_api.create_model(targetType=None, supportsBinaryClassification=True)
    assert model["targetType"] == "Binary"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"targetName": None}, "targetName"),
        ({"targetType": "Multiclass", "classLabels": ["a"]}, "classLabels"),
        ({"targetType": "Binary", "positiveClassLabel": "yes"}, "negativeClassLabel"),
        ({"positiveClassLabel": "yes", "negativeClassLabel": "no"}, "positiveClassLabel"),
        ({"targetType": None}, "targetType"),
        ({"customModelType": "training"}, "targetName"),
    ],
)
def test_target_fields_that_do_not_fit_the_target_type_are_a_422(emulator_api, fields, field):
    body = {
        "name": "m",
        "customModelType": "inference",
        "targetType": "Regression",
        "targetName": "y",
        **fields,
    }
    body = {k: v for k, v in body.items() if v is not None}
    answer = emulator_api.post("customModels/", json=body)
    assert answer.status_code == 422
    assert field in answer.json()["errors"]


def test_user_provided_ids_are_unique(emulator_api):
    emulator_api.create_model(userProvidedId="team/fraud")
    answer = emulator_api.post(
        "customModels/",
        json={
            "name": "again",
            "customModelType": "inference",
            "targetType": "Regression",
            "targetName": "y",
            "userProvidedId": "team/fraud",
        },
    )
    assert answer.status_code == 422
    assert answer.json()["message"].startswith(
        "Cannot create a custom model with a user provided ID"
    )


def test_a_user_provided_id_is_free_again_after_its_model_is_deleted(emulator_api):
    model = emulator_api.create_model(userProvidedId="team/fraud")
    assert emulator_api.delete(f"customModels/{model['id']}/").status_code == 204
    emulator_api.create_model(userProvidedId="team/fraud")


def test_the_user_provided_id_cannot_be_patched(emulator_api):
    model = emulator_api.create_model(userProvidedId="a")
    answer = emulator_api.patch(f"customModels/{model['id']}/", json={"userProvidedId": "b"})
    assert answer.status_code == 422
    assert answer.json()["errors"] == {"userProvidedId": "userProvidedId is not allowed key"}


def test_the_list_is_newest_first_and_embeds_each_latest_version(emulator_api):
    first = emulator_api.create_model(name="first")
    second = emulator_api.create_model(name="second")
    emulator_api.create_version(first["id"], {"a.py": "1"})
    version = emulator_api.create_version(
        first["id"], {"a.py": "2"}, method="PATCH", isMajorUpdate="false"
    )
    listing = emulator_api.get("customModels/").json()
    assert [m["id"] for m in listing["data"]] == [second["id"], first["id"]]
    latest = listing["data"][1]["latestVersion"]
    assert latest["id"] == version["id"]
    assert latest["label"] == "1.1"
    assert latest["items"][0]["filePath"] == "a.py"
    assert listing["data"][0]["latestVersion"] is None


def test_the_list_can_be_ordered_and_filtered(emulator_api):
    a = emulator_api.create_model(name="Alpha", description="scores fraud")
    b = emulator_api.create_model(name="Beta", language="R")
    c = emulator_api.create_model(name="Gamma")
    emulator_api.create_version(c["id"], {"a.py": "x"})
    assert emulator_api.admin("POST", f"customModels/{c['id']}/deploy").status_code == 201
    emulator_api.patch(f"customModels/{a['id']}/", json={"name": "Alpha 2"})
    ids = lambda query: [m["id"] for m in emulator_api.get(f"customModels/?{query}").json()["data"]]  # noqa: E731
    assert ids("orderBy=created") == [a["id"], b["id"], c["id"]]
    assert ids("orderBy=-updated")[0] == a["id"]
    assert ids("searchFor=FRAUD") == [a["id"]]
    assert ids("searchFor=r") == [b["id"], a["id"]]
    assert ids("customModelType=training") == []
    assert ids("isDeployed=false") == [b["id"], a["id"]]
    assert ids("isDeployed=True") == [c["id"]]
    assert emulator_api.get("customModels/?orderBy=name").status_code == 400
    assert emulator_api.get("customModels/?isDeployed=yes").status_code == 400


def test_a_patch_answers_200_with_the_updated_model(emulator_api):
    model = emulator_api.create_model(
        targetType="Binary", targetName="t", positiveClassLabel="yes", negativeClassLabel="no"
    )
    answer = emulator_api.patch(
        f"customModels/{model['id']}/",
        json={"description": "new", "positiveClassLabel": None, "negativeClassLabel": None},
    )
    assert answer.status_code == 200
    updated = answer.json()
    assert updated["description"] == "new"
    assert (updated["positiveClassLabel"], updated["negativeClassLabel"]) == ("1", "0")
    assert updated["updated"] > model["updated"]


def test_unknown_models_are_404s(emulator_api):
    missing = "ffffffffffffffffffffffff"
    assert emulator_api.get(f"customModels/{missing}/").status_code == 404
    assert emulator_api.patch(f"customModels/{missing}/", json={"name": "x"}).status_code == 404
    assert emulator_api.delete(f"customModels/{missing}/").status_code == 404
    assert (
        emulator_api.get(f"customModels/{missing}/versions/").json()["message"]
        == "Custom model not found"
    )


def test_a_deleted_model_and_its_versions_are_gone(emulator_api):
    model = emulator_api.create_model()
    version = emulator_api.create_version(model["id"], {"a.py": "x"})
    assert emulator_api.delete(f"customModels/{model['id']}/").status_code == 204
    assert emulator_api.get(f"customModels/{model['id']}/").status_code == 404
    assert (
        emulator_api.get(f"customModels/{model['id']}/versions/{version['id']}/").status_code == 404
    )


def test_a_copy_has_the_same_versions_and_files_under_new_ids(emulator_api):
    model = emulator_api.create_model(name="orig", userProvidedId="u")
    v1 = emulator_api.create_version(model["id"], {"a.py": "1", "b.py": "2"})
    emulator_api.create_version(model["id"], {"a.py": "3"}, method="PATCH", isMajorUpdate="false")
    answer = emulator_api.post("customModels/fromCustomModel/", json={"customModelId": model["id"]})
    assert answer.status_code == 201
    copy = answer.json()
    assert copy["userProvidedId"] is None
    versions = emulator_api.get(f"customModels/{copy['id']}/versions/").json()["data"]
    assert [v["label"] for v in versions] == ["1.1", "1.0"]
    assert {i["id"] for i in versions[1]["items"]}.isdisjoint({i["id"] for i in v1["items"]})
    b_ids = [i["id"] for v in versions for i in v["items"] if i["filePath"] == "b.py"]
    assert len(set(b_ids)) == 1  # an untouched file stays one item in the copy too


def test_the_latest_version_downloads_as_a_zip(emulator_api):
    import io
    import zipfile

    model = emulator_api.create_model()
    emulator_api.create_version(model["id"], {"a.py": "print(1)", "pkg/b.py": "B"})
    answer = emulator_api.get(f"customModels/{model['id']}/download/")
    assert answer.headers["Content-Disposition"].startswith("attachment;filename=model-")
    archive = zipfile.ZipFile(io.BytesIO(answer.content))
    assert {n: archive.read(n) for n in archive.namelist()} == {
        "a.py": b"print(1)",
        "pkg/b.py": b"B",
    }
