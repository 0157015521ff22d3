"""Engine latency: submit-to-frame (median, p95) idle, while training and while making faces; first/last thumbnail
of a 64-seed grid.

Run: python bench/bench_latency.py [--channels 128 64] [--threads N] [--train-res 8 32 64] [--frames 60] [--faces N]
Prints a table; not a test. Times are taken at the engine's event callback (no Qt in the loop).
"""
from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

from engine_clock import Clock, tune_process  # noqa: E402  (bench/, beside this script)

tune_process()

from stylegan_studio.engine.contract import messages as m# noqa: E402
from stylegan_studio.engine.thread import commands  # noqa: E402  (--faces sets its POLL_S)
from stylegan_studio.engine.thread.engine import Engine  # noqa: E402
from stylegan_studio.engine.contract.latents import Latent, RenderSettings  # noqa: E402
from stylegan_studio.engine.contract.training import DEFAULT_BATCH  # noqa: E402


def pct(xs: list[float], q: float) -> float:
    """q-th percentile (nearest rank) in ms."""
    xs = sorted(xs)
    return 1000 * xs[min(len(xs) - 1, max(0, round(q / 100 * len(xs)) - 1))]


def drag(eng: Engine, clock: Clock, frames: int, hz: float, stamp0: int) -> list[float]:
    """A ψ-slider drag: requests at `hz`; latency of every delivered frame from the submit of its stamp."""
    sent = {}
    for i in range(frames):
        stamp = stamp0 + i
        sent[stamp] = time.perf_counter()
        eng.submit(m.RenderImage("main", stamp, Latent(seed=7), RenderSettings(psi=1.0 - i / frames)))
        time.sleep(1.0 / hz)
    clock.wait(lambda e: isinstance(e, m.FrameReady) and e.stamp == stamp0 + frames - 1)
    got = [(t, e) for t, e in clock.log if isinstance(e, m.FrameReady) and e.stamp in sent]
    drag.fps = (len(got) - 1) / max(got[-1][0] - got[0][0], 1e-9)
    return [t - sent[e.stamp] for t, e in got]


def single(eng: Engine, clock: Clock, frames: int, stamp0: int) -> list[float]:
    """One request at a time: submit, wait for its frame, pause briefly (so training advances), repeat."""
    out = []
    for i in range(frames):
        stamp = stamp0 + i
        t0 = time.perf_counter()
        eng.submit(m.RenderImage("main", stamp, Latent(seed=i), RenderSettings(psi=0.7)))
        t, _ = clock.wait(lambda e, s=stamp: isinstance(e, m.FrameReady) and e.stamp == s)
        out.append(t - t0)
        time.sleep(0.037)  # submit times fall anywhere inside a training minibatch
    return out


def grid(eng: Engine, clock: Clock, stamp: int) -> tuple[float, float]:
    """(first, last) thumbnail times of a 64-seed grid at 64²."""
    clock.clear()
    t0 = time.perf_counter()
    eng.submit(m.RenderSeedGrid("grid", stamp, seeds=tuple(range(1000, 1064)), thumb=64, chunk=8))
    first, _ = clock.wait(lambda e: isinstance(e, m.GridChunk) and e.stamp == stamp)
    last, _ = clock.wait(lambda e: isinstance(e, m.GridChunk) and e.stamp == stamp and e.start + len(e.images) == 64)
    return first - t0, last - t0


def row(label: str, xs: list[float]) -> str:
    return f"{label:<44}{len(xs):>5}{1000 * statistics.median(xs):>9.1f}{pct(xs, 95):>9.1f}{1000 * max(xs):>9.1f}"


