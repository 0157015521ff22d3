"""SIGKILL trials: kill `stylegan-studio train`, `video` and `generate` at random moments, then check what is left.

A trial kills the process either after a random delay or the moment a temporary file of an atomic write
appears (so the kill lands inside a snapshot, state or image write). Then:
- train: `train --resume` must exit 0 and continue from the newest state that was complete before the
  kill (its tick and kimg), no temporary file may remain, and every file under a final name must load;
- video / generate: no file under the final name unless it is complete (it decodes; a PNG carries provenance);
  the same export run again to the same name then finishes, and removes the killed writer's temporary file.
tests/files/test_kill.py runs a few trials; bench/kill_trials.py runs 20 of each and prints the table.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

TRAIN_ARGS = ["--resolution", "16", "--channels", "16", "--z-dim", "16", "--mapping-layers", "2", "--start-res", "8",
              "--fade-kimg", "0.016", "--stable-kimg", "0.016", "--batch", "8", "--tick-kimg", "0.016",
              "--snapshot-ticks", "1", "--keep-snapshots", "3", "--threads", "1", "--augment", "none"]
LAST_SEEN: list[str] = []  # temporary files present at the last kill (what write it interrupted)
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "STYLEGAN_STUDIO_NO_REEXEC": "1", "PYTHONUNBUFFERED": "1"}


@dataclass
class Trial:
    """What one kill trial found."""

    kind: str
    moment: str          # "random" or "write" (killed while a temporary file existed)
    killed: bool         # False when the process finished before the kill
    ok: bool
    detail: str = ""


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "stylegan_studio.app", *args]


def temps(root: Path) -> list[Path]:
    """Temporary files of atomic writes (engine/files/fileio.py names them .NAME.XXXX.tmp or .NAME.XXXX.ext)."""
    return [p for p in root.rglob(".*") if p.is_file()]


def kill_when(proc: subprocess.Popen, root: Path, moment: str, delay: float, states: int = 0,
              limit: float = 300, target: str = ".") -> bool:
    """SIGKILL `proc` once `states` state files exist under `root` and then `delay` s have passed, or (moment
    "write") at the first temporary file named `target`... seen after that; False if it finished first."""
    start, ready = time.monotonic(), None
    while proc.poll() is None and time.monotonic() - start < limit:
        if ready is None and len(list(root.rglob("state-*.safetensors"))) >= states:
            ready = time.monotonic()
        if ready is not None and time.monotonic() - ready >= delay and (
                moment == "random" or any(p.name.startswith(target) for p in temps(root))):
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            LAST_SEEN[:] = [p.name for p in temps(root)]
            return True
        time.sleep(0.0005 if moment == "write" else 0.005)
    if proc.poll() is None:
        proc.kill()
        proc.wait()
        return True
    return False


def state_counters(path: Path) -> dict:
    from safetensors import safe_open
    with safe_open(str(path), framework="pt") as f:
        return json.loads(f.metadata()["counters"])


def complete_states(run: Path) -> list[tuple[int, Path]]:
    """(tick, path) of the state files under their final names, newest first."""
    out = []
    for p in run.glob("state-*.safetensors"):
        out.append((int(p.stem.split("-")[1]), p))
    return sorted(out, reverse=True)


def train_trial(data: Path, work: Path, rng: np.random.Generator, moment: str, kimg: float = 0.1) -> Trial:
    """Kill a training run, resume it, check it continued from the newest complete state."""
    run = work / "run"
    proc = subprocess.Popen(cli("train", "--data", str(data), "--out", str(run), "--kimg", str(kimg), *TRAIN_ARGS),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=ENV)
    # a few trials die before the first state (even before config.json), most after 1-4 states
    after = int(rng.integers(0, 5))
    target = [".state-", ".snapshot-", ".fakes-", "."][int(rng.integers(4))]  # "write": inside which write
    killed = kill_when(proc, work, moment, float(rng.uniform(0.5, 4.0) if after == 0 else rng.uniform(0, 0.3)), after,
                       target=target)
    states = complete_states(run)
    expect = None
    for tick, path in states:  # the newest file under a final name must be complete (atomic rename)
        try:
            expect = state_counters(path)
            break
        except Exception as exc:  # noqa: BLE001 - any failure here is the finding
            return Trial("train", moment, killed, False, f"corrupt {path.name} under its final name: {exc}")
    res = subprocess.run(cli("train", "--resume", str(run), "--kimg", str(kimg + 0.032)), capture_output=True,
                         text=True, env=ENV, timeout=300)
    left = temps(run)
    if expect is None:  # killed before the first state: resume must say so in one line
        lines = res.stderr.strip().splitlines()
        # without config.json the folder is no run and resume touches nothing; a new `train --out` cleans it
        ok = res.returncode == 1 and len(lines) == 1 and (not left or not (run / "config.json").exists())
        return Trial("train", moment, killed, ok, f"no state yet: {lines[-1] if lines else res.returncode}")
    if res.returncode != 0:
        return Trial("train", moment, killed, False, f"resume exit {res.returncode}: {res.stderr.strip()[-300:]}")
    resumed_from = _resumed_kimg(res.stdout)
    want = expect["nimg"] / 1000
    ok = not left and resumed_from is not None and abs(resumed_from - want) < 1e-6 and _all_load(run)
    return Trial("train", moment, killed, ok, f"killed during {LAST_SEEN or 'no write'}; newest state tick "
                 f"{expect['tick']} ({want:.3f} kimg); resumed at {resumed_from}; temps left {[p.name for p in left]}")


def _resumed_kimg(stdout: str) -> float | None:
    for line in stdout.splitlines():
        if line.startswith("resumed at "):
            return float(line.split()[2])
    return None


def _all_load(run: Path) -> bool:
    from stylegan_studio.engine.files.modelfile import load_model
    from stylegan_studio.engine.train.state import read_state
    try:
        for p in run.glob("snapshot-*.safetensors"):
            load_model(p)
        for p in run.glob("state-*.safetensors"):
            read_state(p)
    except Exception:  # noqa: BLE001
        return False
    return True


def output_trial(kind: str, model: Path, work: Path, rng: np.random.Generator, moment: str) -> Trial:
    """Kill `video` or `generate` exports; the final name holds a complete file or nothing, and the next export
    to that name removes what the killed one left."""
    out = work / ("walk.gif" if kind == "video" else "grid.png")
    killed = kill_when(_export(kind, model, out, long=True), work, moment,
                       float(rng.uniform(0.5, 6.0) if moment == "random" else 0))
    left = temps(work)
    state = "nothing under the final name" if not out.exists() else (incomplete(kind, out) or "a complete file")
    problem = state.startswith("partial") or state.startswith("a PNG without")
    again = _export(kind, model, out, long=False)
    _, err = again.communicate(timeout=300)
    after, damage = temps(work), incomplete(kind, out)
    if again.returncode != 0 or damage or after:
        problem = True
        state += (f"; the export run again: exit {again.returncode} {err.decode()[-200:]!r}, "
                  f"{damage or 'complete'}, temporary files left {[p.name for p in after]}")
    else:
        state += f"; the export run again removed {len(left)} temporary file(s) the killed one left"
    return Trial(kind, moment, killed, not problem, state)


def _export(kind: str, model: Path, out: Path, long: bool) -> subprocess.Popen:
    args = (["video", "--kind", "walk", "--seeds", "0,1,2", "--frames-per-step", "20" if long else "2", "--out", str(out)]
            if kind == "video" else ["generate", "--seeds", "0-255" if long else "0-3", "--grid", str(out)])
    return subprocess.Popen(cli(*args, "--model", str(model)), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env=ENV)


def incomplete(kind: str, path: Path) -> str:
    """'' when `path` decodes to its last frame (and a PNG carries its provenance), else what is wrong."""
    from PIL import Image
    try:
        with Image.open(path) as im:
            im.seek(getattr(im, "n_frames", 1) - 1)
            im.load()
            if kind == "generate" and "stylegan-studio" not in im.info:
                return "a PNG without its provenance"
    except Exception as exc:  # noqa: BLE001 - any failure to decode is the finding
        return f"partial file under the final name: {exc}"
    return ""
