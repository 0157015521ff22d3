"""The sha256 of every released version of NVIDIA's network modules, as their pickles embed them.

A `torch_utils.persistence` pickle carries the Python source of the module that defined each
network (`inspect.getsource(module)`). The studio never runs it; it only compares its hash with
this table, so a fork or a tampered file is named in one line and still opened with the standard
architecture. Rows: every commit on the main branch of NVlabs/stylegan2-ada-pytorch and
NVlabs/stylegan3 that changed training/networks*.py, from `bench/tools/nvidia_source_hashes.py`
(the BOM-only change of 2021-10-13 leaves the text, and so the hash, of the first commit).
"""
from __future__ import annotations

import hashlib

# sha256 of the source text (UTF-8) → (module, where it was released)
KNOWN_SOURCES: dict[str, tuple[str, str]] = {
    "53b4e1ec457171d4e2c1454d48013765ab626141c35cdd383b020950effe11a5":
        ("training.networks", "NVlabs/stylegan2-ada-pytorch 375a436 2021-01-30"),
    "b6f14e8fa2a95de4d38218fef31380c6a70de770f585107e209ff83075c307ef":
        ("training.networks_stylegan2", "NVlabs/stylegan3 583f2bd 2021-10-13"),
    "06082fb3e8929e477f58fb8bc78e7ecb9a9209eb01444272d1d153c85a6a89f7":
        ("training.networks_stylegan3", "NVlabs/stylegan3 583f2bd 2021-10-13"),
}


def source_sha256(src: str) -> str:
    """Hex sha256 of an embedded module source, as the table keys it."""
    return hashlib.sha256(src.encode("utf-8", "surrogatepass")).hexdigest()


def known_release(src_sha256: str, module: str) -> str | None:
    """Where NVIDIA released this exact source of `module`, or None for a fork / tampered / placeholder."""
    row = KNOWN_SOURCES.get(src_sha256)
    return row[1] if row is not None and row[0] == module else None
