"""Same-run comparison: our 64² generator vs public StyleGAN ports and the conv ceiling, as ratios.

Run: python bench/bench_compare.py [--rosinality DIR] [--stylegan2-ada DIR] [--base DIR] [--threads 1]

DIR is a checkout of github.com/rosinality/style-based-gan-pytorch (its model.py) or of
github.com/NVlabs/stylegan2-ada-pytorch (training/networks.py and torch_utils; on a CPU its custom ops
take their reference paths), imported from that folder at run time. --base is a checkout (e.g. a
`git worktree`) of this project at an older commit: its engine is imported under another name and timed
beside the current one. Every generator is built at the same resolution and width (512 channels up to
32², 256 at 64²), renders z → image with ψ 0.7 and constant noise, and is timed in interleaved rounds
(one call of each per round), so load from other processes spreads over all of them; the table shows
medians. The fp32 conv ceiling is measured in the same process. Prints a markdown table; not a test.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import statistics
import sys
import time

from stylegan_studio.app.main import reexec_tuned  # no Qt: the launcher's tuning, one place

if "--no-tune" not in sys.argv:
    reexec_tuned(sys.argv, window=False)  # platform.md: malloc tuning is effective only from process start

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

RES, PSI = 64, 0.7


def conv_ceiling(rounds: int) -> float:
    """GFLOP/s of a large fp32 3×3 conv (512→512 at 32², batch 8): this CPU's practical limit."""
    x, w = torch.randn(8, 512, 32, 32), torch.randn(512, 512, 3, 3)
    F.conv2d(x, w, padding=1)
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        F.conv2d(x, w, padding=1)
        times.append(time.perf_counter() - t)
    return 2 * 8 * 512 * 512 * 9 * 32 * 32 / statistics.median(times) / 1e9


def load_engine(root: str, alias: str):
    """This project's `engine` package from checkout `root`, imported as `alias` (beside the current one)."""
    spec = importlib.util.spec_from_file_location(alias, os.path.join(root, "engine", "__init__.py"),
                                                  submodule_search_locations=[os.path.join(root, "engine")])
    mod = importlib.util.module_from_spec(spec)
    sys.modules[alias] = mod
    spec.loader.exec_module(mod)
    return mod


def first_module(pkg: str, *names: str):
    """The first of `names` (relative to `pkg`) that the tree has."""
    for name in names:
        try:
            return importlib.import_module(f"{pkg}.{name}")
        except ModuleNotFoundError:
            continue
    raise ModuleNotFoundError(f"{pkg} has none of {', '.join(names)}")


def ours(pkg: str):
    """A render function of this project's paper-shaped generator: the viewer's path (seed → uint8)."""
    nets = importlib.import_module(f"{pkg}.nets.networks")
    # the contract floor moved ModelConfig and Latent/RenderSettings; --base may name a tree from before it
    cfgmod = first_module(pkg, "contract.modelconfig", "nets.config")
    synth = importlib.import_module(f"{pkg}.render.synth")
    specs = first_module(pkg, "contract.latents", "render.specs")
    torch.manual_seed(0)
    G = nets.Generator(cfgmod.ModelConfig(resolution=RES)).eval().requires_grad_(False)
    try:
        init_w_avg = importlib.import_module(f"{pkg}.nets.registry").init_w_avg
    except ModuleNotFoundError:  # a tree from before nets/registry.py kept it in render/synth.py
        init_w_avg = synth.init_w_avg
    init_w_avg(G)
    settings = specs.RenderSettings(psi=PSI)

    def render(batch: int, seed0: int):
        lat = [specs.Latent(seed=seed0 + i) for i in range(batch)]
        return synth.render_latents(G, lat, settings, batch=batch)
    return render, lambda batch: G(torch.randn(batch, G.cfg.z_dim), psi=PSI)


