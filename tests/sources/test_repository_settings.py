"""The repository settings file (`.dr-gitops.yaml`): what it may set, what it never may."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from controller.cli.configuration import git_settings_from
from controller.engine.export.exporter import settings_text
from controller.errors import ConfigError
from controller.repository_settings import (
    RepositorySettings,
    parse_repository_settings,
    read_repository_settings,
)
from tests.fixtures.workspace import Workspace

SCHEMA = json.loads(
    (Path(__file__).resolve().parents[2] / "schemas/repository-settings.schema.json").read_text()
)
FILE = "ml/.dr-gitops.yaml"


def _parse(text: str) -> RepositorySettings:
    return parse_repository_settings(text.encode(), FILE)


def test_the_three_settings_are_read() -> None:
    settings = _parse(
        "namespace: github.com/acme/ml-models\n"
        "commitUrlTemplate: https://git.example.com/{path}/commit/{sha}\n"
        "exclude: ['tests/', '*.ipynb']\n"
    )
    assert settings == RepositorySettings(
        FILE,
        "github.com/acme/ml-models",
        "https://git.example.com/{path}/commit/{sha}",
        ("tests/", "*.ipynb"),
    )
    assert _parse("") == RepositorySettings(FILE)


@pytest.mark.parametrize(
    "key",
    [
        "endpoint",
        "token",
        "apiToken",
        "api_token",
        "DATAROBOT_ENDPOINT",
        "httpsProxy",
        "proxies",
        "sslVerify",
        "ssl_verify",
        "caBundle",
        "drconfig",
        "webhookSecret",
        "gitCredentials",
        "remoteUrl",
    ],
)
def test_nothing_that_says_where_data_or_the_token_go_can_be_set(key: str) -> None:
    with pytest.raises(ConfigError) as raised:
        _parse(f"{key}: https://collector.example.com\n")
    message = str(raised.value)
    assert message.startswith(f"{FILE}: {key!r} cannot be set in the repository settings file")
    assert "pull request" in message
    assert "collector.example.com" not in message  # errors name the key, never the value


def test_an_unknown_key_is_named_with_a_suggestion() -> None:
    with pytest.raises(
        ConfigError, match=r"ml/.dr-gitops.yaml: unknown key 'namespce'; did you mean 'namespace'\?"
    ):
        _parse("namespce: a/b\n")


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("- a\n", "must be a YAML mapping"),
        ("namespace: 'has space'\n", "namespace must be a string of letters"),
        ("namespace: 12\n", "namespace must be a string"),
        (
            "commitUrlTemplate: https://x/{nope}\n",
            "commitUrlTemplate: the commit URL template uses unknown",
        ),
        ("exclude: tests\n", "exclude must be a list of patterns"),
        ("exclude: ['../secrets']\n", "climbs out of the source folder"),
        # Accepted by Python's re, refused by RE2, which listing matches with.
        ("exclude: ['[[:alpha:]]x']\n", "exclude pattern '[[:alpha:]]x' is not valid"),
        ("exclude: ['[z-a]']\n", "exclude pattern '[z-a]' is not valid"),
        ("namespace: [unclosed\n", "is not valid YAML"),
    ],
)
def test_bad_values_are_errors_naming_the_file(text: str, said: str) -> None:
    with pytest.raises(ConfigError) as raised:
        _parse(text)
    assert str(raised.value).startswith(FILE)
    assert said in str(raised.value)


def test_a_symbolic_link_is_refused_so_it_cannot_read_a_file_outside(tmp_path: Path) -> None:
    secret = tmp_path / "drconfig.yaml"
    secret.write_text("token: abc\n")
    (tmp_path / "repo").mkdir()
    (tmp_path / "repo/.dr-gitops.yaml").symlink_to(secret)
    with pytest.raises(ConfigError, match="is a symbolic link"):
        read_repository_settings(tmp_path / "repo")
    assert read_repository_settings(tmp_path) == RepositorySettings()  # none there


def test_flags_and_environment_win_over_the_file() -> None:
    file = _parse("namespace: team/file\ncommitUrlTemplate: https://f/{sha}\n")
    given = git_settings_from({"DR_GITOPS_NAMESPACE": "team/env"}, cache_dir=Path("/c"))
    merged = given.with_repository(file)
    assert (merged.namespace, merged.namespace_from) == ("team/env", "$DR_GITOPS_NAMESPACE")
    assert merged.commit_url_template == "https://f/{sha}"
    flag = git_settings_from({}, namespace="team/flag", cache_dir=Path("/c"))
    assert flag.with_repository(file).namespace == "team/flag"
    nothing = git_settings_from({}, cache_dir=Path("/c")).with_repository(file)
    assert (nothing.namespace, nothing.namespace_from) == ("team/file", FILE)


def test_the_schema_and_the_reader_agree() -> None:
    assert set(SCHEMA["properties"]) == {"namespace", "commitUrlTemplate", "exclude"}
    good = {"namespace": "a/b", "commitUrlTemplate": "https://x/{sha}", "exclude": ["t/"]}
    jsonschema.validate(good, SCHEMA)
    _parse(yaml.safe_dump(good))
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"endpoint": "https://x"}, SCHEMA)


@pytest.mark.parametrize("namespace", ["github.com/acme/ml-models", None])
def test_the_file_an_export_writes_reads_back(namespace: str | None) -> None:
    text = settings_text(namespace)
    assert _parse(text).namespace == namespace
    jsonschema.validate(yaml.safe_load(text), SCHEMA)


def test_a_pattern_re2_refuses_is_an_error_for_validate_and_plan_not_a_traceback(
    workspace: Workspace,
) -> None:
    workspace.add_model("churn")
    workspace.repo.write({".dr-gitops.yaml": "exclude: ['[[:alpha:]]x']\n"})
    workspace.commit()
    repo = str(workspace.repo.path)
    for args in (("validate", repo), ("plan", "--repo", repo)):
        result = workspace.cli(*args)
        said = result.out + result.err
        assert result.code == 1, (args, said)
        assert "Traceback" not in said
        assert ".dr-gitops.yaml" in said
        assert "'[[:alpha:]]x' is not valid" in said
