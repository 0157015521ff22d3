"""StyleGAN3 ('T' and 'R'): parity with images NVIDIA's own code rendered (tests/data/nvidia/, see
/work/plan/fixtures.md), the filtered leaky ReLU against its plain definition, the config's plan and refusals."""
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from stylegan_studio.engine.contract.errors import StudioError
from stylegan_studio.engine.contract.latents import layer_ranges
from stylegan_studio.engine.nets import stylegan3_ops as ops
from stylegan_studio.engine.nets.stylegan3 import Generator, load_nvidia_state
from stylegan_studio.engine.nets.stylegan3_config import Stylegan3Config, Stylegan3ConfigError, \
    config_from_nvidia

DATA = Path(__file__).resolve().parents[1] / "data" / "nvidia"
MODULE = "training.networks_stylegan3"


def _fixture(name: str):
    meta = json.loads((DATA / f"{name}.json").read_text())
    state = np.load(DATA / f"{name}.state.npz")
    expected = np.load(DATA / f"{name}.expected.npz")
    G = Generator(config_from_nvidia(meta["G"]["module"], "Generator", meta["G"]["init_kwargs"])).eval()
    load_nvidia_state(G, {k[len("G_ema/"):]: state[k] for k in state.files if k.startswith("G_ema/")})
    return G.requires_grad_(False), meta["cases"], expected


def _uint8(img: torch.Tensor) -> np.ndarray:
    """As NVIDIA's gen_images.py converts: [−1, 1] → uint8 HWC."""
    return (img * 127.5 + 128).clamp(0, 255).to(torch.uint8)[0].permute(1, 2, 0).numpy()


@pytest.mark.parametrize("name", ["sg3_t", "sg3_r"])
def test_images_match_nvidia(name):
    """Every case (seeds, ψ 1 and 0.7, translate/rotate of the input) within 2 levels of NVIDIA's render."""
    G, cases, expected = _fixture(name)
    textured = 0
    for i, case in enumerate(cases):
        z = torch.from_numpy(np.random.RandomState(case["seed"]).randn(1, G.z_dim)).float()
        w = G.mapping(z)
        ws = G.w_avg.lerp(w.unsqueeze(1).repeat(1, G.num_ws, 1), case["psi"])
        np.testing.assert_allclose(ws[0].numpy(), expected[case["key"] + ".ws"], atol=1e-4)
        G.set_input_transform(*case["translate"], case["rotate"])
        img = G.synthesis(ws)
        want = expected[case["key"]].astype(int)
        assert np.abs(_uint8(img).astype(int) - want).max() <= 2, case["key"]
        if i < len(expected["D.img"]):  # NVIDIA's float images of the first cases: far tighter than 2 levels
            np.testing.assert_allclose(img[0].numpy(), expected["D.img"][i], atol=2e-4)
        textured += want.std() > 5
    assert textured >= len(cases) - 2  # images, not flat fields a comparison could pass blindly


def test_layer_views_take_nvidias_layers_from_the_same_pass_or_stop_there():
    G, _, _ = _fixture("sg3_t")
    layers = G.feature_layers()
    cfg = G.cfg
    assert layers[0] == ("input", cfg.input_size, cfg.input_channels)
    assert [n for n, _, _ in layers[1:]] == [s.name for s in cfg.layers]      # NVIDIA's names, e.g. L0_36_512
    ws = G.mapping(torch.randn(2, G.z_dim)).unsqueeze(1).repeat(1, G.num_ws, 1)
    with torch.no_grad():
        plain = G.synthesis(ws)
        img, rgb = G.synthesis(ws, capture=layers[-1][0])                  # the ToRGB layer: the image, unscaled
        torch.testing.assert_close(img, plain, rtol=0, atol=0)
        torch.testing.assert_close(rgb.float() * cfg.output_scale, plain, rtol=0, atol=0)
        for name, size, ch in (layers[0], layers[3]):
            _, act = G.synthesis(ws, capture=name)
            assert act.shape == (2, ch, size, size)
            torch.testing.assert_close(G.synthesis.features(ws, None, name), act, rtol=0, atol=0)
    with pytest.raises(KeyError, match="no feature layer"):
        G.synthesis.features(ws, None, "b8.conv0")


