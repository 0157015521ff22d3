"""Print a markdown table comparing training runs at equal kimg: FID (metrics.jsonl) and D's figures (stats.jsonl).

python bench/runs_table.py RUN_DIR [RUN_DIR ...]

For each run: FID at every measured kimg, and at its last tick the augmentation probability p, ADA's r_t
(E[sign D(reals)]), D's mean real and fake scores and the diversity figure (samples' spread ÷ reals').
"""
import math
import sys
from pathlib import Path

from stylegan_studio.engine.train.state import RunFiles


def row(folder: Path) -> tuple[dict, str]:
    """({kimg: FID}, the rest of the run's table row), read as a resume reads the run's history."""
    ticks, metrics = RunFiles(folder).history(math.inf)
    fids = {round(kimg): value for kimg, name, value in metrics if name != "diversity"}
    diversity = [value for _, name, value in metrics if name == "diversity"]
    last = ticks[-1]
    figures = (f"{last.augment_p:.2f} | {last.r_t:+.2f} | {last.score_real:+.2f} / {last.score_fake:+.2f} | "
               f"{diversity[-1] if diversity else math.nan:.2f}")
    return fids, f"{last.kimg:g} | {figures}"


def main(folders: list[str]) -> None:
    rows = {f: row(Path(f)) for f in folders}
    kimgs = sorted({k for fids, _ in rows.values() for k in fids})
    print("| run | " + " | ".join(f"FID at {k} kimg" for k in kimgs) +
          " | last tick (kimg) | p | r_t | D real / fake | diversity |")
    print("|---" * (len(kimgs) + 6) + "|")
    for folder, (fids, rest) in rows.items():
        cells = " | ".join(f"{fids[k]:.1f}" if k in fids else "–" for k in kimgs)
        print(f"| {Path(folder).name} | {cells} | {rest} |")


if __name__ == "__main__":
    main(sys.argv[1:])
