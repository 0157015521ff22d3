"""`metrics ppl` and `metrics ls`: the paper's disentanglement measurements, printed as its table's columns."""
from __future__ import annotations

import argparse
import json
import sys
import time

from ..contract.errors import UserError
from ..directions.attributes import label_samples
from ..metrics import ppl as path_lengths
from ..metrics.separability import separability
from .directions import load_classifier
from .render import load_cli_model

PPL_COUNT = 1000
LS_COUNT = 3000


def _progress(what: str, job):
    """Drive a (done, total) job, drawing progress on a terminal; returns the job's value."""
    while True:
        try:
            done, total = next(job)
        except StopIteration as end:
            if sys.stderr.isatty():
                sys.stderr.write("\n")
            return end.value
        if sys.stderr.isatty():
            sys.stderr.write(f"\r{what}: {done}/{total}")


FEW_KEPT = 500


def run(args: argparse.Namespace) -> int:
    """Measure PPL (Z/W × full/end) or linear separability (Z/W) and print a table and one JSON line."""
    count = args.count or (PPL_COUNT if args.kind == "ppl" else LS_COUNT)
    if count < 10:
        raise UserError(f"metrics {args.kind} needs --count of 10 or more")
    G, meta, _ = load_cli_model(args)  # ours, or an official / NVIDIA pickle converted once
    t0 = time.perf_counter()
    out = ppl(G, count) if args.kind == "ppl" else ls(G, count, args.classifier)
    print(json.dumps({"model": meta.name, "model_id": meta.model_id, "kimg": meta.kimg, **out,
                      "seconds": round(time.perf_counter() - t0, 1)}))
    return 0


def ppl(G, count: int) -> dict:
    """Path length in Z and W, full and end sampling."""
    rows = {f"{s}_{how}": _progress(f"ppl {s} {how}", path_lengths.path_length(G, s, how, count))["ppl"]
            for s in path_lengths.SPACES for how in path_lengths.SAMPLINGS}
    print(f"{'':6s}{'full':>12s}{'end':>12s}")
    for s in path_lengths.SPACES:
        print(f"{s.upper():6s}{rows[s + '_full']:12.1f}{rows[s + '_end']:12.1f}")
    return {"ppl": {k: round(v, 2) for k, v in rows.items()}, "steps_per_column": count,
            "epsilon": path_lengths.EPSILON, "distance": path_lengths.DISTANCE, "noise": "stored (the same for both images of a step)"}


def ls(G, count: int, classifier_path: str | None) -> dict:
    """Linear separability in Z and W with the attribute classifier."""
    samples = _progress("classifying faces", label_samples(G, load_classifier(classifier_path), count))
    res = separability(samples)
    print(f"{'attribute':18s}{'yes':>7s}{'H(Y|X) Z':>10s}{'H(Y|X) W':>10s}")
    for name, row in res["per_attribute"].items():
        print(f"{name:18s}{row['yes']:7.1%}{row['z']:10.3f}{row['w']:10.3f}")
    print(f"{'separability':18s}{'':7s}{res['z']:10.2f}{res['w']:10.2f}   (exp of the sums; lower is better)")
    out = {"separability": {"z": round(res["z"], 3), "w": round(res["w"], 3)}, "faces": count, "kept": res["kept"],
           "attributes": len(res["per_attribute"]), "per_attribute": res["per_attribute"]}
    if res["kept"] < FEW_KEPT:   # a fit to a handful of faces separates them perfectly: 1.00 says nothing
        out["note"] = (f"only {res['kept']:,} faces kept (the surer half of --count); below {FEW_KEPT:,} the figure "
                       "says little (the paper keeps 100,000 of 200,000)")
        print(f"note: {out['note']}", file=sys.stderr)
    return out
