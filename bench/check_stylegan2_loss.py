"""Check our StyleGAN2 training losses against NVIDIA's own StyleGAN2Loss (stylegan2-ada-pytorch), on the CPU.

Run: python bench/check_stylegan2_loss.py --nvidia PATH/stylegan2-ada-pytorch --fixture FIXTURE
(FIXTURE: an NVIDIA-made snapshot's path without its suffix, e.g. the test fixture tests/data/nvidia/sg2ada_uncond,
whose .pkl, .json and .expected.npz are read)

NVIDIA's checkout is imported from that folder at run time (this project carries none of its code). Their
Generator and Discriminator are built from the fixture's init_kwargs (tests/data/nvidia/sg2ada_uncond, 32²)
and given the weights of our networks loaded from the same snapshot (the parameter names are NVIDIA's),
fp32 throughout (force_fp32; their custom ops take their reference paths on a CPU). Then, with the same
random draws, each side's own training code runs:

- path length: their StyleGAN2Loss.accumulate_gradients('Greg', gain=4) against our
  TrainingRun._path_length(n) × pl_weight × 4 (what _g_step adds), over steps that carry the running mean;
  z, the per-layer random noise maps and the image-space y come from one seeded stream on both sides
  (style mixing off on both: its draws cannot be aligned). Compared: pl_mean, the penalty, and G's
  gradients by parameter name. A third step runs with decay 0 on both sides (pl_mean held): the penalty's
  gradient also flows through the updated pl_mean (decay × the batch mean of the lengths), and with decay 0
  that path is gone, which tells a difference there from one elsewhere.
- R1: their 'Dmain' (gain 1) and 'Dreg' (gain = our r1_interval) on fixed reals and fakes against our
  TrainingRun._d_step with and without R1 (R1's gradient on our side: the difference of the two; γ 1000 so
  that it is not lost in rounding).
  Compared: R1's value, and D's gradients by parameter name.

Differences are max |ours − theirs| and that over max |theirs| (per tensor; the table shows the worst
tensor). Prints a table; exits 1 when a quantity is off by more than --tol (relative).
"""
from __future__ import annotations

import argparse
import json
import sys
import types
import warnings
from pathlib import Path

import numpy as np
import torch

N, RES, R1_INTERVAL = 4, 32, 4
GAMMA = 1000.0  # large, so that R1's share of D's gradient survives float32 rounding when ours is a difference


class Call(torch.nn.Module):
    """A network called with fixed keyword arguments (force_fp32), or a module returning a fixed tensor."""

    def __init__(self, net=None, out=None, **kwargs):
        super().__init__()
        self.net, self.out, self.kwargs = net, out, kwargs

    def forward(self, *args):
        return self.out if self.out is not None else self.net(*args, **self.kwargs)


def nvidia(checkout: Path, spec: dict, G, D):
    """(their loss module, their G and D built from the fixture's init_kwargs with our G's and D's weights)."""
    sys.path.insert(0, str(checkout))
    import dnnlib
    from training import loss as nv_loss
    nets = []
    for key, ours in (("G", G), ("D", D)):
        net = dnnlib.util.construct_class_by_name(class_name=spec[key]["class_name"], **spec[key]["init_kwargs"])
        net.load_state_dict(ours.state_dict())
        nets.append(net.train().requires_grad_(True))
    return nv_loss, *nets


def our_run(G, D):
    """A TrainingRun holding just what its loss methods read (no dataset, no run folder)."""
    from stylegan_studio.engine.contract.training import TrainConfig
    from stylegan_studio.engine.nets import trainable
    from stylegan_studio.engine.train.run import TrainingRun
    run = TrainingRun.__new__(TrainingRun)
    cfg = TrainConfig(architecture="stylegan2", resolution=RES, growing=False, noise_res=RES, style_mixing=0.0,
                      gamma=GAMMA, r1_interval=R1_INTERVAL, augment="none", batch=N, device="cpu")
    run.__dict__.update(cfg=cfg, G=G, D=D, device=torch.device("cpu"), policy=None, _synthesis=G.synthesis,
                        _D_fast=D, rng=np.random.default_rng(0), pl_weight=trainable.recipe_pl_weight(G.arch),
                        pl_mean=torch.zeros(()), nimg=0, world=1, g_steps=0)
    return run


def grads(net) -> dict:
    """A copy of every parameter's gradient, by name (then cleared)."""
    out = {k: (p.grad.clone() if p.grad is not None else torch.zeros_like(p)) for k, p in net.named_parameters()}
    net.zero_grad(set_to_none=True)
    return out


def diff(ours, theirs) -> tuple[float, float]:
    """(max abs difference, that over max |theirs|) of two tensors or two dicts of them (worst entry)."""
    if isinstance(theirs, dict):
        assert ours.keys() == theirs.keys(), sorted(ours.keys() ^ theirs.keys())
        pairs = [diff(ours[k], theirs[k]) for k in theirs]
        return max(a for a, _ in pairs), max(r for _, r in pairs)
    ours, theirs = torch.as_tensor(ours).double(), torch.as_tensor(theirs).double()
    a, scale = (ours - theirs).abs().max().item(), theirs.abs().max().item()
    return a, (a / scale if scale > 0 else (0.0 if a == 0 else float("inf")))