def training_phase(eng: Engine, clock: Clock, data: str, res: int, run_dir: str) -> float:
    """Start a run training at `res`² (64² model) and return its mean minibatch time once warm."""
    cfg = m.TrainConfig(data=data, resolution=64, channels=64, z_dim=128, total_kimg=1e6, growing=res < 64,
                        start_res=min(res, 64), stable_kimg=1e6, tick_kimg=1e6, r1_interval=4)
    eng.post(m.StartTraining(config=cfg, run_dir=run_dir))
    clock.wait(lambda e: isinstance(e, m.TrainingState) and e.state == "running")
    clock.clear()
    seen: list[tuple[float, float]] = []
    while len(seen) < 8:  # JobProgress: throttled to 10/s, and twice per minibatch (after D, after G)
        time.sleep(0.5)
        seen = [(t, e.done) for t, e in clock.log if isinstance(e, m.JobProgress)]
    (t0, k0), (t1, k1) = seen[1], seen[-1]
    minibatches = (k1 - k0) * 1000 / dict(DEFAULT_BATCH)[res]
    return (t1 - t0) / max(minibatches, 1e-9)


def while_making_faces(eng: Engine, clock: Clock, frames: int, count: int, path: str, stamp0: int) -> list[float]:
    """Render latency while a Make Faces job (64² avatars on every core) runs; the job is cancelled after."""
    clock.clear()
    eng.post(m.MakeAvatars(path, count, 64))
    started = clock.wait(lambda e: isinstance(e, m.JobStarted) and e.kind == "avatars")[1]
    clock.wait(lambda e: isinstance(e, m.JobProgress) and e.done > 0)
    lat = single(eng, clock, frames, stamp0)
    eng.post(m.CancelJob(started.job_id))
    clock.wait(lambda e: isinstance(e, m.JobFinished) and e.job_id == started.job_id)
    return lat


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--channels", type=int, nargs="+", default=[128, 64])
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--train-res", type=int, nargs="*", default=[8, 32, 64])
    ap.add_argument("--frames", type=int, default=60)
    ap.add_argument("--no-tune", action="store_true")
    ap.add_argument("--faces", type=int, default=0, help="also measure renders while making this many faces")
    args = ap.parse_args()
    print(f"threads {args.threads}, OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', '-')}, "
          f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    tmp = tempfile.mkdtemp()
    data = None
    print(f"{'64² model, measurement':<44}{'n':>5}{'median':>9}{'p95':>9}{'max':>9}   (ms)")
    for ch in args.channels:
        clock = Clock()
        eng = Engine(clock, threads=args.threads)
        eng.start()
        eng.post(m.NewModel(resolution=64, channels=ch, z_dim=128))
        clock.wait(lambda e: isinstance(e, m.ModelInfo))
        single(eng, clock, 5, 1)  # warm-up
        print(row(f"{ch} ch idle: one request at a time", single(eng, clock, args.frames, 100)))
        clock.clear()
        lat = drag(eng, clock, args.frames, 60, 1000)
        print(row(f"{ch} ch idle: ψ drag at 60 Hz ({drag.fps:.0f} frames/s)", lat))
        first, last = grid(eng, clock, 5000)
        print(f"{f'{ch} ch idle: 64-seed grid, first / last thumbnail':<44}{'':>5}{1000 * first:>9.1f}{1000 * last:>9.1f}")
        if args.faces:
            # side by side: the job's step waiting for whole chunks (poll None, its first version), then polling
            for k, poll in enumerate((None, commands.POLL_S)):
                commands.POLL_S = poll
                label = f"{ch} ch making faces, " + ("step waits a chunk" if poll is None else f"poll {poll} s")
                print(row(label, while_making_faces(eng, clock, args.frames, args.faces,
                                                    os.path.join(tmp, f"faces{ch}.zip"), 50000 + 1000 * k)))
        for res in args.train_res:
            if data is None:
                from stylegan_studio.engine.train.avatars import build_avatar_zip
                data = os.path.join(tmp, "av.zip")
                build_avatar_zip(data, 256, 64, seed=0)
            mb = training_phase(eng, clock, data, res, os.path.join(tmp, f"run{ch}-{res}"))
            clock.clear()
            lat = single(eng, clock, args.frames, 10000 + 1000 * res)
            print(row(f"{ch} ch training at {res}² (minibatch {1000 * mb:.0f} ms)", lat))
            first, last = grid(eng, clock, 20000 + res)
            print(f"{f'{ch} ch training at {res}²: grid first / last':<44}{'':>5}{1000 * first:>9.1f}{1000 * last:>9.1f}")
            eng.post(m.StopTraining())
            clock.wait(lambda e: isinstance(e, m.JobFinished))
        eng.close()
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
