"""Entry point: `stylegan-studio` opens the window; `stylegan-studio COMMAND` runs the CLI."""
from __future__ import annotations

import os
import sys

# glibc returns every large tensor buffer to the OS on free, so each forward pass pays page
# faults again; these settings keep freed memory in the process (1.5-1.8× faster on CPU, see
# platform.md). They only take effect at process start, hence the re-exec.
MALLOC_TUNING = "glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=68719476736"


def reexec_tuned(args: list[str], window: bool) -> None:
    """Re-exec this Python with `args` under the allocator tuning (and the window's waits); returns if it cannot.

    Scripts that drive the window or time the engine (docs/screenshots, bench/) call it too, so that
    they measure and show what the installed app does."""
    if sys.platform != "linux" or "GLIBC_TUNABLES" in os.environ or os.environ.get("STYLEGAN_STUDIO_NO_REEXEC"):
        return
    os.environ["GLIBC_TUNABLES"] = MALLOC_TUNING
    if window:
        # In the window, idle OpenMP workers sleep instead of spinning, so the GUI and a render don't
        # fight for cores. Not for the CLI: passive waits cost training about a third of its speed.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    try:
        os.execv(sys.executable, [sys.executable, *args])
    except OSError:
        pass  # run untuned rather than not at all


def _tune_allocator(argv: list[str]) -> None:
    reexec_tuned(["-m", "stylegan_studio.app", *argv], window=not _is_cli(argv))


def _is_cli(argv: list[str]) -> bool:
    """True when the arguments name a CLI command rather than opening the window."""
    return bool(argv) and argv[0] != "--model" and not argv[0].lower().endswith((".safetensors", ".pkl"))


def run(argv: list[str]) -> int:
    """Dispatch: CLI subcommands go to the engine's CLI, no command opens the window."""
    if _is_cli(argv):
        from . import bridge  # deliberate: a CLI command never builds the window (nor loads pyqtgraph)
        return bridge.run_cli(argv)
    if (missing := no_display()):
        print(f"stylegan-studio: error: {missing}", file=sys.stderr)
        return 1
    from .studio import launch  # deliberate: the window's modules load only when the window opens
    return launch(argv)


def no_display() -> str:
    """Why the window cannot open here (Qt itself aborts the process, core dump and all), or ''."""
    if sys.platform != "linux" or os.environ.get("QT_QPA_PLATFORM", "xcb").split(":")[0] not in ("xcb", "wayland"):
        return ""
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        return ""
    return ("no display to open the window on (neither DISPLAY nor WAYLAND_DISPLAY is set); the commands need "
            "none: stylegan-studio --help (or start the window under xvfb-run)")


def main() -> int:
    """Console-script entry point."""
    argv = sys.argv[1:]
    _tune_allocator(argv)
    return run(argv)
