"""Video export speed: seconds per 100 frames of a walk, rendering and encoding measured separately.

Run: python bench/bench_video.py [--model FILE]   (default: a fresh small 64² model)
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

from stylegan_studio.app.main import reexec_tuned  # no Qt: the launcher's tuning, one place

reexec_tuned(sys.argv, window=False)  # platform.md: malloc tuning is effective only from process start

import numpy as np  # noqa: E402
import torch  # noqa: E402

from stylegan_studio.engine.contract.modelconfig import ModelConfig  # noqa: E402
from stylegan_studio.engine.files.modelfile import load_model  # noqa: E402
from stylegan_studio.engine.nets.networks import Generator  # noqa: E402
from stylegan_studio.engine.render.video import _AVWriter, _PillowWriter, frames_walk, resize  # noqa: E402
from stylegan_studio.engine.contract.video import VideoSpec  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model")
    args = ap.parse_args()
    if args.model:
        G, _ = load_model(args.model)
    else:
        torch.manual_seed(0)
        G = Generator(ModelConfig.small(64, 64, 128)).eval().requires_grad_(False)
    spec = VideoSpec(kind="walk", seeds=(0, 1, 2, 3), frames_per_step=25, fps=30)  # 100 frames
    t = time.perf_counter()
    frames = np.concatenate(list(frames_walk(G, spec)))
    render = time.perf_counter() - t
    print(f"model {G.cfg.resolution}², render 100 frames: {render:.2f} s")
    print(f"{'size':>6}{'format':>8}{'resize s':>10}{'encode s':>10}{'total s/100':>13}")
    with tempfile.TemporaryDirectory() as tmp:
        for size in (64, 256):
            t = time.perf_counter()
            sized = resize(frames, size, "lanczos")
            rs = time.perf_counter() - t
            for ext in (".mp4", ".webm", ".gif", ".webp"):
                cls = _AVWriter if ext in (".mp4", ".webm") else _PillowWriter
                t = time.perf_counter()
                w = cls(os.path.join(tmp, f"v{size}{ext}"), ext, 30, 80, "bench")
                w.write(sized)
                w.close()
                enc = time.perf_counter() - t
                print(f"{size:>6}{ext:>8}{rs:>10.2f}{enc:>10.2f}{render + rs + enc:>13.2f}", flush=True)


if __name__ == "__main__":
    main()
