"""Training-recipe ablations: short runs that differ in one setting, judged by FID of 1,000 G_ema samples.

Run: python bench/ablate_recipe.py --data TRAIN.zip --heldout HELDOUT.zip --out DIR [--only NAME,...]
     [--kimg 15] [--res 32] [--parallel 2]
Each run is `stylegan-studio train` with the shared settings below plus its own flags; with --parallel 2
two runs go side by side with one thread each (measured: 1.1× the images/s of one run on two threads
on the 2-core machine). Prints a markdown table from each run's metrics.jsonl and stats.jsonl.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

SHARED = ["--no-growing", "--batch", "32", "--lr", "0.002", "--r1-interval", "4", "--tick-kimg", "1",
          "--snapshot-ticks", "100", "--metric", "fid1k"]
RUNS = {
    "official": ["--gamma", "10", "--mapping-layers", "8"],
    "gamma-auto": ["--gamma", "auto", "--mapping-layers", "8"],
    "map2": ["--gamma", "auto", "--mapping-layers", "2"],
    "map2-aug": ["--gamma", "auto", "--mapping-layers", "2", "--augment", "color,translation,cutout"],
    "map2-aug-noise16": ["--gamma", "auto", "--mapping-layers", "2", "--augment", "color,translation,cutout",
                         "--noise-res", "16"],
    "map2-aug-gamma1": ["--gamma", "1", "--mapping-layers", "2", "--augment", "color,translation,cutout"],
    "map2-aug-d128": ["--gamma", "auto", "--mapping-layers", "2", "--augment", "color,translation,cutout",
                      "--d-channels", "128"],
    "map2-aug-noise0": ["--gamma", "auto", "--mapping-layers", "2", "--augment", "color,translation,cutout",
                        "--noise-res", "0"],
    "map2-aug-gamma0.3": ["--gamma", "0.3", "--mapping-layers", "2", "--augment", "color,translation,cutout"],
    "map2-aug-gamma1-noise16": ["--gamma", "1", "--mapping-layers", "2", "--augment", "color,translation,cutout",
                                "--noise-res", "16"],
    "map2-aug-noise16-d128": ["--gamma", "auto", "--mapping-layers", "2", "--augment", "color,translation,cutout",
                              "--noise-res", "16", "--d-channels", "128"],
    "map8-aug-gamma1": ["--gamma", "1", "--mapping-layers", "8", "--augment", "color,translation,cutout"],
}


def command(name: str, args: argparse.Namespace) -> list[str]:
    """The train command line of one ablation run."""
    return [sys.executable, "-m", "stylegan_studio.app", "train", "--data", args.data, "--out",
            str(Path(args.out) / name), "--resolution", str(args.res), "--kimg", str(args.kimg),
            "--metric-data", args.heldout, "--metric-ticks", str(args.metric_ticks), *SHARED, *RUNS[name]]


def summary(name: str, out: Path) -> dict:
    """FID curve, final losses and speed of one finished run."""
    root = out / name
    metrics = [json.loads(x) for x in (root / "metrics.jsonl").read_text().splitlines()] if (root / "metrics.jsonl").exists() else []
    stats = [json.loads(x) for x in (root / "stats.jsonl").read_text().splitlines()] if (root / "stats.jsonl").exists() else []
    last = stats[-3:]
    mean = (lambda k: sum(s[k] for s in last) / max(len(last), 1))
    return {"name": name, "fid": [(m["kimg"], m["fid1k"]) for m in metrics],
            "real": mean("score_real"), "fake": mean("score_fake"), "ips": mean("images_per_s")}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--heldout", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--only", help="comma list of run names (default: all)")
    ap.add_argument("--kimg", type=float, default=15)
    ap.add_argument("--res", type=int, default=32)
    ap.add_argument("--metric-ticks", type=int, default=15)
    ap.add_argument("--parallel", type=int, default=2)
    ap.add_argument("--table", action="store_true", help="only print the table of finished runs")
    args = ap.parse_args()
    names = args.only.split(",") if args.only else list(RUNS)
    out = Path(args.out)
    if not args.table:
        env = {**__import__("os").environ, "OMP_NUM_THREADS": str(max(1, 2 // args.parallel))}
        for i in range(0, len(names), args.parallel):
            procs = [subprocess.Popen(command(n, args), env=env, stdout=open(out / f"{n}.log", "w"),
                                      stderr=subprocess.STDOUT) for n in names[i:i + args.parallel]
                     if not (out / n / "metrics.jsonl").exists()]
            for p in procs:
                p.wait()
    print(f"| run | flags | FID-1k by kimg | D real / fake score | img/s |")
    print("|---|---|---|---|---|")
    for n in names:
        s = summary(n, out)
        fid = ", ".join(f"{k:g}: {v:.1f}" for k, v in s["fid"])
        print(f"| {n} | `{' '.join(RUNS[n])}` | {fid} | {s['real']:+.2f} / {s['fake']:+.2f} | {s['ips']:.1f} |")


if __name__ == "__main__":
    main()
