"""Memory quantities as users write them (``512Mi``, ``1Gi``, ``512M``, bytes) → bytes."""

from __future__ import annotations

import re
from decimal import Decimal

MIN_MEMORY = 128 * 1024**2  # 128 MiB, the API's minimum
MAX_MEMORY = 14 * 1024**3  # 14 GiB, the API's maximum

_UNITS = {
    "": 1,
    "k": 1000,
    "K": 1000,
    "M": 1000**2,
    "G": 1000**3,
    "T": 1000**4,
    "Ki": 1024,
    "Mi": 1024**2,
    "Gi": 1024**3,
    "Ti": 1024**4,
}
_QUANTITY = re.compile(r"^([0-9]+(?:\.[0-9]+)?)(Ki|Mi|Gi|Ti|k|K|M|G|T)?$")


class QuantityError(ValueError):
    """A memory quantity that cannot be read or is out of range; the message says why."""


def memory_bytes(value: int | str) -> int:
    """Bytes for ``value``: an int is bytes; a string is a number with an optional unit
    (Ki/Mi/Gi/Ti are powers of 1024, k/K/M/G/T powers of 1000). Must land on a whole byte
    count between 128 MiB and 14 GiB."""
    if isinstance(value, bool):
        raise QuantityError("expected bytes or a quantity such as 512Mi")
    if isinstance(value, int):
        amount = value
    else:
        match = _QUANTITY.match(value.strip())
        if not match:
            raise QuantityError(f"{value!r} is not a memory quantity")
        exact = Decimal(match.group(1)) * _UNITS[match.group(2) or ""]
        if exact != exact.to_integral_value():
            raise QuantityError(f"{value!r} is not a whole number of bytes")
        amount = int(exact)
    if not MIN_MEMORY <= amount <= MAX_MEMORY:
        raise QuantityError(f"{value!r} ({amount} bytes) is outside 128Mi to 14Gi")
    return amount
