"""Which runtime values are never printed, and how they are shown instead."""

from __future__ import annotations

import pytest

from controller.model.secrets import MASK, is_sensitive, masked, shown


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DB_PASSWORD", "hunter2"),
        ("PW", "hunter2"),
        ("SMTP_PWD", "hunter2"),
        ("WAREHOUSE_DSN", "host=db user=x"),
        ("CONNECTION_STRING", "Server=db;Database=x"),
        ("SLACK_TOKEN", "abc"),
        ("API_KEY", "abc"),
        ("TARGET_URL", "postgresql://admin:S3cr3tPassw0rd@db.example.com:5432/prod"),
        ("SETTINGS", "Server=db;User Id=sa;Password=S3cr3t;"),
        ("HEADER", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl"),
        ("SERVICE_JWT", "abc"),
        ("KEY", "AKIAIOSFODNN7EXAMPLE1"),
        ("BLOB", "-----BEGIN RSA PRIVATE KEY-----\nMIIE..."),
        ("CACHE_URL", "redis://:S3cr3t@cache.example.com:6379/0"),
        ("PG_CONN", "host=db user=u password=pw dbname=x"),
        ("JDBC", "jdbc:postgresql://db/x?user=a&password=pw"),
        ("slackToken", "abc"),
        ("GHTOKEN", "abc"),
        ("AUTH", "Basic abc"),
        ("CLIENT_KEY", "abc"),
        ("MODEL", "sk-abcdefghijklmnopqrstuv"),
        ("SCORING_URL", "https://api.example.com/v1?api_key=QueryKey12345"),
        ("HEADER_VALUE", "Bearer abcdefgh12345"),
        ("CONFIG", '{"user": "a", "password": "JsonPw987"}'),
        ("ALERTS", "https://hooks.slack.com/services/T000/B000/XXXX"),
        ("OPAQUE", "Zm9vYmFyYmF6cXV4cXV1eHF1dXhxdXV4cXV1eHF1dXhx"),
    ],
)
def test_secret_names_and_shapes_are_sensitive(name: str, value: str) -> None:
    assert is_sensitive(name, "string", value)
    assert shown(name, "string", value) == MASK


@pytest.mark.parametrize(
    ("name", "type_", "value"),
    [
        ("CHANNEL", "string", "#ml-platform-alerts"),
        ("ENDPOINT", "string", "https://api.example.com/v1/score"),
        ("MODE", "string", "fast"),
        ("PATHWAY", "string", "a/b"),  # "pw" only as a word of its own
        ("THRESHOLD", "numeric", 0.5),
        ("STORE_CREDENTIALS", "credential", "65a1f0c2e4b0a1b2c3d4e5f6"),  # an ID, by design
        ("TOKEN_LIMIT", "numeric", 1000),
        ("MAX_TOKENS", "numeric", 256),
        ("TOKENIZER", "string", "cl100k_base"),
        ("AUTHOR", "string", "alice"),
        ("SORT_KEY", "string", "created_at"),
        ("CONNECTION_STRATEGY", "string", "pooled"),
        ("JWT_AUDIENCE", "string", "api://scorer"),
        ("ESTIMATOR", "string", "sklearn_random_forest"),
        ("MODEL_COMMIT", "string", "0123456789abcdef0123456789abcdef01234567"),
        ("IS_PRIVATE", "boolean", True),
    ],
)
def test_ordinary_values_are_shown(name: str, type_: str, value: object) -> None:
    assert not is_sensitive(name, type_, value)  # type: ignore[arg-type]
    assert shown(name, type_, value) == value  # type: ignore[arg-type]


def test_the_mask_reveals_nothing_of_the_value() -> None:
    # Not even a digest: one of a weak password could be looked up.
    assert masked("hunter2") == masked("correct horse battery staple") == "(sensitive)"
