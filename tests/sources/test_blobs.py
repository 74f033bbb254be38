"""Git blob SHA-1s computed without git agree with git."""

from __future__ import annotations

import subprocess
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from controller.sources import file_blob_sha1, git_blob_sha1


def test_the_empty_blob_has_git_s_well_known_name() -> None:
    assert git_blob_sha1(b"") == "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"


@settings(max_examples=25, deadline=None)
@given(st.binary(max_size=4096))
def test_blob_sha1_of_bytes_matches_git_hash_object(data: bytes) -> None:
    done = subprocess.run(
        ["git", "hash-object", "--stdin"], input=data, capture_output=True, check=True
    )
    assert git_blob_sha1(data) == done.stdout.decode().strip()


def test_blob_sha1_of_a_large_file_is_read_in_chunks(tmp_path: Path) -> None:
    path = tmp_path / "big.bin"
    data = bytes(range(256)) * 20_000  # 5 MB, several chunks
    path.write_bytes(data)
    assert file_blob_sha1(path) == git_blob_sha1(data)
