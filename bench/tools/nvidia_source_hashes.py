"""Print the sha256 of every committed version of NVIDIA's network modules, as persistence embeds them.

`torch_utils.persistence` stores `inspect.getsource(module)`: the file decoded as Python source
(a UTF-8 byte-order mark dropped) with universal newlines. This walks the main history (HEAD; the
pull-request refs of a mirror are forks, not releases) of the given repositories (bare or not)
and prints one table row per distinct text, for
`engine/files/nvidia_sources.py`. Usage:
    python bench/tools/nvidia_source_hashes.py NVlabs/stylegan3=GIT_DIR [NAME=GIT_DIR ...]
"""
from __future__ import annotations

import argparse
import hashlib
import io
import subprocess
import tokenize

PATHS = ("training/networks.py", "training/networks_stylegan2.py", "training/networks_stylegan3.py")


def source_text(blob: bytes) -> str:
    """The text `inspect.getsource` returns for a module file with these bytes."""
    encoding, _ = tokenize.detect_encoding(io.BytesIO(blob).readline)
    return "".join(io.TextIOWrapper(io.BytesIO(blob), encoding).readlines())


def git(git_dir: str, *args: str) -> bytes:
    return subprocess.run(["git", "--git-dir", git_dir, *args], check=True, capture_output=True).stdout


def versions(git_dir: str):
    """(path, commit, date, sha256 of the source text) for every commit that changed a network module."""
    for path in PATHS:
        log = git(git_dir, "log", "HEAD", "--format=%H %ad", "--date=short", "--", path).decode().split("\n")
        for line in filter(None, log):
            commit, date = line.split()
            try:
                blob = git(git_dir, "show", f"{commit}:{path}")
            except subprocess.CalledProcessError:
                continue  # the commit deleted the file
            yield path, commit, date, hashlib.sha256(source_text(blob).encode("utf-8")).hexdigest()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("repos", nargs="+", metavar="NAME=GIT_DIR")
    args = ap.parse_args()
    seen = set()
    for item in args.repos:
        name, git_dir = item.split("=", 1)
        for path, commit, date, sha in versions(git_dir):
            if sha not in seen:
                seen.add(sha)
                module = path[:-3].replace("/", ".")
                print(f'    "{sha}": ("{module}", "{name} {commit[:7]} {date}"),')


if __name__ == "__main__":
    main()
