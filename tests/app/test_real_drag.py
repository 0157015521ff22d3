"""A real mouse drag (Xvfb, the xcb platform, Qt's own drag loop) from Seeds onto the mixing grid.

On the offscreen platform QDrag.exec() returns at once, so the other tests send drop events
directly; this one drives the real drag loop. It starts its own Xvfb and skips only if Xvfb is
not installed.
"""
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent.parent  # tests/, where real_drag_app.py lives


def free_display() -> int:
    """A display number with no X server (no lock file, no socket)."""
    for n in range(90, 140):
        if not Path(f"/tmp/.X{n}-lock").exists() and not Path(f"/tmp/.X11-unix/X{n}").exists():
            return n
    pytest.skip("no free X display number")


@pytest.fixture
def xvfb():
    binary = shutil.which("Xvfb")
    if binary is None:
        pytest.skip("Xvfb is not installed (apt-get install xvfb)")
    n = free_display()
    proc = subprocess.Popen([binary, f":{n}", "-screen", "0", "1280x720x24", "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while not Path(f"/tmp/.X11-unix/X{n}").exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"Xvfb :{n} did not start")
        time.sleep(0.05)
    yield f":{n}"
    proc.terminate()
    proc.wait(10)


def test_a_real_mouse_drag_from_seeds_to_the_mixing_grid(xvfb):
    env = {**os.environ, "DISPLAY": xvfb, "QT_QPA_PLATFORM": "xcb", "STYLEGAN_STUDIO_NO_REEXEC": "1"}
    out = subprocess.run([sys.executable, str(HERE / "real_drag_app.py")], env=env, capture_output=True,
                         text=True, timeout=120)
    if out.returncode != 0 and 'platform plugin "xcb"' in out.stderr:
        pytest.skip("Qt's xcb platform plugin cannot load here (libxcb-cursor0 and friends missing)")
    assert out.returncode == 0, out.stderr[-2000:]
    assert "columns: ['seed 3'] rows: []" in out.stdout, out.stdout + out.stderr[-2000:]
    assert "requested columns: ['seed 3']" in out.stdout
