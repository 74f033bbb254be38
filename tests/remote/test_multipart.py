"""Multipart bodies have the shape the API wants and stream files from disk, re-openable."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from requests_toolbelt.multipart.decoder import MultipartDecoder

from controller.remote.multipart import FileUpload, form_fields, multipart_body


def _parts(
    body_bytes: bytes, content_type: str
) -> list[tuple[str, str | None, bytes, dict[str, str]]]:
    """``(field name, filename, content, headers)`` of every part, in order."""
    out = []
    for part in MultipartDecoder(body_bytes, content_type).parts:
        headers = {k.decode(): v.decode() for k, v in part.headers.items()}
        disposition = headers["Content-Disposition"]
        params = dict(p.strip().split("=", 1) for p in disposition.split(";")[1:] if "=" in p)
        name = params["name"].strip('"')
        filename = params["filename"].strip('"') if "filename" in params else None
        out.append((name, filename, part.content, headers))
    return out


@pytest.fixture
def source(tmp_path: Path) -> Path:
    (tmp_path / "custom.py").write_text("print('hi')\n")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "util.py").write_bytes(b"\x00binary\xff")
    return tmp_path


def test_each_file_part_is_followed_by_its_file_path(source: Path) -> None:
    body = multipart_body(
        [
            FileUpload(source / "custom.py", "custom.py"),
            FileUpload(source / "src/util.py", "src/util.py"),
        ],
        {"isMajorUpdate": "false"},
    )
    with body.open() as encoder:
        parts = _parts(encoder.to_string(), encoder.content_type)
    assert [(name, filename) for name, filename, _, _ in parts] == [
        ("file", "custom.py"),
        ("filePath", None),
        ("file", "util.py"),
        ("filePath", None),
        ("isMajorUpdate", None),
    ]
    assert parts[1][2] == b"custom.py"
    assert parts[3][2] == b"src/util.py"
    assert parts[2][2] == b"\x00binary\xff"
    assert "Content-Type" not in parts[0][3]  # no part Content-Type, as DataRobot's tools send


def test_fields_are_strings_lists_repeat_and_objects_are_json() -> None:
    fields = form_fields(
        {
            "isMajorUpdate": True,
            "maximumMemory": 536870912.0,
            "replicas": 2,
            "filesToDelete": ["item1", "item2"],
            "gitModelVersion": {"refName": "main", "mainBranchCommitSha": "a" * 40},
            "requiredMetadataValues": [{"fieldName": "FOO", "value": "bar"}],
            "resourceBundleId": None,
            "description": "",
        }
    )
    assert ("isMajorUpdate", "true") in fields
    assert ("maximumMemory", "536870912") in fields
    assert ("replicas", "2") in fields
    assert [v for k, v in fields if k == "filesToDelete"] == ["item1", "item2"]
    git = dict(fields)["gitModelVersion"]
    assert json.loads(git) == {"refName": "main", "mainBranchCommitSha": "a" * 40}
    assert json.loads(dict(fields)["requiredMetadataValues"]) == [
        {"fieldName": "FOO", "value": "bar"}
    ]
    assert "resourceBundleId" not in dict(fields)
    assert ("description", "") in fields


def test_a_body_can_be_opened_again_and_reads_its_files_from_the_start(source: Path) -> None:
    body = multipart_body(
        [FileUpload(source / "custom.py", "custom.py")], {"isMajorUpdate": "false"}
    )
    with body.open() as first:
        once = first.to_string()
    with body.open() as second:
        twice = second.to_string()
    boundary_free = [p[2] for p in _parts(once, first.content_type)]
    assert boundary_free == [p[2] for p in _parts(twice, second.content_type)]
    assert boundary_free[0] == b"print('hi')\n"


def test_an_open_body_streams_and_knows_its_length(source: Path) -> None:
    body = multipart_body([FileUpload(source / "custom.py", "custom.py")])
    with body.open() as encoder:
        assert encoder.len > len("print('hi')\n")
        assert encoder.read(10)  # a stream, read in chunks


def test_files_are_closed_after_the_body_is_used(source: Path) -> None:
    body = multipart_body([FileUpload(source / "custom.py", "custom.py")])
    with body.open() as encoder:
        handle = encoder.fields[0][1][1]
    assert handle.closed


@pytest.mark.parametrize("path", ["/etc/passwd", "../outside.py", "a/../../b", "."])
def test_upload_paths_must_stay_inside_the_source(tmp_path: Path, path: str) -> None:
    with pytest.raises(ValueError, match="relative"):
        FileUpload(tmp_path / "x", path)
