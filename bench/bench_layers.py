"""The viewer's frame during a ψ drag with and without the Layers pane open (issue 27: it must not slow the viewer).

Run: python bench/bench_layers.py [--model FILE] [--frames 90] [--hz 60] [--layer 16x16/conv1] [--rounds 3]
Prints one row per setting: the engine's render time per frame (FrameReady.seconds) and, at the engine's event
callback (no Qt in the loop), submit-to-frame latency and delivered frames per second. Settings:
  pane closed        RenderImage only
  pane open (grid)   the frame carries the Layers view (RenderImage.with_layer): one synthesis pass
  pane open (rgb)    the same, three channels as RGB at 320 px
  separate pass      for comparison: a RenderLayer request of its own per step (a second pass, early stopped)
Rounds alternate the settings, so a busy shared machine slows each about alike. Not a test.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

from engine_clock import Clock, tune_process  # noqa: E402  (bench/, beside this script)

tune_process()  # as bench_latency

from stylegan_studio.engine.contract import messages as m  # noqa: E402
from stylegan_studio.engine.contract.latents import Latent, RenderSettings  # noqa: E402
from stylegan_studio.engine.contract.requests import RenderLayer  # noqa: E402
from stylegan_studio.engine.files.bundled import bundled_model_path  # noqa: E402
from stylegan_studio.engine.thread.engine import Engine  # noqa: E402


def drag(eng: Engine, clock: Clock, frames: int, hz: float, stamp0: int, setting: str, layer: str) -> dict:
    """One ψ drag of `frames` steps at `hz`; the viewer's frames and the Layers view's results it produced."""
    clock.log.clear()
    sent = {}
    for i in range(frames):
        stamp = 2 * (stamp0 + i)
        settings = RenderSettings(psi=1.0 - i / frames)
        view = {"grid": RenderLayer("layers", stamp, settings=settings, layer=layer),
                "rgb": RenderLayer("layers", stamp, settings=settings, layer=layer, mode="rgb", channels=(0, 1, 2),
                                   size=320)}.get(setting)
        sent[stamp] = time.perf_counter()
        eng.submit(m.RenderImage("viewer", stamp, Latent(seed=7), settings, with_layer=view))
        if setting == "separate":
            eng.submit(RenderLayer("layers", stamp + 1, latents=(Latent(seed=7),), settings=settings, layer=layer))
        time.sleep(1.0 / hz)
    last = 2 * (stamp0 + frames - 1)
    clock.wait(lambda e: isinstance(e, m.FrameReady) and e.stamp == last, timeout=300.0)
    if setting != "closed":
        clock.wait(lambda e: isinstance(e, m.LayerReady) and e.stamp >= last)
    got = [(t, e) for t, e in clock.log if isinstance(e, m.FrameReady)]
    views = [e for _, e in clock.log if isinstance(e, m.LayerReady)]
    return {"render": [e.seconds for _, e in got], "latency": [t - sent[e.stamp] for t, e in got],
            "fps": (len(got) - 1) / max(got[-1][0] - got[0][0], 1e-9), "frames": len(got), "views": len(views)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=str(bundled_model_path() or ""))
    ap.add_argument("--frames", type=int, default=90)
    ap.add_argument("--hz", type=float, default=60.0)
    ap.add_argument("--layer", default="16x16/conv1")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args()
    clock = Clock()
    eng = Engine(clock, threads=args.threads)
    eng.start()
    eng.post(m.LoadModel(args.model))
    clock.wait(lambda e: isinstance(e, (m.ModelInfo, m.ErrorEvent)))
    info = next(e for _, e in clock.log if isinstance(e, (m.ModelInfo, m.ErrorEvent)))
    if isinstance(info, m.ErrorEvent):
        sys.exit(info.message)
    print(f"model {info.name} {info.resolution}² on {info.device}; layer {args.layer}; {args.frames} steps at "
          f"{args.hz:g} Hz × {args.rounds} rounds; load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    settings = ("closed", "grid", "rgb", "separate")
    results = {s: [] for s in settings}
    stamp = 1
    drag(eng, clock, 10, args.hz, stamp, "grid", args.layer)  # warm-up
    stamp += 10
    for _ in range(args.rounds):
        for s in settings:
            results[s].append(drag(eng, clock, args.frames, args.hz, stamp, s, args.layer))
            stamp += args.frames
    print(f"{'setting':<22}{'render ms (median)':>20}{'latency ms (median, p95)':>28}{'frames/s':>10}{'views':>7}")
    for s in settings:
        rs = results[s]
        render = statistics.median(x for r in rs for x in r["render"]) * 1000
        lat = sorted(x for r in rs for x in r["latency"])
        p95 = lat[min(len(lat) - 1, round(0.95 * len(lat)) - 1)] * 1000
        fps = statistics.median(r["fps"] for r in rs)
        name = {"closed": "pane closed", "grid": "pane open (grid)", "rgb": "pane open (rgb)",
                "separate": "separate pass (cmp.)"}[s]
        print(f"{name:<22}{render:>20.1f}{statistics.median(lat) * 1000:>17.1f}{p95:>11.1f}{fps:>10.1f}"
              f"{sum(r['views'] for r in rs):>7}")
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    eng.close()


if __name__ == "__main__":
    main()
