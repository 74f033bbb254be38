"""The seed: users, groups, organizations and execution environments that exist from the start.

The default seed is ``data/seed.yaml``; ``--seed-file`` (YAML or JSON, same shape) replaces
it. The seed is read once into a frozen :class:`Seed`; the store copies it on every reset.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

_OBJECT_ID = re.compile(r"[0-9a-f]{24}")


class SeedError(ValueError):
    """The seed file is missing, unreadable or malformed; the message says where."""


@dataclass(frozen=True)
class Seed:
    """Everything the emulator knows before the first request."""

    token_owner: str
    users: tuple[dict[str, Any], ...]
    groups: tuple[dict[str, Any], ...]
    organizations: tuple[dict[str, Any], ...]
    environments: tuple[dict[str, Any], ...]
    source: str
    datasets: tuple[dict[str, Any], ...] = ()
    repositories: tuple[dict[str, Any], ...] = ()
    prediction_environments: tuple[dict[str, Any], ...] = ()

    def user(self, user_id: str) -> dict[str, Any]:
        return next(u for u in self.users if u["id"] == user_id)


def load_seed(path: str | Path | None = None) -> Seed:
    """Read the seed from ``path`` (YAML or JSON), or the packaged default when ``None``."""
    if path is None:
        text = resources.files("emulator.data").joinpath("seed.yaml").read_text("utf-8")
        source = "built-in seed"
    else:
        try:
            text = Path(path).read_text("utf-8")
        except OSError as exc:
            raise SeedError(f"cannot read seed file {path}: {exc.strerror}") from exc
        source = str(path)
    try:
        raw = json.loads(text) if str(path).endswith(".json") else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise SeedError(f"{source}: not valid YAML/JSON: {exc}") from exc
    if not isinstance(raw, dict):
        raise SeedError(f"{source}: the seed must be a mapping")
    return _build(raw, source)


def _items(
    raw: dict[str, Any], key: str, source: str, fields: tuple[str, ...]
) -> tuple[dict[str, Any], ...]:
    items = raw.get(key, [])
    if not isinstance(items, list):
        raise SeedError(f"{source}: {key} must be a list")
    for index, item in enumerate(items):
        where = f"{source}: {key}[{index}]"
        if not isinstance(item, dict):
            raise SeedError(f"{where} must be a mapping")
        for field in fields:
            if not isinstance(item.get(field), str) or not item[field]:
                raise SeedError(f"{where}.{field} is required (a string)")
        if not _OBJECT_ID.fullmatch(item["id"]):
            raise SeedError(f"{where}.id must be 24 lowercase hex digits")
    ids = [item["id"] for item in items]
    if len(set(ids)) != len(ids):
        raise SeedError(f"{source}: {key} has duplicate ids")
    return tuple(dict(item) for item in items)


def _build(raw: dict[str, Any], source: str) -> Seed:
    orgs = _items(raw, "organizations", source, ("id", "name"))
    users = _items(raw, "users", source, ("id", "username"))
    for index, user in enumerate(users):
        if user["username"] != user["username"].lower():
            # DataRobot's usernames are e-mail addresses in lower case (what clients send
            # for a user they have not read); usernames are matched exactly.
            raise SeedError(f"{source}: users[{index}].username must be lower case")
    groups = _items(raw, "groups", source, ("id", "name"))
    envs = _items(raw, "executionEnvironments", source, ("id", "name"))
    datasets = _items(raw, "datasets", source, ("id", "name"))
    repositories = _items(raw, "remoteRepositories", source, ("id", "name"))
    prediction_environments = _items(raw, "predictionEnvironments", source, ("id", "name"))
    for environment in prediction_environments:
        environment.setdefault("platform", "datarobotServerless")
        environment.setdefault("supportedModelFormats", ["datarobot", "customModel"])
        environment.setdefault("description", "")
    for repository in repositories:
        files = repository.setdefault("files", {})
        if not isinstance(files, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in files.items()
        ):
            raise SeedError(
                f"{source}: remote repository {repository['id']}.files must map paths to text"
            )
        repository.setdefault("location", f"https://github.com/example/{repository['name']}")
        repository.setdefault("sourceType", "github")
    if not users:
        raise SeedError(f"{source}: at least one user is required")
    user_ids = {u["id"] for u in users}
    for user in users:
        user.setdefault("firstName", "")
        user.setdefault("lastName", "")
        user.setdefault("orgId", None)
        user.setdefault("apiTokens", [])
    for group in groups:
        group.setdefault("members", [])
        unknown = set(group["members"]) - user_ids
        if unknown:
            raise SeedError(
                f"{source}: group {group['name']} lists unknown users {sorted(unknown)}"
            )
    for env in envs:
        _check_environment(env, source)
    for dataset in datasets:
        _check_dataset(dataset, source)
    owner = str(raw.get("tokenOwner") or users[0]["id"])
    if owner not in user_ids:
        raise SeedError(f"{source}: tokenOwner {owner} is not one of the users")
    return Seed(
        owner, users, groups, orgs, envs, source, datasets, repositories, prediction_environments
    )


def _check_environment(env: dict[str, Any], source: str) -> None:
    versions = env.get("versions")
    if not isinstance(versions, list) or not versions:
        raise SeedError(f"{source}: environment {env['id']} needs at least one version")
    for version in versions:
        if not isinstance(version, dict) or not _OBJECT_ID.fullmatch(str(version.get("id", ""))):
            raise SeedError(f"{source}: environment {env['id']} has a version without a valid id")
        version.setdefault("label", "")
        version.setdefault("description", "")
        version.setdefault("created", "2024-01-01T00:00:00.000000Z")
    env.setdefault("description", "")
    env.setdefault("programmingLanguage", "python")
    env.setdefault("useCases", [])
    env.setdefault("created", versions[0]["created"])


def _check_dataset(dataset: dict[str, Any], source: str) -> None:
    """A catalog dataset: versions (oldest first), columns, row count, snapshot flag."""
    versions = dataset.get("versions")
    if not isinstance(versions, list) or not versions:
        raise SeedError(f"{source}: dataset {dataset['id']} needs at least one version")
    for version in versions:
        if not isinstance(version, dict) or not _OBJECT_ID.fullmatch(str(version.get("id", ""))):
            raise SeedError(f"{source}: dataset {dataset['id']} has a version without a valid id")
        version.setdefault("created", "2024-01-01T00:00:00.000000Z")
    columns = dataset.setdefault("columns", [])
    if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns):
        raise SeedError(f"{source}: dataset {dataset['id']}.columns must be a list of strings")
    dataset.setdefault("rowCount", 1000)
    dataset.setdefault("isSnapshot", True)
    dataset.setdefault("categories", ["TRAINING"])
    dataset.setdefault("datasetSize", 64 * int(dataset["rowCount"]))


def describe_seed(seed: Seed) -> str:
    """A plain-text summary of the seed, for ``dr-emulator --help`` and the README."""
    lines = [f"Seeded data ({seed.source}):", "  users (id  username):"]
    for user in seed.users:
        owner = "  <- owns --token" if user["id"] == seed.token_owner else ""
        tokens = "".join(f"  (token {token})" for token in user.get("apiTokens", []))
        lines.append(f"    {user['id']}  {user['username']}{owner}{tokens}")
    lines.append("  groups (id  name):")
    lines.extend(f"    {g['id']}  {g['name']}" for g in seed.groups)
    lines.append("  organizations (id  name):")
    lines.extend(f"    {o['id']}  {o['name']}" for o in seed.organizations)
    lines.append("  execution environments (id  name; version ids, latest last):")
    for env in seed.environments:
        lines.append(f"    {env['id']}  {env['name']}")
        lines.append("      versions: " + ", ".join(v["id"] for v in env["versions"]))
    if seed.datasets:
        lines.append("  datasets (id  name; version ids, latest last):")
        for dataset in seed.datasets:
            lines.append(f"    {dataset['id']}  {dataset['name']}")
            lines.append("      versions: " + ", ".join(v["id"] for v in dataset["versions"]))
    if seed.prediction_environments:
        lines.append("  prediction environments (id  name  platform):")
        lines.extend(
            f"    {e['id']}  {e['name']}  {e['platform']}" for e in seed.prediction_environments
        )
    if seed.repositories:
        lines.append("  remote repositories (id  name):")
        lines.extend(f"    {r['id']}  {r['name']}" for r in seed.repositories)
    return "\n".join(lines)
