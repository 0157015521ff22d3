"""Long UI soak: thousands of random user operations on the real window, engine and a tiny model.

    nice -n 19 env OMP_NUM_THREADS=1 QT_QPA_PLATFORM=offscreen .venv/bin/python bench/soak_window.py --ops 10000

Prints operations, unhandled errors, viewer deadlines missed, RSS growth from operation 500 to the end, viewer
latency percentiles, the error lines the window showed and how often each operation ran (bench/soak.py).
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("STYLEGAN_STUDIO_NO_REEXEC", "1")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ops", type=int, default=10000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--deadline", type=float, default=20.0, help="seconds the viewer may take to show a new image")
    ap.add_argument("--only", default="", help="comma list of operations to run alone (e.g. training_op,step_seed), "
                                               "to find which one RSS grows with")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="soak-"))
    os.environ["STYLEGAN_STUDIO_CACHE"] = str(tmp / "cache")
    import torch
    torch.set_num_threads(1)
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication
    app = QApplication.instance() or QApplication([])
    import soak
    from synthetic import make_folder, tiny_generator
    from stylegan_studio.app.bridge import EngineBridge
    from stylegan_studio.app.window import MainWindow
    from stylegan_studio.engine.files.modelfile import save_model
    model = tmp / "tiny.safetensors"
    save_model(tiny_generator(16), model)
    bridge = EngineBridge(model_path=str(model), threads=1)
    win = MainWindow(bridge, QSettings(str(tmp / "settings.ini"), QSettings.Format.IniFormat))
    driver = soak.Soak(win, tmp, make_folder(tmp / "data", n=16, size=16), model, seed=args.seed,
                       deadline=args.deadline)
    if args.only:
        names, every = set(args.only.split(",")), driver.ops
        driver.ops = [(w, op) for w, op in every if op.__name__ in names]
        if not driver.ops:
            ap.error(f"--only names no operation; they are: {', '.join(op.__name__ for _, op in every)}")
        weights = [w for w, _ in driver.ops]
        driver.p = [w / sum(weights) for w in weights]
    bridge.start()
    win.show()
    driver.pump(until=lambda: driver.frames > 0)
    fig = driver.run(args.ops, progress=max(1, args.ops // 20))
    bridge.close()
    app.processEvents()
    print(fig.table())
    print("\nerror lines shown:", ", ".join(f"{k}… ×{v}" for k, v in sorted(fig.errors.items())) or "none")
    for line in fig.error_lines:
        print("  " + line[:300])
    print("operations:", ", ".join(f"{k} {v}" for k, v in sorted(fig.counts.items())))
    for tb in fig.unhandled[:3]:
        print(tb, file=sys.stderr)
    return 1 if fig.unhandled or fig.missed else 0


if __name__ == "__main__":
    sys.exit(main())
