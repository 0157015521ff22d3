"""The one module that crosses from the Qt app into the torch engine."""
from __future__ import annotations


def run_cli(argv: list[str]) -> int:
    """Run a headless CLI command in the engine."""
    from ..engine.cli import main as cli_main
    return cli_main(argv)