def test_transform_moves_the_image():
    """A translated input gives a different image (so the transform cases above test something) and resetting
    the transform restores the original."""
    G, _, _ = _fixture("sg3_t")
    torch.manual_seed(0)
    ws = G.mapping(torch.randn(1, G.z_dim)).unsqueeze(1).repeat(1, G.num_ws, 1)
    base = G.synthesis(ws)
    G.set_input_transform(0.25, 0.0, 30.0)
    assert (G.synthesis(ws) - base).abs().max() > 0.05
    G.set_input_transform(0, 0, 0)
    assert torch.equal(G.synthesis.input.transform, torch.eye(3))
    torch.testing.assert_close(G.synthesis(ws), base)


def test_interface():
    """The generator interface (engine/nets/api.py) as a StyleGAN3 model fills it."""
    G, _, _ = _fixture("sg3_r")
    cfg = G.cfg
    assert G.arch == "stylegan3" and G.has_input_transform and G.noise_resolutions == ()
    assert G.num_ws == cfg.num_layers + 2 == len(G.ws_resolutions) == len(G.ws_labels)
    assert G.ws_labels[0] == f"in {cfg.input_size}²" and G.ws_labels[-1] == f"L{cfg.num_layers} 32²"
    names = [n for n, _ in G.named_parameters()] + [n for n, _ in G.named_buffers()]
    for name in names:
        res = G.param_resolution(name)
        if name.startswith("mapping."):
            assert res is None
        else:
            assert res in G.ws_resolutions, name
    # layers sit at their nominal resolution (2 × cutoff, nearest power of two), L5 of this 32² model at 8²,
    # so the paper's coarse / middle ranges are the first and last layers, as for StyleGAN2 at 32²
    assert G.param_resolution("synthesis.L5_52_54.weight") == G.ws_resolutions[6] == 8
    assert G.ws_resolutions == tuple(sorted(G.ws_resolutions)) and G.ws_resolutions[0] == 4
    ranges = layer_ranges(G.ws_resolutions)
    assert ranges["coarse"] == tuple(range(7)) and ranges["middle"] == tuple(range(7, G.num_ws)) and not ranges["fine"]
    assert G.style_weights(0).shape == (4, G.w_dim)
    assert G.style_weights(G.num_ws - 1).shape == (cfg.layers[-1].in_channels, G.w_dim)
    assert G.w_avg is G.mapping.w_avg and G.image_macs() > 0
    with pytest.raises(IndexError):
        G.stored_noise(0)
    ws = torch.zeros(1, G.num_ws, G.w_dim)
    with pytest.raises(ValueError, match="no noise inputs"):
        G.synthesis(ws, noise=[torch.zeros(1, 1, 4, 4)])
    with pytest.raises(StudioError, match="only at its output resolution"):
        G.synthesis(ws, res=16)
    assert G.synthesis(ws, noise=[]).shape == (1, 3, 32, 32)


def test_conditional_mapping_needs_a_class():
    cfg = Stylegan3Config(z_dim=8, c_dim=3, w_dim=8, img_resolution=16, channel_base=64, channel_max=8,
                          num_layers=4)
    G = Generator(cfg).eval()
    assert G.mapping(torch.randn(2, 8), torch.eye(3)[:2]).shape == (2, 8)
    with pytest.raises(StudioError, match="class-conditional"):
        G.mapping(torch.randn(2, 8))
    with pytest.raises(ValueError, match=r"c must be \[2, 3\]"):
        G.mapping(torch.randn(2, 8), torch.eye(4)[:2])
    with pytest.raises(ValueError, match=r"z must be \[N, 8\]"):
        G.mapping(torch.randn(2, 7), torch.eye(3)[:2])


# ---- the filtered leaky ReLU against its definition ---------------------------------------------------------------
def _naive_upfirdn(x, f, up, down, pad, gain):
    """Zero insertion, padding (negative crops), true convolution with f (1-D: separably), every down-th sample."""
    n, c, h, w = x.shape
    z = x.new_zeros([n, c, h * up, w * up])
    z[:, :, ::up, ::up] = x
    z = F.pad(z, list(pad))
    f = f * gain ** (f.ndim / 2)
    k = f.flip(list(range(f.ndim)))
    if f.ndim == 2:
        y = F.conv2d(z, k[None, None].repeat(c, 1, 1, 1), groups=c)
    else:
        y = F.conv2d(z, k[None, None, None].repeat(c, 1, 1, 1), groups=c)
        y = F.conv2d(y, k[None, None, :, None].repeat(c, 1, 1, 1), groups=c)
    return y[:, :, ::down, ::down]


