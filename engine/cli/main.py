"""The headless command line: `stylegan-studio COMMAND ...` (torch only, never Qt)."""
from __future__ import annotations

import argparse
import os
import sys

from . import blend as cli_blend

from . import directions as cli_directions

from . import export as cli_export

from . import importer as cli_import

from . import metrics as cli_metrics

from . import model as cli_model

from . import project as cli_project

from . import render as cli_render

from . import train as cli_train
from ..contract.errors import EXPECTED

COMMAND_MODULES = [cli_model, cli_import, cli_render, cli_train, cli_export, cli_metrics, cli_directions, cli_project,
                   cli_blend]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # usage errors: one line, exit 2
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser with one subcommand per engine feature."""
    parser = _Parser(prog="stylegan-studio", description="Explore StyleGAN v1, StyleGAN2 and StyleGAN3 generators; train v1 and StyleGAN2 models, from scratch or fine-tuned.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for module in COMMAND_MODULES:
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one CLI command; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 2
    try:
        return int(args.run(args) or 0)
    except EXPECTED as exc:
        print(f"stylegan-studio: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("stylegan-studio: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `stylegan-studio info | head`: the reader has gone; stop quietly, as Unix tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # else the flush at exit fails again
        return 1


if __name__ == "__main__":
    sys.exit(main())
