"""Memory quantities: the units users write, turned into the bytes the API wants."""

from __future__ import annotations

import pytest

from controller.manifests.quantities import QuantityError, memory_bytes


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("512Mi", 512 * 1024**2),
        ("1Gi", 1024**3),
        ("1.5Gi", 1536 * 1024**2),
        ("512M", 512 * 1000**2),
        ("2G", 2 * 1000**3),
        ("131072Ki", 128 * 1024**2),
        ("14Gi", 14 * 1024**3),
        (536870912, 536870912),
        ("536870912", 536870912),
    ],
)
def test_memory_is_read_in_bytes(written: int | str, expected: int) -> None:
    assert memory_bytes(written) == expected


@pytest.mark.parametrize(
    ("written", "reason"),
    [
        ("127Mi", "outside 128Mi to 14Gi"),
        ("15Gi", "outside 128Mi to 14Gi"),
        ("512MB", "not a memory quantity"),
        ("0.3Ki", "not a whole number of bytes"),
        (True, "expected bytes"),
    ],
)
def test_memory_out_of_range_or_malformed_says_why(written: int | str, reason: str) -> None:
    with pytest.raises(QuantityError, match=reason):
        memory_bytes(written)
