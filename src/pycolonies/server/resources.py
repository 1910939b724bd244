"""Parsing of resource conditions: CPU in millicores, memory and storage with units."""

from __future__ import annotations

__all__ = ["ResourceError", "format_mem", "parse_cpu", "parse_mem"]

# Longest suffixes first so that "Mi" is not read as "M" followed by junk.
_UNITS: list[tuple[str, int]] = sorted(
    {
        "Ki": 1024,
        "KiB": 1024,
        "Mi": 1024**2,
        "MiB": 1024**2,
        "Gi": 1024**3,
        "GiB": 1024**3,
        "Ti": 1024**4,
        "TiB": 1024**4,
        "K": 1000,
        "KB": 1000,
        "Kb": 1000,
        "M": 10**6,
        "MB": 10**6,
        "Mb": 10**6,
        "G": 10**9,
        "GB": 10**9,
        "Gb": 10**9,
        "T": 10**12,
        "TB": 10**12,
        "Tb": 10**12,
    }.items(),
    key=lambda kv: -len(kv[0]),
)


class ResourceError(ValueError):
    pass


def parse_cpu(text: str) -> int:
    """``"500m"`` -> 500 millicores; a value without the ``m`` suffix counts as 0 (as upstream)."""
    text = text.strip()
    if not text.endswith("m"):
        return 0
    try:
        return int(text[:-1])
    except ValueError:
        raise ResourceError("Error converting CPU to int") from None


def parse_mem(text: str) -> int:
    """``"1Gi"`` -> bytes; ``""`` is 0; a bare number or an unknown unit is an error."""
    text = text.strip()
    if not text:
        return 0
    for unit, factor in _UNITS:
        if text.endswith(unit):
            number = text[: -len(unit)].strip()
            try:
                return int(number) * factor
            except ValueError:
                break
    raise ResourceError(f"Failed to parse memory value {text!r}: use a number with a unit like Ki, Mi, Gi, K, M, G")


def format_mem(nbytes: int) -> str:
    return f"{nbytes // (1024 * 1024)}Mi"
