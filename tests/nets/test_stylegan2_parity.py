"""Our StyleGAN2 against NVIDIA's own code: the fixtures in tests/data/nvidia/ were rendered by stylegan2-ada-pytorch
and stylegan3 (tests/tools/make_nvidia_fixtures.py; see its docstring for the file layout). Images within 2 levels
of 255 as gen_images.py converts them, ws (mapping + truncation with cutoff) and D scores within float tolerance.
"""
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from stylegan_studio.engine.nets.stylegan2 import Discriminator, Generator, load_nvidia_state
from stylegan_studio.engine.nets.stylegan2_config import config_from_nvidia, with_discriminator
from stylegan_studio.engine.render.synth import truncate

DATA = Path(__file__).parents[1] / "data" / "nvidia"
V2_FIXTURES = ("sg2ada_uncond", "sg2ada_cond", "sg3_stylegan2", "sg2ada_resnet", "sg3_stylegan2_orig")


def load(name: str):
    """(record, G, D, expected) of one fixture, built from NVIDIA's kwargs and loaded from NVIDIA's state."""
    record = json.loads((DATA / f"{name}.json").read_text())
    g, d = record["G"], record["D"]
    cfg = config_from_nvidia(g["module"], g["class_name"].rsplit(".", 1)[1], g["init_kwargs"])
    cfg = with_discriminator(cfg, d["module"], d["init_kwargs"])
    state = np.load(DATA / f"{name}.state.npz")
    G, D = Generator(cfg).eval(), Discriminator(cfg).eval()
    for net, prefix in ((G, "G_ema/"), (D, "D/")):
        load_nvidia_state(net, {k[len(prefix):]: state[k] for k in state.files if k.startswith(prefix)})
    return record, G, D, np.load(DATA / f"{name}.expected.npz")


def ws_of(G: Generator, case: dict) -> torch.Tensor:
    """ws as the studio makes them: mapping, broadcast, then the render path's truncation with cutoff."""
    z = torch.from_numpy(np.random.RandomState(case["seed"]).randn(1, G.z_dim))
    c = None
    if G.c_dim:
        c = torch.zeros(1, G.c_dim)
        c[0, case["class"]] = 1
    w = G.mapping(z, c)
    return truncate(w.unsqueeze(1).repeat(1, G.num_ws, 1), G.w_avg, case["psi"], case["truncation_cutoff"])


def uint8(img: torch.Tensor) -> np.ndarray:
    """gen_images.py's conversion."""
    return (img.permute(0, 2, 3, 1) * 127.5 + 128).clamp(0, 255).to(torch.uint8)[0].numpy()


@pytest.mark.parametrize("name", V2_FIXTURES)
def test_images_and_ws_match_nvidia(name):
    record, G, _, expected = load(name)
    cases = record["cases"]
    assert len(cases) >= 8 and {c["noise_mode"] for c in cases} == {"const", "none"}
    with torch.no_grad():
        for case in cases:
            ws = ws_of(G, case)
            assert torch.allclose(ws[0], torch.from_numpy(expected[case["key"] + ".ws"]), atol=1e-5), case["key"]
            # const: every layer's stored noise_const; none: noise off (one None per noise input)
            noise = None if case["noise_mode"] == "const" else [None] * len(G.noise_resolutions)
            img = uint8(G.synthesis(ws, noise)).astype(int)
            diff = np.abs(img - expected[case["key"]].astype(int)).max()
            assert diff <= 2, f"{name} {case['key']}: {diff} levels off NVIDIA's image"


def test_the_fixtures_cover_what_we_claim():
    # Across the fixtures: both repositories, every G and D architecture, truncation with a cutoff, classes,
    # fp16-marked layers (some rendered by NVIDIA in fp16 on the CPU, which we render in fp32), no noise inputs.
    seen = {"module": set(), "G arch": set(), "D arch": set()}
    cutoff = classes = fp16 = noiseless = 0
    for name in V2_FIXTURES:
        _, G, D, _ = load(name)
        record = json.loads((DATA / f"{name}.json").read_text())
        seen["module"].add(record["G"]["module"])
        seen["G arch"].add(G.cfg.architecture)
        seen["D arch"].add(G.cfg.d_architecture)
        cutoff += sum(c["truncation_cutoff"] is not None for c in record["cases"])
        classes += G.c_dim > 0
        fp16 += sum(not c["force_fp32"] for c in record["cases"]) and any(
            getattr(G.synthesis, f"b{r}").use_fp16 for r in G.cfg.block_resolutions)
        noiseless += not G.noise_resolutions
    assert seen == {"module": {"training.networks", "training.networks_stylegan2"},
                    "G arch": {"skip", "resnet", "orig"}, "D arch": {"resnet", "skip", "orig"}}
    assert cutoff and classes >= 2 and fp16 and noiseless


def test_class_changes_the_image_as_nvidia_does():
    record, G, _, expected = load("sg2ada_cond")
    keys = [c["key"] for c in record["cases"] if c["seed"] == 0 and c["psi"] == 1.0 and c["noise_mode"] == "const"]
    assert len({expected[k].tobytes() for k in keys}) == G.c_dim  # four classes, four different images


@pytest.mark.parametrize("name", V2_FIXTURES)
def test_discriminator_scores_match_nvidia(name):
    _, _, D, expected = load(name)
    img, c = torch.from_numpy(expected["D.img"]), torch.from_numpy(expected["D.c"])
    with torch.no_grad():
        logits = D(img, c if D.c_dim else None)
    want = torch.from_numpy(expected["D.logits"]).reshape(logits.shape)
    assert torch.allclose(logits, want, rtol=1e-4, atol=1e-4), (logits.flatten(), want.flatten())


def test_fp16_path_matches_nvidia_fp16_render(monkeypatch):
    # NVIDIA rendered the *_fp16 cases with force_fp32=False, i.e. its fp16 arithmetic, on the CPU. Our fp16 path
    # normally runs only on CUDA; allowing it on the CPU here checks that arithmetic (pre-normalised modulation,
    # fp16 activations, fp32 skip image) without a GPU.
    from stylegan_studio.engine.nets import stylegan2
    record, G, _, expected = load("sg2ada_uncond")
    monkeypatch.setattr(stylegan2, "_fp16", lambda x, use_fp16, force_fp32: torch.float16 if use_fp16
                        else torch.float32)
    cases = [c for c in record["cases"] if not c["force_fp32"]]
    assert cases
    seen = []
    G.synthesis.b32.conv1.register_forward_hook(lambda m, i, out: seen.append(out.dtype))
    G.synthesis.b4.conv1.register_forward_hook(lambda m, i, out: seen.append(out.dtype))
    with torch.no_grad():
        for case in cases:
            img = G.synthesis(ws_of(G, case))
            assert img.dtype == torch.float32
            diff = np.abs(uint8(img).astype(int) - expected[case["key"]].astype(int)).max()
            assert diff <= 2, f"{case['key']}: {diff} levels off NVIDIA's fp16 image"
    assert set(seen) == {torch.float16, torch.float32}  # 32² marked fp16, 4² not