def rosinality(root: str):
    """rosinality's StyleGAN v1 port (fused up-conv only from 128², as its code has it), step 4 = 64²."""
    sys.path.insert(0, root)
    try:
        model = importlib.import_module("model")
    finally:
        sys.path.remove(root)
    torch.manual_seed(0)
    G = model.StyledGenerator(512, n_mlp=8).eval().requires_grad_(False)
    step = (RES // 4).bit_length() - 1
    with torch.no_grad():
        mean_style = G.mean_style(torch.randn(4096, 512))

    def fwd(z):
        noise = [torch.zeros(1, 1, 4 * 2 ** i, 4 * 2 ** i).normal_(generator=torch.Generator().manual_seed(i))
                 .expand(z.shape[0], -1, -1, -1) for i in range(step + 1)]
        return G(z, noise=noise, step=step, alpha=-1, mean_style=mean_style, style_weight=PSI)

    def render(batch: int, seed0: int):
        with torch.inference_mode():
            return to_uint8(fwd(torch.randn(batch, 512, generator=torch.Generator().manual_seed(seed0))))
    return render, lambda batch: fwd(torch.randn(batch, 512))


def stylegan2_ada(root: str):
    """NVlabs' StyleGAN2-ADA generator in its `auto` config (2 mapping layers), fp32 on the CPU."""
    sys.path.insert(0, root)
    try:
        networks = importlib.import_module("training.networks")
    finally:
        sys.path.remove(root)
    torch.manual_seed(0)
    G = networks.Generator(z_dim=512, c_dim=0, w_dim=512, img_resolution=RES, img_channels=3,
                           mapping_kwargs=dict(num_layers=2),
                           synthesis_kwargs=dict(channel_base=16384, channel_max=512, num_fp16_res=4,
                                                 conv_clamp=256)).eval().requires_grad_(False)

    def fwd(z):
        return G(z, None, truncation_psi=PSI, noise_mode="const", force_fp32=True)

    def render(batch: int, seed0: int):
        with torch.inference_mode():
            return to_uint8(fwd(torch.randn(batch, 512, generator=torch.Generator().manual_seed(seed0))))
    return render, lambda batch: fwd(torch.randn(batch, 512))


def to_uint8(img: torch.Tensor):
    """[N, C, H, W] in [-1, 1] → [N, H, W, C] uint8, as our renderer ends."""
    return (img * 127.5 + 128).clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).numpy()


def gmacs(fwd) -> float:
    """Multiply-accumulates of one image (convolutions and matrix products, as torch counts them)."""
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        fwd(1)
    return counter.get_total_flops() / 2 / 1e9


def machine() -> str:
    """CPU model and logical cores."""
    cpu = platform.processor() or "?"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{cpu}, {os.cpu_count()} logical cores"


def load() -> str:
    """The 1-minute load average now."""
    return f"{os.getloadavg()[0]:.2f}" if hasattr(os, "getloadavg") else "?"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rosinality", help="checkout of rosinality/style-based-gan-pytorch")
    ap.add_argument("--stylegan2-ada", dest="sg2", help="checkout of NVlabs/stylegan2-ada-pytorch")
    ap.add_argument("--base", help="checkout of this project at an older commit (its engine is timed too)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=15, help="interleaved rounds at batch 1 (batch 8: a third)")
    ap.add_argument("--no-tune", action="store_true", help="skip the allocator settings")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    models = {"ours": ours("stylegan_studio.engine")}
    if args.base:
        load_engine(args.base, "base_engine")
        models["ours, base commit"] = ours("base_engine")
    if args.rosinality:
        models["rosinality v1 port"] = rosinality(args.rosinality)
    if args.sg2:
        models["stylegan2-ada auto"] = stylegan2_ada(args.sg2)
    macs = {name: gmacs(fwd) for name, (_, fwd) in models.items()}
    print(f"machine: {machine()}; torch {torch.__version__}, {args.threads} thread(s), fp32, "
          f"allocator tuned: {'GLIBC_TUNABLES' in os.environ}; load average at start {load()}")
    ceilings, rows = [], {}
    for batch, rounds in ((1, args.rounds), (8, max(3, args.rounds // 3))):
        times = {name: [] for name in models}
        for name, (render, _) in models.items():
            render(batch, 0), render(batch, 0)  # warm-up: first-call allocations and kernel choice
        for r in range(rounds):
            ceilings.append(conv_ceiling(1))
            for name, (render, _) in models.items():
                t = time.perf_counter()
                render(batch, 1000 + r * batch)
                times[name].append(time.perf_counter() - t)
        rows[batch] = {name: statistics.median(ts) for name, ts in times.items()}
    ceiling = statistics.median(ceilings)
    print(f"fp32 conv ceiling (512→512 3×3 at 32², batch 8), median of the rounds: {ceiling:.0f} GFLOP/s; "
          f"load average at end {load()}")
    print("| generator | GMAC/img | batch 1 ms | ours ÷ it, batch 1 | of ceiling | batch 8 img/s | "
          "ours ÷ it, batch 8 | of ceiling |")
    print("|---|---|---|---|---|---|---|---|")
    for name in models:
        t1, t8 = rows[1][name], rows[8][name]
        u1 = macs[name] * 2 / t1 / ceiling
        u8 = macs[name] * 2 * 8 / t8 / ceiling
        print(f"| {name} | {macs[name]:.2f} | {1000 * t1:.0f} | {t1 / rows[1]['ours']:.2f}× | {100 * u1:.0f}% | "
              f"{8 / t8:.2f} | {t8 / rows[8]['ours']:.2f}× | {100 * u8:.0f}% |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
