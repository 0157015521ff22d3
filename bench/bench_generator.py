"""Generator speed on this machine: latency at batch 1, images/s at batch 8 and 16, vs the conv ceiling.

Run: python bench/bench_generator.py [--quick] [--no-tune]   (prints a table; not a test)
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

from stylegan_studio.app.main import reexec_tuned  # no Qt: the launcher's tuning, one place

if "--no-tune" not in sys.argv:
    reexec_tuned(sys.argv, window=False)  # platform.md: malloc tuning is effective only from process start

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from stylegan_studio.engine.render import synth as ex# noqa: E402
from stylegan_studio.engine.contract.modelconfig import ModelConfig  # noqa: E402
from stylegan_studio.engine.nets.networks import Generator  # noqa: E402
from stylegan_studio.engine.contract.latents import Latent, RenderSettings  # noqa: E402


def timed(fn, repeat: int) -> list[float]:
    """Wall times of `repeat` calls after two warm-ups."""
    fn(), fn()
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def conv_ceiling(dtype: torch.dtype, repeat: int) -> float:
    """GFLOP/s of a large 3×3 conv (512→512 at 32², batch 8): this CPU's practical limit."""
    x = torch.randn(8, 512, 32, 32, dtype=dtype)
    w = torch.randn(512, 512, 3, 3, dtype=dtype)
    with torch.inference_mode():
        t = statistics.median(timed(lambda: F.conv2d(x, w, padding=1), repeat))
    return 2 * 8 * 512 * 512 * 9 * 32 * 32 / t / 1e9


def macs_per_image(cfg: ModelConfig) -> tuple[float, float]:
    """(nominal MACs as in the paper: upsample then 3×3 conv; MACs executed with the fused up-conv)."""
    nominal = executed = 0.0
    for res in cfg.resolutions:
        c = cfg.channels(res)
        if res > 4:
            cin = cfg.channels(res // 2)
            nominal += cin * c * 9 * res * res
            executed += cin * c * 16 * (res // 2) ** 2
        nominal += c * c * 9 * res * res
        executed += c * c * 9 * res * res
        nominal += c * 3 * res * res if res == cfg.resolution else 0
        executed += c * 3 * res * res if res == cfg.resolution else 0
    mapping = cfg.z_dim * cfg.mapping_fmaps + (cfg.mapping_layers - 2) * cfg.mapping_fmaps ** 2 \
        + cfg.mapping_fmaps * cfg.w_dim
    styles = cfg.num_ws * cfg.w_dim * 2 * max(cfg.channels(r) for r in cfg.resolutions)
    return nominal + mapping + styles, executed + mapping + styles


def bench_model(name: str, cfg: ModelConfig, repeat: int, ceiling: float, bf16: bool) -> list[str]:
    torch.manual_seed(0)
    G = Generator(cfg).eval().requires_grad_(False)
    params = sum(p.numel() for p in G.parameters())
    nominal, executed = macs_per_image(cfg)
    settings = RenderSettings(psi=0.7)
    rows = []
    for batch in (1, 8, 16):
        lat = [Latent(seed=s) for s in range(batch)]
        def run():
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                ex.render_latents(G, lat, settings, batch=batch)
        t = statistics.median(timed(run, repeat if batch == 1 else max(2, repeat // 3)))
        ips = batch / t
        util = ips * executed * 2 / 1e9 / ceiling
        rows.append(f"{name:<22}{'bf16' if bf16 else 'fp32':<6}{params / 1e6:>7.2f}M{nominal / 1e9:>8.2f}G"
                    f"{executed / 1e9:>8.2f}G{batch:>6}{t * 1000:>10.1f}{ips:>9.1f}{util * 100:>8.0f}%")
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--no-tune", action="store_true")
    ap.add_argument("--bf16", action="store_true", help="also measure bf16 autocast")
    args = ap.parse_args()
    repeat = 5 if args.quick else 15
    torch.set_num_threads(os.cpu_count() or 1)
    ceil32 = conv_ceiling(torch.float32, repeat)
    ceil16 = conv_ceiling(torch.bfloat16, repeat)
    print(f"threads {torch.get_num_threads()}, allocator tuned: {'GLIBC_TUNABLES' in os.environ}")
    print(f"conv ceiling (512→512 3×3 at 32², batch 8): fp32 {ceil32:.0f} GFLOP/s, bf16 {ceil16:.0f} GFLOP/s")
    print(f"{'model':<22}{'dtype':<6}{'params':>8}{'MAC/img':>9}{'exec':>9}{'batch':>6}{'ms/batch':>10}"
          f"{'img/s':>9}{'of ceil':>9}")
    models = [("paper-shaped 64²", ModelConfig(resolution=64)),
              ("small 64² (128 ch)", ModelConfig.small(64, 128, 128)),
              ("small 64² (64 ch)", ModelConfig.small(64, 64, 128))]
    for name, cfg in models:
        for bf16 in ((False, True) if args.bf16 else (False,)):
            for row in bench_model(name, cfg, repeat, ceil16 if bf16 else ceil32, bf16):
                print(row, flush=True)


if __name__ == "__main__":
    main()
