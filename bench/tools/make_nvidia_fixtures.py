"""Write the StyleGAN2-ADA / StyleGAN3 test fixtures with NVIDIA's own code, from checkouts given at run time.

For each fixture: small random-weight networks are built by NVIDIA's classes with the kwargs their
train.py passes, saved as their training loop saves a snapshot (a pickle of dict(G, D, G_ema,
augment_pipe=None, training_set_kwargs) through torch_utils.persistence), and rendered by their code
for fixed seeds, ψ, classes, noise modes and (v3) input transforms, converted to uint8 as their
gen_images.py does. The project must not carry NVIDIA's source, so while pickling, every persistent
class's captured module source is replaced by a placeholder that fails loudly if anyone runs it.

Files per fixture NAME in --out:
    NAME.pkl           the snapshot (placeholder source, NVIDIA's weights)
    NAME.state.npz     plain float arrays: "G_ema/<state_dict key>" and "D/<state_dict key>"
    NAME.expected.npz  "<case>" uint8 [R, R, C] image, "<case>.ws" float32 [num_ws, w_dim];
                       "D.img" / "D.c" / "D.logits": D's output on four of the images (fp32)
    NAME.json          classes, modules, init_kwargs, the cases and how each was rendered

Usage (CPU; a few minutes):
    python bench/tools/make_nvidia_fixtures.py --sg2 PATH/stylegan2-ada-pytorch --sg3 PATH/stylegan3 \
        --out tests/data/nvidia
    ... --check   instead re-reads each written pickle with NVIDIA's own loader (legacy.load_network_pkl, the
                  placeholder swapped back for the checkout's source by a persistence import hook) and re-renders
                  every case: the committed images must be what NVIDIA's code makes from the committed pickle.
"""
from __future__ import annotations

import argparse
import copy
import hashlib
import json
import pickle
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import torch

PLACEHOLDER = ("# stylegan-studio test fixture: NVIDIA's source of {module} is not carried by this project.\n"
               "# The studio never runs embedded source; running this placeholder fails on purpose.\n"
               "raise RuntimeError('placeholder source in a stylegan-studio test fixture')\n")
NVIDIA_MODULES = ("dnnlib", "torch_utils", "training", "legacy", "gen_images", "metrics")
V2_GRID = [dict(seed=s, psi=p, noise_mode=n) for s in (0, 1, 2) for p in (1.0, 0.7) for n in ("const", "none")] \
    + [dict(seed=s, psi=0.5, cutoff=2, noise_mode="const") for s in (0, 1)]
V3_GRID = [dict(seed=s, psi=p) for s in (0, 1, 2) for p in (1.0, 0.7)] \
    + [dict(seed=s, psi=1.0, translate=t, rotate=r) for s in (0, 1)
       for t, r in (((0.1, -0.2), 0.0), ((0.0, 0.0), 15.0), ((0.25, 0.1), -30.0))]


