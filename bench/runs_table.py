"""Print a markdown table comparing training runs at equal kimg: FID (metrics.jsonl) and D's figures (stats.jsonl).

python bench/runs_table.py RUN_DIR [RUN_DIR ...]

For each run: FID at every measured kimg, and at its last tick the augmentation probability p, ADA's r_t
(E[sign D(reals)]), D's mean real and fake scores and the diversity figure (samples' spread ÷ reals').
"""
import json
import sys
from pathlib import Path


def records(path: Path) -> list[dict]:
    """The JSON lines of `path` (none when it is missing)."""
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def row(folder: Path) -> tuple[dict, str]:
    """({kimg: FID}, the rest of the run's table row)."""
    fids = {round(r["kimg"]): r[k] for r in records(folder / "metrics.jsonl") for k in r
            if k not in ("tick", "kimg", "seconds")}
    last = records(folder / "stats.jsonl")[-1]
    figures = (f"{last.get('augment_p', float('nan')):.2f} | {last.get('r_t', float('nan')):+.2f} | "
               f"{last['score_real']:+.2f} / {last['score_fake']:+.2f} | {last.get('diversity', float('nan')):.2f}")
    return fids, f"{last['kimg']:g} | {figures}"


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
