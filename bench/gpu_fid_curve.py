"""The FID curve of a lent GPU's run, measured back here: its curve file's points and its final G_ema.

Run: python bench/gpu_fid_curve.py GPU_OUT --heldout HELDOUT.zip [--count 2000] [--real 5000]
GPU_OUT is what the device returned (docs/gpu-training.md): curve.safetensors (G_ema at a few earlier kimg)
and G_ema.safetensors (the end). The points are written as model files into GPU_OUT/curve/ and each is
measured with the pipeline of `stylegan-studio metrics fid` (held-out features cached). Prints a table and
writes GPU_OUT/fid-curve.json.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from stylegan_studio.engine.files.curvefile import split_curve
from stylegan_studio.engine.files.modelfile import load_model
from stylegan_studio.engine.metrics import fid


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out", help="the folder the GPU session returned")
    ap.add_argument("--heldout", required=True, help="held-out avatars (seeds 1,000,000+)")
    ap.add_argument("--count", type=int, default=2000, help="samples per point")
    ap.add_argument("--real", type=int, default=5000)
    args = ap.parse_args()
    out = Path(args.out)
    points = split_curve(out / "curve.safetensors", out / "curve") if (out / "curve.safetensors").is_file() else []
    points.append((load_model(out / "G_ema.safetensors")[1].kimg, out / "G_ema.safetensors"))
    net, rows = fid.load_inception(), []
    print(f"{'kimg':>10}  {'FID (' + format(args.count, ',') + ')':>12}  seconds")
    for kimg, path in points:
        t0 = time.time()
        *_, (_, _, _, result) = fid.fid_steps(load_model(path)[0], args.heldout, args.count, args.real, net=net)
        rows.append({"kimg": kimg, "fid": round(result.value, 2), "n_fake": result.n_fake,
                     "n_real": result.n_real, "model": path.name})
        print(f"{kimg:10.1f}  {result.value:12.2f}  {time.time() - t0:7.0f}", flush=True)
    (out / "fid-curve.json").write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