def main() -> None:
    """Run both checks and print the table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nvidia", type=Path, required=True, help="a checkout of NVlabs/stylegan2-ada-pytorch")
    ap.add_argument("--fixture", type=Path, required=True, help="an NVIDIA-made snapshot, its path without suffix")
    ap.add_argument("--tol", type=float, default=1e-4, help="largest relative difference that passes")
    args = ap.parse_args()
    warnings.filterwarnings("ignore")  # their custom-op loaders warn on a CPU; the reference ops run
    torch.set_num_threads(1)
    from stylegan_studio.engine.files.imported import snapshot_networks
    from stylegan_studio.engine.files.persist import read_snapshot
    from stylegan_studio.engine.train import run as train_run
    G_ema, _, G, D = snapshot_networks(read_snapshot(args.fixture.with_suffix(".pkl")))
    G, D = G.train().requires_grad_(True), D.train().requires_grad_(True)
    spec = json.loads(args.fixture.with_suffix(".json").read_text())
    nv_loss, nG, nD = nvidia(args.nvidia, spec, G, D)
    reported = {}
    nv_loss.training_stats = types.SimpleNamespace(report=lambda name, value: reported.__setitem__(name, value))
    run = our_run(G, D)
    rows = []

    # Path length: three G regularisation steps, pl_mean carried over.
    theirs = nv_loss.StyleGAN2Loss(torch.device("cpu"), nG.mapping, Call(nG.synthesis, force_fp32=True),
                                   Call(nD, force_fp32=True), style_mixing_prob=0.0, pl_weight=run.pl_weight)
    for step, decay in ((0, train_run.PL_DECAY), (1, train_run.PL_DECAY), (2, 0.0)):
        train_run.PL_DECAY = theirs.pl_decay = decay  # step 2: pl_mean held, so no gradient flows through it
        run.gen, gen = (torch.Generator().manual_seed(100 + step) for _ in range(2))
        pen = run._path_length(N, RES, 1.0)
        (pen * (run.pl_weight * train_run.PL_INTERVAL)).backward()
        ours = grads(G)
        z = torch.randn(N, G.z_dim, generator=gen)  # what _ws draws first; then noise maps, then y
        gen_z = torch.cat([z, torch.randn(N, G.z_dim)])  # their Greg takes the first half of the batch
        torch.set_rng_state(gen.get_state())  # their noise maps and y come from the global stream
        theirs.accumulate_gradients("Greg", None, None, gen_z, torch.zeros(2 * N, 0), sync=False,
                                    gain=train_run.PL_INTERVAL)
        tag = f"PL step {step} (decay {decay:g})"
        rows += [(f"{tag}: pl_mean", *diff(run.pl_mean, theirs.pl_mean)),
                 (f"{tag}: penalty", *diff(pen, reported["Loss/pl_penalty"].mean())),
                 (f"{tag}: G grads (penalty × pl_weight × 4)", *diff(ours, grads(nG)))]

    # R1: our D step with and without it; theirs Dmain + Dreg.
    with torch.no_grad():
        reals = torch.from_numpy(np.load(args.fixture.with_suffix(".expected.npz"))["D.img"]).float()
        fakes = G_ema(torch.randn(N, G.z_dim, generator=torch.Generator().manual_seed(7)))
    run._reals, run._fakes = (lambda n, res, alpha: reals.clone()), (lambda n, res, alpha: fakes)
    run.nimg = 0  # an R1 step (lazy: every r1_interval-th)
    out = run._d_step(N, RES, 1.0)
    out["loss_d"].backward()
    ours_all = grads(D)
    run.nimg = N  # the next step: no R1
    run._d_step(N, RES, 1.0)["loss_d"].backward()
    ours_main = grads(D)
    theirs = nv_loss.StyleGAN2Loss(torch.device("cpu"), nG.mapping, Call(out=fakes), Call(nD, force_fp32=True),
                                   style_mixing_prob=0.0, r1_gamma=GAMMA)
    c, z = torch.zeros(N, 0), torch.randn(N, G.z_dim)
    theirs.accumulate_gradients("Dmain", reals, c, z, c, sync=False, gain=1)
    nv_main = grads(nD)
    theirs.accumulate_gradients("Dreg", reals, c, z, c, sync=False, gain=R1_INTERVAL)
    nv_r1 = grads(nD)
    rows += [("R1 (mean over images of |∇D(x)|²)", *diff(out["r1"], reported["Loss/r1_penalty"].mean())),
             ("D grads, D step without R1 (Dmain)", *diff(ours_main, nv_main)),
             ("D grads of R1 × γ/2 × interval (Dreg)", *diff({k: ours_all[k] - ours_main[k] for k in ours_all}, nv_r1)),
             ("D grads, D step with R1 (Dmain + Dreg)", *diff(ours_all, {k: nv_main[k] + nv_r1[k] for k in nv_r1}))]

    print(f"NVIDIA checkout {args.nvidia}, torch {torch.__version__}, CPU fp32, fixture {args.fixture.name}, N={N}")
    print("| quantity | max abs diff | max rel diff | |\n|---|---|---|---|")
    bad = 0
    for name, a, r in rows:
        bad += not r <= args.tol
        print(f"| {name} | {a:.2e} | {r:.2e} | {'pass' if r <= args.tol else 'FAIL'} |")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