@pytest.mark.parametrize("up,down,pad,radial", [(2, 2, (11, 10, 11, 10), False), (2, 1, (13, 7, 5, 9), False),
                                                (4, 2, (-3, 20, 2, 0), False), (2, 2, (9, 12, 11, 10), True),
                                                (1, 2, (0, 0, 0, 0), True)])
def test_filtered_lrelu_matches_definition(up, down, pad, radial):
    torch.manual_seed(up * 10 + down)
    x = torch.randn(2, 5, 19, 23)
    b = torch.randn(5)
    fu = torch.randn(6 * up) if up > 1 else None
    fd = (torch.randn(12, 12) if radial else torch.randn(6 * down)) if down > 1 else None
    got = ops.filtered_lrelu(x, fu, fd, b, up, down, pad, math.sqrt(2), 0.2, 1.5)
    y = x + b.reshape(1, -1, 1, 1)
    y = _naive_upfirdn(y, fu, up, 1, pad, up * up) if fu is not None else F.pad(y, list(pad))
    y = (F.leaky_relu(y, 0.2) * math.sqrt(2)).clamp(-1.5, 1.5)
    want = _naive_upfirdn(y, fd, 1, down, (0, 0, 0, 0), 1) if fd is not None else y[:, :, ::down, ::down]
    assert got.shape == want.shape
    torch.testing.assert_close(got, want, atol=2e-5, rtol=1e-4)


def test_filtered_lrelu_chunks_agree(monkeypatch):
    """Processing a few channels at a time gives the same result as all at once."""
    torch.manual_seed(1)
    x, b, fu, fd = torch.randn(3, 7, 16, 16), torch.randn(7), torch.randn(12), torch.randn(12)
    whole = ops.filtered_lrelu(x, fu, fd, b, 2, 2, (11, 10, 11, 10), 1.4, 0.2, None)
    monkeypatch.setattr(ops, "CHUNK_VALUES", 2000)
    chunked = ops.filtered_lrelu(x, fu, fd, b, 2, 2, (11, 10, 11, 10), 1.4, 0.2, None)
    torch.testing.assert_close(chunked, whole, atol=1e-4, rtol=1e-4)  # convolutions may sum in another order


def test_modulated_conv_fused_equals_unfused():
    torch.manual_seed(2)
    x, w, s = torch.randn(3, 6, 9, 9), torch.randn(4, 6, 3, 3), torch.randn(3, 6)
    for demod in (True, False):
        a = ops.modulated_conv2d(x, w, s, demod, 2, torch.tensor(0.7), fused=True)
        b = ops.modulated_conv2d(x, w, s, demod, 2, torch.tensor(0.7), fused=False)
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)


def test_new_model_filters_match_the_stored_ones():
    """Our filter design (for new models) reproduces the filters in NVIDIA's files, 'T' and radial 'R'."""
    for name in ("sg3_t", "sg3_r"):
        G, _, _ = _fixture(name)
        fresh = Generator(G.cfg)
        stored = dict(G.named_buffers())
        for key, buf in fresh.named_buffers():
            if key.endswith(("up_filter", "down_filter")):
                torch.testing.assert_close(buf, stored[key], atol=1e-6, rtol=1e-4)


# ---- config --------------------------------------------------------------------------------------------------------
def test_plan_of_a_256_model_is_nvidias():
    """Layer names of a 256² 'T' model (channel_base 32768), as NVIDIA's SynthesisNetwork lays them out."""
    cfg = Stylegan3Config(img_resolution=256)
    assert [s.name for s in cfg.layers] == [
        "L0_36_512", "L1_36_512", "L2_36_512", "L3_52_512", "L4_52_512", "L5_84_512", "L6_84_512", "L7_148_512",
        "L8_148_512", "L9_148_362", "L10_276_256", "L11_276_181", "L12_276_128", "L13_256_128", "L14_256_3"]
    assert cfg.input_size == 36 and cfg.num_ws == 16