def fixtures(E) -> list[dict]:
    """The fixtures; `E` is the checkout's dnnlib.EasyDict so init_kwargs pickle as train.py's do."""
    def ada_d() -> dict:  # stylegan2-ada-pytorch's train.py D kwargs (fresh EasyDicts each time)
        return dict(block_kwargs=E(), mapping_kwargs=E(), epilogue_kwargs=E(mbstd_group_size=4),
                    channel_base=512, channel_max=32, num_fp16_res=2, conv_clamp=256)

    def sg3_d() -> dict:  # stylegan3's train.py D kwargs
        return dict(block_kwargs=E(freeze_layers=0), mapping_kwargs=E(), epilogue_kwargs=E(mbstd_group_size=4),
                    channel_base=512, channel_max=32)

    beta = 0.5 ** (32 / (20 * 1e3))  # train.py's magnitude_ema_beta for --batch 32
    return [
        dict(name="sg2ada_uncond", checkout="sg2", seed=1, G="training.networks.Generator",
             D="training.networks.Discriminator", common=dict(c_dim=0, img_resolution=32, img_channels=3),
             G_kwargs=dict(z_dim=24, w_dim=32, mapping_kwargs=E(num_layers=3),
                           synthesis_kwargs=E(channel_base=512, channel_max=32, num_fp16_res=2, conv_clamp=256)),
             D_kwargs=ada_d(),
             cases=V2_GRID + [dict(seed=0, psi=1.0, noise_mode="const", force_fp32=False),
                              dict(seed=1, psi=0.7, noise_mode="const", force_fp32=False)]),
        dict(name="sg2ada_cond", checkout="sg2", seed=2, G="training.networks.Generator",
             D="training.networks.Discriminator", common=dict(c_dim=4, img_resolution=64, img_channels=3),
             G_kwargs=dict(z_dim=32, w_dim=32, mapping_kwargs=E(num_layers=2),
                           synthesis_kwargs=E(channel_base=1024, channel_max=32, num_fp16_res=0, conv_clamp=None)),
             D_kwargs={**ada_d(), "num_fp16_res": 0, "conv_clamp": None, "channel_base": 1024},
             cases=[dict(seed=s, cls=k, psi=p, noise_mode="const") for s in (0, 1) for k in range(4)
                    for p in (1.0, 0.7)] + [dict(seed=0, cls=1, psi=1.0, noise_mode="none"),
                                            dict(seed=2, cls=3, psi=0.5, cutoff=3, noise_mode="const")]),
        dict(name="sg2ada_resnet", checkout="sg2", seed=6, G="training.networks.Generator",
             D="training.networks.Discriminator", common=dict(c_dim=0, img_resolution=32, img_channels=3),
             G_kwargs=dict(z_dim=24, w_dim=32, mapping_kwargs=E(num_layers=2),
                           synthesis_kwargs=E(channel_base=512, channel_max=32, architecture="resnet",
                                              use_noise=False, conv_clamp=256)),
             D_kwargs={**ada_d(), "architecture": "skip", "epilogue_kwargs": E(mbstd_group_size=None)},
             cases=V2_GRID),
        dict(name="sg3_stylegan2_orig", checkout="sg3", seed=7, G="training.networks_stylegan2.Generator",
             D="training.networks_stylegan2.Discriminator", common=dict(c_dim=3, img_resolution=32, img_channels=3),
             G_kwargs=dict(z_dim=32, w_dim=32, mapping_kwargs=E(num_layers=2), channel_base=512, channel_max=32,
                           architecture="orig"),
             D_kwargs={**sg3_d(), "architecture": "orig", "epilogue_kwargs": E(mbstd_group_size=None,
                                                                               mbstd_num_channels=2)},
             cases=[dict(seed=s, cls=k, psi=p, noise_mode=n) for s in (0, 1) for k in (0, 2) for p in (1.0, 0.7)
                    for n in ("const", "none")]),
        dict(name="sg3_stylegan2", checkout="sg3", seed=3, G="training.networks_stylegan2.Generator",
             D="training.networks_stylegan2.Discriminator", common=dict(c_dim=0, img_resolution=32, img_channels=3),
             G_kwargs=dict(z_dim=32, w_dim=24, mapping_kwargs=E(num_layers=2), channel_base=512, channel_max=32,
                           fused_modconv_default="inference_only", num_fp16_res=2, conv_clamp=1),
             D_kwargs=sg3_d(), cases=V2_GRID),
        dict(name="sg3_t", checkout="sg3", seed=4, G="training.networks_stylegan3.Generator",
             D="training.networks_stylegan2.Discriminator", common=dict(c_dim=0, img_resolution=32, img_channels=3),
             G_kwargs=dict(z_dim=32, w_dim=32, mapping_kwargs=E(num_layers=2), channel_base=256, channel_max=32,
                           magnitude_ema_beta=beta),
             D_kwargs=sg3_d(), cases=V3_GRID),
        dict(name="sg3_r", checkout="sg3", seed=5, G="training.networks_stylegan3.Generator",
             D="training.networks_stylegan2.Discriminator", common=dict(c_dim=0, img_resolution=32, img_channels=3),
             G_kwargs=dict(z_dim=32, w_dim=32, mapping_kwargs=E(num_layers=2), channel_base=512, channel_max=64,
                           magnitude_ema_beta=beta, conv_kernel=1, use_radial_filters=True),
             D_kwargs=sg3_d(), cases=V3_GRID),
    ]


# ---------------------------------------------------------------- importing a checkout
SEARCH_PATHS: set[str] = set()  # checkout folders this script put on sys.path


def use_checkout(path: Path):
    """Import dnnlib, torch_utils.persistence and gen_images/legacy from one checkout (dropping the other's)."""
    for name in list(sys.modules):
        if name.split(".")[0] in NVIDIA_MODULES:
            del sys.modules[name]
    sys.path[:] = [p for p in sys.path if p not in SEARCH_PATHS]
    sys.path.insert(0, str(path))
    SEARCH_PATHS.add(str(path))
    import dnnlib
    from torch_utils import persistence
    return dnnlib, persistence


