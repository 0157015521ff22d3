"""Is D memorising its training images? Its scores on them beside held-out ones (as StyleGAN2-ADA's Fig. 1b).

Run: python bench/d_overfit.py RUN_DIR --train TRAIN.zip --heldout HELDOUT.zip [--count N]
Loads the run's newest state as a resume does and prints engine/train/memorisation.py's table: r_t = E[sign D]
(what `--augment-p auto` steers to its target) and the mean score of training images, as many held-out ones and
as many G_ema fakes. A D that memorises scores the images it trained on higher than unseen ones of the same
distribution; r_t above the target with no such gap means D is sure of real faces, not of its training set.
TRAIN may be a subset of the run's images.
"""
from __future__ import annotations

import argparse

from stylegan_studio.engine.files.dataset import load_images
from stylegan_studio.engine.train import memorisation
from stylegan_studio.engine.train.run import TrainingRun


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("run", help="a run directory (its newest state is read)")
    ap.add_argument("--train", required=True, help="images the run trained on (or a subset of them)")
    ap.add_argument("--heldout", required=True, help="images of the same kind it never saw")
    ap.add_argument("--count", type=int, default=memorisation.COUNT,
                    help=f"images per set (a multiple of {memorisation.BATCH})")
    args = ap.parse_args()
    train = load_images(args.train)
    run = TrainingRun(None, args.run, resume=True, data=train)
    result = memorisation.measure(run, train[0], load_images(args.heldout, run.cfg.resolution)[0], args.count)
    res, alpha = run.cfg.phase(run.kimg)
    print(f"{args.run}: {run.kimg:.1f} kimg, D at {res}² (fade {alpha:.2f})\n")
    print(memorisation.table(result))


if __name__ == "__main__":
    main()