def test_config_round_trip_and_refusals():
    cfg = config_from_nvidia(MODULE, "Generator", dict(
        z_dim=512, w_dim=512, c_dim=0, img_resolution=1024, img_channels=3, channel_base=65536, channel_max=1024,
        conv_kernel=1, use_radial_filters=True, magnitude_ema_beta=0.5 ** (32 / 20000),
        mapping_kwargs=dict(num_layers=2)))
    assert Stylegan3Config.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg
    assert cfg.layers[-1].name == "L14_1024_3" and cfg.layers[3].down_radial
    bad = [({"fmap_base": 3}, "unknown"), ({"channel_max": 10 ** 7}, "channel_max"),
           ({"img_resolution": 1000}, "power of two"), ({"first_cutoff": float("nan")}, "first_cutoff"),
           ({"use_radial_filters": 1}, "true or false"), ({"num_critical": 14}, "num_critical"),
           ({"channel_base": 1 << 20, "channel_max": 4096}, "beyond"), ({"z_dim": "512"}, "number")]
    for change, words in bad:
        with pytest.raises(Stylegan3ConfigError, match=words):
            Stylegan3Config.from_dict({**cfg.to_dict(), **change})


@pytest.mark.parametrize("kwargs,words", [
    ({"channels_last": True}, "Generator.channels_last"),
    ({"mapping_kwargs": {"num_layers": 2, "embed_features": 8}}, "mapping_kwargs.embed_features"),
    ({"use_radial_filters": "yes"}, "use_radial_filters"),
    ({"conv_clamp": "big"}, "conv_clamp")])
def test_nvidia_kwargs_we_do_not_implement_are_named(kwargs, words):
    base = dict(z_dim=32, w_dim=32, c_dim=0, img_resolution=32, img_channels=3, channel_base=512, channel_max=64)
    with pytest.raises(Stylegan3ConfigError, match=words) as err:
        config_from_nvidia(MODULE, "Generator", {**base, **kwargs})
    assert "\n" not in str(err.value)
    with pytest.raises(Stylegan3ConfigError, match="not a StyleGAN3 network"):
        config_from_nvidia("training.networks_stylegan2", "Generator", base)


def test_load_reports_missing_unexpected_and_shapes_in_one_line():
    G, _, _ = _fixture("sg3_t")
    state = {k: v.numpy() for k, v in G.state_dict().items()}
    broken = dict(state)
    del broken["synthesis.L2_36_32.up_filter"]
    broken["synthesis.L2_36_32.noise_const"] = np.zeros(3, np.float32)
    with pytest.raises(Stylegan3ConfigError, match="1 missing .*L2_36_32.up_filter.*1 unexpected") as err:
        load_nvidia_state(G, broken)
    assert "\n" not in str(err.value)
    with pytest.raises(Stylegan3ConfigError, match="shape"):
        load_nvidia_state(G, {**state, "mapping.fc0.weight": np.zeros((2, 2), np.float32)})


def test_a_stylegan3_model_file_opens_through_the_registry_and_renders(tmp_path):
    # The registration in engine/nets/registry.py: the sg3_t fixture's G saves as a model file, opens as v3,
    # renders through the interface (the same pixels as before saving), lists its layers and is refused as
    # a fine-tuning start (no v3 trainer).
    from stylegan_studio.engine.contract.errors import UserError
    from stylegan_studio.engine.contract.latents import Latent, RenderSettings
    from stylegan_studio.engine.contract.requests import RenderImage
    from stylegan_studio.engine.files.modelfile import load_model, save_model
    from stylegan_studio.engine.nets import registry
    from stylegan_studio.engine.nets.api import GeneratorNet, feature_layers
    from stylegan_studio.engine.render.exports import image
    from stylegan_studio.engine.train.warmstart import read_init

    G, _, _ = _fixture("sg3_t")
    path = tmp_path / "v3.safetensors"
    meta = save_model(G, path)
    H, loaded = load_model(path)
    assert type(H) is Generator and isinstance(H, GeneratorNet) and H.arch == "stylegan3"
    assert H.cfg == G.cfg and loaded.model_id == meta.model_id and registry.arch_of(G.cfg) == "stylegan3"
    req = RenderImage(latent=Latent(seed=1), settings=RenderSettings(psi=0.7))
    np.testing.assert_array_equal(image(H, req), image(G, req))
    assert image(H, req).shape == (32, 32, 3) and feature_layers(H) == feature_layers(G) != ()
    assert not registry.can_train("stylegan3")
    with pytest.raises(UserError, match="StyleGAN3 model: fine-tuning it with train --init is not supported yet"):
        read_init(path)