def commit_of(path: Path) -> str:
    """The checkout's commit (for the record)."""
    try:
        return subprocess.run(["git", "-C", str(path), "rev-parse", "--short", "HEAD"], check=True,
                              capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


# ---------------------------------------------------------------- building the networks
def jiggle(module: torch.nn.Module, gen: torch.Generator, amount: float) -> None:
    """Move every parameter off its initial value (biases and noise strengths start at constants)."""
    with torch.no_grad():
        for p in module.parameters():
            std = p.std().item() if p.numel() > 1 else 0.0
            p.add_(torch.randn(p.shape, generator=gen) * amount * (std if std > 0 else 1.0))


def settle_emas(G, c_dim: int, gen: torch.Generator) -> None:
    """Give w_avg and (v3) the magnitude EMAs the values a trained network would have, not their init."""
    z = torch.randn([256, G.z_dim], generator=gen)
    c = torch.nn.functional.one_hot(torch.arange(256) % c_dim, c_dim).float() if c_dim else torch.zeros([256, 0])
    with torch.no_grad():
        ws = G.mapping(z, c)
        G.mapping.w_avg.copy_(ws[:, 0].mean(dim=0))
        layers = [m for m in G.synthesis.modules() if hasattr(m, "magnitude_ema_beta")]
        if layers:
            betas = [m.magnitude_ema_beta for m in layers]
            for m in layers:
                m.magnitude_ema_beta = 0.0  # the EMA becomes this batch's mean square
            G.synthesis(ws[:64], update_emas=True, force_fp32=True)
            for m, b in zip(layers, betas):
                m.magnitude_ema_beta = b


def balance_output(G, c_dim: int, gen: torch.Generator, target: float = 0.5) -> None:
    """Scale the RGB output layers so images have RMS ≈ target: random weights saturate or wash out.

    The image is linear in the ToRGB weights and biases (v2 sums them over resolutions; v3 has one),
    so one rescale lands near the target; a trained network's images are not mostly 0 or 255 either.
    """
    rgb = [m for m in G.synthesis.modules() if type(m).__name__ == "ToRGBLayer" or getattr(m, "is_torgb", False)]
    z = torch.randn([16, G.z_dim], generator=gen)
    c = torch.nn.functional.one_hot(torch.arange(16) % c_dim, c_dim).float() if c_dim else torch.zeros([16, 0])
    with torch.no_grad():
        for _ in range(2):  # a second pass corrects for conv_clamp
            rms = G(z, c, noise_mode="const", force_fp32=True).square().mean().sqrt().item()
            for m in rgb:
                m.weight.mul_(target / rms)
                m.bias.mul_(target / rms)


def build(dnnlib, spec: dict):
    """(G, D, G_ema) as NVIDIA's training loop holds them after some training."""
    torch.manual_seed(spec["seed"])
    gen = torch.Generator().manual_seed(spec["seed"])
    G = dnnlib.util.construct_class_by_name(class_name=spec["G"], **spec["G_kwargs"], **spec["common"])
    D = dnnlib.util.construct_class_by_name(class_name=spec["D"], **spec["D_kwargs"], **spec["common"])
    G, D = G.train().requires_grad_(False), D.train().requires_grad_(False)
    jiggle(G, gen, 0.2)
    jiggle(D, gen, 0.2)
    settle_emas(G, spec["common"]["c_dim"], gen)
    balance_output(G, spec["common"]["c_dim"], gen)
    G_ema = copy.deepcopy(G).eval()
    jiggle(G, gen, 0.05)  # G drifts away from its running average, as in training
    return G, D, G_ema


def snapshot(spec: dict, G, D, G_ema) -> dict:
    """What training_loop.py pickles: copies in eval mode, no grad, on the CPU."""
    data = dict(training_set_kwargs=dict(class_name="training.dataset.ImageFolderDataset",
                                         path=f"~/datasets/{spec['name']}.zip", use_labels=bool(spec["common"]["c_dim"]),
                                         max_size=1000, xflip=False, resolution=spec["common"]["img_resolution"],
                                         random_seed=0))
    for key, module in (("G", G), ("D", D), ("G_ema", G_ema), ("augment_pipe", None)):
        data[key] = None if module is None else copy.deepcopy(module).eval().requires_grad_(False).cpu()
    return data


def dump_with_placeholder(persistence, data: dict, path: Path) -> dict[str, str]:
    """pickle.dump as the training loop does, each persistent class carrying a placeholder source."""
    saved = {cls: cls._orig_module_src for cls in persistence._decorators}
    real, placeholders = {}, {}
    try:
        for cls in persistence._decorators:
            module = cls.__mro__[1].__module__  # the decorated class's module (the decorator's is persistence)
            real[module] = hashlib.sha256(cls._orig_module_src.encode("utf-8")).hexdigest()
            # One string object per module, as persistence shares it: the pickle memoizes it once.
            cls._orig_module_src = placeholders.setdefault(module, PLACEHOLDER.format(module=module))
        with open(path, "wb") as f:
            pickle.dump(data, f)
    finally:
        for cls, src in saved.items():
            cls._orig_module_src = src
    return real


# ---------------------------------------------------------------- rendering
def case_key(case: dict) -> str:
    """A stable name for a rendered case."""
    key = f"seed{case['seed']}"
    if "cls" in case:
        key += f"_class{case['cls']}"
    key += f"_psi{case['psi']:g}"
    if case.get("cutoff") is not None:
        key += f"_cutoff{case['cutoff']}"
    if "noise_mode" in case:
        key += f"_{case['noise_mode']}"
    if "translate" in case:
        key += f"_tx{case['translate'][0]:g}_ty{case['translate'][1]:g}_rot{case['rotate']:g}"
    if not case.get("force_fp32", True):
        key += "_fp16"
    return key


def render(G, case: dict, make_transform) -> tuple[np.ndarray, np.ndarray, torch.Tensor, torch.Tensor]:
    """(uint8 image, ws, float image, label) exactly as gen_images.py renders one seed."""
    z = torch.from_numpy(np.random.RandomState(case["seed"]).randn(1, G.z_dim))
    label = torch.zeros([1, G.c_dim])
    if G.c_dim:
        label[:, case["cls"]] = 1
    if hasattr(G.synthesis, "input"):
        m = np.linalg.inv(make_transform(case.get("translate", (0.0, 0.0)), case.get("rotate", 0.0)))
        G.synthesis.input.transform.copy_(torch.from_numpy(m))
    kwargs = dict(truncation_psi=case["psi"], truncation_cutoff=case.get("cutoff"))
    with torch.no_grad():
        img = G(z, label, **kwargs, noise_mode=case.get("noise_mode", "const"),
                force_fp32=case.get("force_fp32", True))
        ws = G.mapping(z, label, **kwargs)
    if hasattr(G.synthesis, "input"):
        G.synthesis.input.transform.copy_(torch.eye(3))
    u8 = (img.permute(0, 2, 3, 1) * 127.5 + 128).clamp(0, 255).to(torch.uint8)
    return u8[0].numpy(), ws[0].float().numpy(), img.float(), label


def identity_transform(translate, angle):
    """gen_images.py has no make_transform in stylegan2-ada-pytorch; v2 generators have no input transform."""
    raise AssertionError("a v2 generator has no input transform")


def plain(value):
    """init_kwargs (EasyDicts, tuples) as JSON."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def make_fixture(spec: dict, checkout: Path, out: Path, dnnlib, persistence) -> None:
    """Build, pickle, render and describe one fixture (the checkout already imported)."""
    make_transform = identity_transform
    if spec["checkout"] == "sg3":
        from gen_images import make_transform  # noqa: F811  (NVIDIA's own, as gen_images uses it)
    G, D, G_ema = build(dnnlib, spec)
    pkl = out / f"{spec['name']}.pkl"
    real = dump_with_placeholder(persistence, snapshot(spec, G, D, G_ema), pkl)
    state = {f"G_ema/{k}": v.numpy() for k, v in G_ema.state_dict().items()}
    state.update({f"D/{k}": v.numpy() for k, v in D.state_dict().items()})
    np.savez_compressed(out / f"{spec['name']}.state.npz", **state)
    expected, cases, floats, labels = {}, [], [], []
    for case in spec["cases"]:
        key = case_key(case)
        u8, ws, img, label = render(G_ema, case, make_transform)
        expected[key], expected[f"{key}.ws"] = u8, ws
        floats.append(img)
        labels.append(label)
        cases.append({"key": key, "seed": case["seed"], "class": case.get("cls"), "psi": case["psi"],
                      "truncation_cutoff": case.get("cutoff"), "noise_mode": case.get("noise_mode", "const"),
                      "translate": list(case.get("translate", (0.0, 0.0))), "rotate": case.get("rotate", 0.0),
                      "force_fp32": case.get("force_fp32", True)})
    with torch.no_grad():
        d_img, d_c = torch.cat(floats[:4]), torch.cat(labels[:4])
        expected.update({"D.img": d_img.numpy(), "D.c": d_c.numpy(),
                         "D.logits": D(d_img, d_c, force_fp32=True).numpy()})
    np.savez_compressed(out / f"{spec['name']}.expected.npz", **expected)

    def module_of(name: str) -> str:
        return name.rsplit(".", 1)[0]

    record = {
        "name": spec["name"], "made_with": f"{'NVlabs/stylegan2-ada-pytorch' if spec['checkout'] == 'sg2' else 'NVlabs/stylegan3'}"
                                          f" {commit_of(checkout)}, torch {torch.__version__}, CPU",
        "snapshot_keys": ["training_set_kwargs", "G", "D", "G_ema", "augment_pipe"],
        "G": {"class_name": spec["G"], "module": module_of(spec["G"]),
              "init_kwargs": plain({**spec["G_kwargs"], **spec["common"]})},
        "D": {"class_name": spec["D"], "module": module_of(spec["D"]),
              "init_kwargs": plain({**spec["D_kwargs"], **spec["common"]})},
        "source": {"placeholder_sha256": {m: hashlib.sha256(PLACEHOLDER.format(module=m).encode()).hexdigest()
                                          for m in sorted({module_of(spec["G"]), module_of(spec["D"])})},
                   "checkout_sha256": {m: real[m] for m in sorted({module_of(spec["G"]), module_of(spec["D"])})}},
        "render": "G_ema(z, label, truncation_psi, truncation_cutoff, noise_mode, force_fp32) as gen_images.py: "
                  "z = RandomState(seed).randn(1, z_dim) (float64), label one-hot, "
                  "v3 transform = inv(make_transform(translate, rotate)); uint8 = (img*127.5+128).clamp(0,255)",
        "D_check": "D(D.img, D.c, force_fp32=True) = D.logits (D.img: the first four cases' float images)",
        "tolerance": "uint8 images within 2 levels",
        "cases": cases,
    }
    (out / f"{spec['name']}.json").write_text(json.dumps(record, indent=1) + "\n")
    print(f"{spec['name']}: {pkl.stat().st_size / 1e6:.2f} MB pickle, {len(cases)} cases")


def check_fixture(spec: dict, out: Path, persistence) -> int:
    """Load NAME.pkl with NVIDIA's loader (real source restored) and compare every case; returns mismatches."""
    import importlib

    import legacy

    def restore_source(meta):
        for module in (m for m in MODULE_NAMES if meta.module_src == PLACEHOLDER.format(module=m)):
            meta.module_src = persistence._module_to_src(importlib.import_module(module))
        return meta

    if restore_source not in persistence._import_hooks:
        persistence._import_hooks[:] = [restore_source]
    with open(out / f"{spec['name']}.pkl", "rb") as f:
        G = legacy.load_network_pkl(f)["G_ema"]
    make_transform = identity_transform
    if spec["checkout"] == "sg3":
        from gen_images import make_transform  # noqa: F811
    expected, bad = np.load(out / f"{spec['name']}.expected.npz"), 0
    for case in spec["cases"]:
        u8, ws, _, _ = render(G, case, make_transform)
        key = case_key(case)
        diff = int(np.abs(u8.astype(int) - expected[key]).max())
        bad += diff > 0 or not np.array_equal(ws, expected[f"{key}.ws"])
        if diff:
            print(f"  {spec['name']} {key}: differs by up to {diff} levels")
    print(f"{spec['name']}: {len(spec['cases']) - bad} of {len(spec['cases'])} cases identical from the pickle")
    return bad


MODULE_NAMES = ("training.networks", "training.networks_stylegan2", "training.networks_stylegan3")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sg2", type=Path, required=True, help="a checkout of NVlabs/stylegan2-ada-pytorch")
    ap.add_argument("--sg3", type=Path, required=True, help="a checkout of NVlabs/stylegan3")
    ap.add_argument("--out", type=Path, default=Path("tests/data/nvidia"))
    ap.add_argument("--only", nargs="*", help="fixture names to (re)write")
    ap.add_argument("--check", action="store_true", help="verify the written fixtures with NVIDIA's loader")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(1)  # the same arithmetic order on every machine
    warnings.filterwarnings("ignore")  # their custom-op loaders warn on a CPU; the reference ops are used
    bad = 0
    for checkout in ("sg2", "sg3"):
        dnnlib, persistence = use_checkout(getattr(args, checkout))
        for spec in fixtures(dnnlib.EasyDict):
            if spec["checkout"] == checkout and (not args.only or spec["name"] in args.only):
                if args.check:
                    bad += check_fixture(spec, args.out, persistence)
                else:
                    make_fixture(spec, getattr(args, checkout), args.out, dnnlib, persistence)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
