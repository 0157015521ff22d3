"""Strict checks shared by the typed model configs (v1, StyleGAN2, StyleGAN3): one wording for every config."""
from __future__ import annotations

import dataclasses


def json_fields(cls, data, what: str, error: type[Exception]) -> dict:
    """The dataclass fields of `cls` by name, after refusing a non-dict `data` or keys `cls` does not have."""
    if not isinstance(data, dict):
        raise error(f"a {what} must be a JSON object, got {type(data).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = set(data) - set(fields)
    if unknown:
        raise error(f"unknown {what} keys: {', '.join(sorted(map(str, unknown)))}")
    return fields


def check_int(name: str, value, low: int, top: int, error: type[Exception]) -> None:
    """Refuse anything but an integer (bools included) from `low` to `top`."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= top:
        raise error(f"{name} must be an integer from {low} to {top}, got {value!r}")


def check_resolution(name: str, res, low: int, top: int, error: type[Exception]) -> None:
    """Refuse anything but an integer power of two from `low` to `top`."""
    if isinstance(res, bool) or not isinstance(res, int) or not low <= res <= top or res & (res - 1):
        raise error(f"{name} must be a power of two from {low} to {top}, got {res!r}")
