"""StyleGAN2 networks: config checks, NVIDIA's state names, FIR resampling, previews, fp16-marked layers on a CPU.

Parity with NVIDIA's own code (images and D scores of their fixtures) is in test_stylegan2_parity.py.
"""
import json
import math

import numpy as np
import pytest
import torch

from stylegan_studio.engine.contract.errors import StudioError
from stylegan_studio.engine.nets.stylegan2 import Discriminator, Generator, load_nvidia_state
from stylegan_studio.engine.nets.stylegan2_config import (Stylegan2Config, Stylegan2ConfigError, config_from_nvidia,
                                                          with_discriminator)
from stylegan_studio.engine.nets.stylegan2_ops import (downsample2d, fir_filter, modulated_conv2d, upfirdn2d,
                                                       upsample2d)

ADA, SG3 = "training.networks", "training.networks_stylegan2"


def tiny(**kw) -> Stylegan2Config:
    base = dict(z_dim=16, w_dim=16, img_resolution=32, mapping_layers=2, channel_base=512, channel_max=32,
                d_channel_base=512, d_channel_max=32)
    base.update(kw)
    return Stylegan2Config(**base)


def ada_kwargs(**syn) -> dict:
    return dict(z_dim=16, c_dim=0, w_dim=16, img_resolution=32, img_channels=3, mapping_kwargs={"num_layers": 2},
                synthesis_kwargs={"channel_base": 512, "channel_max": 32, **syn})


def randomised(net: torch.nn.Module, seed: int = 0) -> torch.nn.Module:
    """Every parameter and buffer random (zero-initialised biases and noise strengths would hide mistakes)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, t in net.state_dict().items():
            if "resample_filter" not in name:
                t.copy_(torch.randn(t.shape, generator=gen) * (0.3 if name.endswith(("bias", "strength")) else 1))
    return net.eval()


# ---- config ------------------------------------------------------------------------------------------------------
def test_config_round_trips_through_json():
    cfg = tiny(c_dim=3, conv_clamp=256.0, architecture="resnet", use_noise=False, resample_filter=(1, 2, 1))
    again = Stylegan2Config.from_dict(json.loads(json.dumps(cfg.to_dict())))
    assert again == cfg


@pytest.mark.parametrize("data, words", [
    ({"bogus": 1}, "unknown StyleGAN2 config keys: bogus"),
    ({"channel_max": 1 << 20}, "channel_max must be an integer from 1 to 4096"),
    ({"img_resolution": 96}, "img_resolution must be a power of two"),
    ({"img_resolution": 1 << 20}, "img_resolution must be a power of two"),
    ({"z_dim": float("nan")}, "z_dim must be a finite number"),
    ({"z_dim": 1.5}, "z_dim must be a whole number"),
    ({"use_noise": 1}, "use_noise must be true or false"),
    ({"architecture": "cascade"}, "architecture must be one of orig, skip, resnet"),
    ({"resample_filter": [0, 0]}, "resample_filter must be 1 to 16 finite taps"),
    ({"resample_filter": "1331"}, "resample_filter must be a list"),
    ({"w_avg_beta": 2}, "w_avg_beta must be from 0 to 1"),
    ({"z_dim": 4096, "w_dim": 4096, "mapping_layers": 64, "channel_max": 4096, "channel_base": 1 << 20},
     "parameters is beyond"),
])
def test_bad_config_refused_in_one_line(data, words):
    with pytest.raises(StudioError) as err:
        Stylegan2Config.from_dict(data)
    assert words in str(err.value) and "\n" not in str(err.value)


def test_config_from_nvidia_reads_both_repositories():
    ada = config_from_nvidia(ADA, "Generator", ada_kwargs(num_fp16_res=2, conv_clamp=256))
    assert (ada.num_fp16_res, ada.conv_clamp, ada.w_avg_beta, ada.architecture) == (2, 256.0, 0.995, "skip")
    flat = dict(ada_kwargs(), **ada_kwargs()["synthesis_kwargs"])
    del flat["synthesis_kwargs"]
    sg3 = config_from_nvidia(SG3, "Generator", dict(flat, fused_modconv_default="inference_only"))
    # stylegan3's networks_stylegan2 defaults: fp16 on the 4 highest resolutions, clamp 256, beta 0.998
    assert (sg3.num_fp16_res, sg3.conv_clamp, sg3.w_avg_beta) == (4, 256.0, 0.998)
    both = with_discriminator(ada, ADA, dict(c_dim=0, img_resolution=32, img_channels=3, channel_base=512,
                                             channel_max=32, architecture="orig",
                                             epilogue_kwargs={"mbstd_group_size": None}))
    assert (both.d_architecture, both.d_mbstd_group_size, both.d_channel_max) == ("orig", 0, 32)


@pytest.mark.parametrize("module, cls, kwargs, words", [
    (ADA, "Generator", ada_kwargs(architecture="cascade"),
     "synthesis_kwargs.architecture = 'cascade' is not implemented"),
    (ADA, "Generator", ada_kwargs(activation="relu"), "synthesis_kwargs.activation = 'relu' is not implemented"),
    (ADA, "Generator", ada_kwargs(frobnicate=3), "kwargs we do not implement: synthesis_kwargs.frobnicate"),
    (ADA, "Generator", dict(ada_kwargs(), magnitude_ema_beta=0.5), "Generator.magnitude_ema_beta"),
    (ADA, "Generator", dict(ada_kwargs(), mapping_kwargs={"w_avg_beta": None}), "w_avg_beta = None"),
    (ADA, "Generator", ada_kwargs(channel_max=1 << 30), "channel_max must be an integer from 1 to 4096"),
    (ADA, "Generator", "not a dict", "must be a dict of keyword arguments"),
    ("training.networks_stylegan3", "Generator", ada_kwargs(), "is not a StyleGAN2 network we implement"),
    (ADA, "MappingNetwork", ada_kwargs(), "is not a StyleGAN2 network we implement"),
])
def test_nvidia_kwargs_we_do_not_implement_refused_in_one_line(module, cls, kwargs, words):
    with pytest.raises(Stylegan2ConfigError) as err:
        config_from_nvidia(module, cls, kwargs)
    assert words in str(err.value) and "\n" not in str(err.value)


def test_discriminator_kwargs_must_match_the_generator():
    g = config_from_nvidia(ADA, "Generator", ada_kwargs())
    with pytest.raises(Stylegan2ConfigError, match="img_resolution = 64 does not match the generator's 32"):
        with_discriminator(g, ADA, dict(c_dim=0, img_resolution=64, img_channels=3))


# ---- interface and state names -----------------------------------------------------------------------------------
def test_interface_attributes_and_nvidia_key_names():
    G = Generator(tiny(c_dim=4))
    assert (G.arch, G.num_ws, G.z_dim, G.c_dim, G.has_input_transform) == ("stylegan2", 8, 16, 4, False)
    assert G.ws_resolutions == (4, 4, 8, 8, 16, 16, 32, 32)
    assert G.ws_labels[2] == "8²"
    assert G.noise_resolutions == (4, 8, 8, 16, 16, 32, 32)
    assert G.stored_noise(3).shape == (1, 1, 16, 16)
    assert G.w_avg.shape == (16,)
    keys = set(G.state_dict())
    for key in ("mapping.w_avg", "mapping.embed.weight", "mapping.fc1.bias", "synthesis.b4.const",
                "synthesis.b4.resample_filter", "synthesis.b4.conv1.noise_const", "synthesis.b8.conv0.affine.weight",
                "synthesis.b8.conv0.noise_strength", "synthesis.b32.torgb.weight",
                "synthesis.b16.conv1.resample_filter"):
        assert key in keys
    assert G.param_resolution("synthesis.b16.conv0.weight") == 16
    assert G.param_resolution("mapping.fc0.weight") is None
    D = Discriminator(tiny(c_dim=4))
    for key in ("b32.fromrgb.weight", "b32.skip.weight", "b8.conv1.resample_filter", "b4.conv.weight",
                "b4.fc.weight", "b4.out.weight", "mapping.embed.weight", "mapping.fc0.weight"):
        assert key in D.state_dict()
    assert "b16.fromrgb.weight" not in D.state_dict()  # resnet: FromRGB only at the input


def test_load_nvidia_state_checks_every_key_and_shape():
    G = Generator(tiny())
    state = {k: v.numpy().copy() for k, v in randomised(Generator(tiny()), 1).state_dict().items()}
    load_nvidia_state(G, state)
    assert torch.equal(G.synthesis.b8.conv0.weight, torch.from_numpy(state["synthesis.b8.conv0.weight"]))
    bad = dict(state, **{"synthesis.b8.extra": np.zeros(1, np.float32)})
    del bad["mapping.w_avg"]
    with pytest.raises(Stylegan2ConfigError, match=r"1 missing \(mapping.w_avg\); 1 unexpected \(synthesis.b8.extra\)"):
        load_nvidia_state(G, bad)
    with pytest.raises(Stylegan2ConfigError, match=r"synthesis.b4.const has shape \[1\], the architecture needs"):
        load_nvidia_state(G, dict(state, **{"synthesis.b4.const": np.zeros(1, np.float32)}))
    with pytest.raises(Stylegan2ConfigError, match=r"mapping.w_avg is object, not floating point"):
        load_nvidia_state(G, dict(state, **{"mapping.w_avg": np.array([None] * 16)}))


def test_class_given_or_missing_is_one_line():
    with pytest.raises(StudioError, match="class-conditional"):
        Generator(tiny(c_dim=3)).mapping(torch.randn(1, 16))
    G = Generator(tiny())
    with pytest.raises(ValueError, match="unconditional"):
        G.mapping(torch.randn(1, 16), torch.ones(1, 3))
    assert G.mapping(torch.randn(2, 16), torch.zeros(2, 0)).shape == (2, 16)  # NVIDIA's empty label


def test_style_weights_and_macs():
    G = randomised(Generator(tiny()))
    w = torch.randn(1, 16)
    # ws 1 feeds b4's ToRGB (its styles scaled by 1/sqrt(channels)) and b8's first convolution
    rgb, conv = G.synthesis.b4.torgb, G.synthesis.b8.conv0
    styles = torch.cat([rgb.affine(w) * rgb.weight_gain, conv.affine(w)], dim=1)
    biases = torch.cat([rgb.affine.bias * rgb.weight_gain, conv.affine.bias])
    assert torch.allclose(w @ G.style_weights(1).t(), styles - biases, atol=1e-5)
    assert [G.style_weights(i).shape[0] for i in (0, 7)] == [32, 16]  # b4.conv1; the 32² ToRGB (16 channels)
    assert G.image_macs(8) < G.image_macs(16) < G.image_macs()
    with pytest.raises(TypeError, match="no input transform"):
        G.set_input_transform(0.1, 0.0, 0.0)


# ---- the maths ---------------------------------------------------------------------------------------------------
def test_fir_filter_is_normalised_and_shaped_like_nvidia():
    assert fir_filter([1, 3, 3, 1]).shape == (4, 4)
    assert fir_filter(list(range(1, 9))).shape == (8,)  # 8+ taps stay separable
    assert math.isclose(float(fir_filter([1, 3, 3, 1]).sum()), 1.0, rel_tol=1e-6)


@pytest.mark.parametrize("taps", [[1, 3, 3, 1], [1, 2, 1], [1] * 8])
def test_resampling_keeps_a_constant_and_the_size(taps):
    f = fir_filter(taps)
    x = torch.full([1, 2, 16, 16], 2.5)
    up, down = upsample2d(x, f), downsample2d(x, f)
    assert up.shape == (1, 2, 32, 32) and down.shape == (1, 2, 8, 8)
    assert torch.allclose(up[:, :, 8:-8, 8:-8], torch.tensor(2.5))
    assert torch.allclose(down[:, :, 3:-3, 3:-3], torch.tensor(2.5))


def test_upfirdn2d_is_a_true_convolution():
    # An impulse through an asymmetric filter comes out as the filter itself, not mirrored.
    x = torch.zeros(1, 1, 5, 5)
    x[0, 0, 2, 2] = 1
    f = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    y = upfirdn2d(x, f, pad=(1, 0, 1, 0))
    assert torch.equal(y[0, 0, 2:4, 2:4], f)


def test_fused_and_split_modulated_convolution_agree():
    gen = torch.Generator().manual_seed(0)
    x, wt = torch.randn(3, 4, 6, 6, generator=gen), torch.randn(5, 4, 3, 3, generator=gen)
    s, f = torch.randn(3, 4, generator=gen), fir_filter([1, 3, 3, 1])
    for up in (False, True):
        a = modulated_conv2d(x, wt, s, up=up, f=f, fused=True)
        b = modulated_conv2d(x, wt, s, up=up, f=f, fused=False)
        assert a.shape == (3, 5, 12 if up else 6, 12 if up else 6)
        assert torch.allclose(a, b, atol=1e-5)
        # demodulated: every output map has unit expected weight norm, whatever the style's scale
        c = modulated_conv2d(x, wt, s * 7, up=up, f=f)
        assert torch.allclose(a, c, atol=1e-4)


def test_preview_is_the_skip_image_so_far():
    G = randomised(Generator(tiny()))
    ws = torch.randn(2, G.num_ws, 16)
    with torch.no_grad():
        low = G.synthesis(ws, res=16)
        assert low.shape == (2, 3, 16, 16)
        # With the 32² ToRGB silenced, the full image is exactly the upsampled 16² preview.
        G.synthesis.b32.torgb.weight.zero_()
        G.synthesis.b32.torgb.bias.zero_()
        full = G.synthesis(ws)
    assert torch.allclose(full, upsample2d(low, G.synthesis.b32.resample_filter), atol=1e-5)
    assert Generator(tiny(architecture="resnet")).output_resolutions == (32,)
    with pytest.raises(StudioError, match="stops early only at"):
        Generator(tiny(architecture="orig")).synthesis(ws, res=16)


@pytest.mark.parametrize("arch", ["skip", "resnet"])
def test_layer_views_take_a_layers_output_from_the_same_pass_or_stop_there(arch):
    G = randomised(Generator(tiny(architecture=arch)))
    layers = {name: (r, ch) for name, r, ch in G.feature_layers()}
    torgbs = [n for n in layers if n.endswith("torgb")]
    assert list(layers)[:2] == ["4x4/conv1", "4x4/torgb" if arch == "skip" else "8x8/conv0"]
    assert torgbs == ([f"{r}x{r}/torgb" for r in (4, 8, 16, 32)] if arch == "skip" else ["32x32/torgb"])
    ws = torch.randn(2, G.num_ws, 16)
    ran = []
    G.synthesis.b32.register_forward_hook(lambda *_: ran.append(32))
    with torch.no_grad():
        plain = G.synthesis(ws)
        for name, (r, ch) in layers.items():
            img, act = G.synthesis(ws, capture=name)
            assert act.shape == (2, ch, r, r) and torch.equal(img, plain)
            assert torch.equal(G.synthesis.features(ws, None, name), act)
        ran.clear()
        G.synthesis.features(ws, None, "16x16/conv1")
        assert not ran                                              # the pass ended at the layer
        if arch == "skip":  # an independent check: the image is the 16² skip image upsampled plus 32²'s ToRGB
            _, top = G.synthesis(ws, capture="32x32/torgb")
            low = G.synthesis(ws, res=16)
            torch.testing.assert_close(plain, upsample2d(low, G.synthesis.b32.resample_filter) + top)


def test_fp16_marked_layers_render_in_fp32_on_a_cpu():
    marked = randomised(Generator(tiny(num_fp16_res=3, conv_clamp=256.0)))
    plain = Generator(tiny(conv_clamp=256.0)).eval()
    plain.load_state_dict(marked.state_dict())
    assert marked.synthesis.b32.use_fp16 and not plain.synthesis.b32.use_fp16
    ws = torch.randn(2, marked.num_ws, 16)
    with torch.no_grad():
        a, b = marked.synthesis(ws), plain.synthesis(ws)
    assert a.dtype == torch.float32 and torch.equal(a, b)


def test_noise_inputs_follow_the_interface():
    G = randomised(Generator(tiny()))
    ws = torch.randn(1, G.num_ws, 16)
    n = len(G.noise_resolutions)
    with torch.no_grad():
        stored = G.synthesis(ws)
        explicit = G.synthesis(ws, [G.stored_noise(i) for i in range(n)])
        off = G.synthesis(ws, [None] * n)
        one_off = G.synthesis(ws, [G.stored_noise(i) if i else None for i in range(n)])
    assert torch.equal(stored, explicit)
    assert not torch.allclose(stored, off) and not torch.allclose(stored, one_off)
    with pytest.raises(ValueError, match="takes 7 noise inputs"):
        G.synthesis(ws, [None])


def test_w_avg_tracks_the_mapping_output():
    G = randomised(Generator(tiny(w_avg_beta=0.5)))
    G.mapping.w_avg.zero_()
    z = torch.randn(8, 16)
    w = G.mapping(z)
    G.update_w_avg(w)
    assert torch.allclose(G.w_avg, 0.5 * w.mean(dim=0).detach(), atol=1e-6)


@pytest.mark.parametrize("arch", ["resnet", "orig", "skip"])
def test_discriminator_scores_each_architecture(arch):
    cfg = tiny(d_architecture=arch, c_dim=2, d_mbstd_group_size=2)
    D = randomised(Discriminator(cfg))
    c = torch.eye(2)[[0, 1, 0, 1]]
    out = D(torch.randn(4, 3, 32, 32), c)
    assert out.shape == (4, 1) and torch.isfinite(out).all()


@pytest.mark.parametrize("f", [torch.tensor([[1.0, 2.0, 0.5], [3.0, 4.0, 0.0], [1.0, 0.0, 2.0], [0.5, 1.0, 1.0]]),
                               torch.tensor([1.0, 2.0, 3.0, 0.5, 0.0, 1.0, 2.0, 1.0])])
@pytest.mark.parametrize("channels", [3, 6])
def test_polyphase_upsampling_equals_zero_insertion(f, channels):
    # The definition: insert zeros, pad, convolve (flipped filter for conv2d's correlation), one axis at a time
    # for a 1-D filter.
    x = torch.randn(2, channels, 5, 7)
    pad = (3, 1, 2, 4)
    z = torch.zeros(2, channels, 10, 14)
    z[:, :, ::2, ::2] = x
    z = torch.nn.functional.pad(z, list(pad))
    k2 = f if f.ndim == 2 else torch.outer(f, f)
    ref = torch.nn.functional.conv2d(z, (k2 * 4).flip([0, 1])[None, None].expand(channels, 1, -1, -1),
                                     groups=channels)
    assert torch.allclose(upfirdn2d(x, f, up=2, pad=pad, gain=4), ref, atol=1e-5)


def test_kwargs_of_converted_tensorflow_pickles_are_read():
    # What legacy.py writes for NVIDIA's original StyleGAN2 pickles: every kwarg spelled out; the conditional
    # D's class mapping has no layers (an embedding only) and names its widths.
    g = dict(z_dim=512, c_dim=10, w_dim=512, img_resolution=64, img_channels=3,
             mapping_kwargs=dict(num_layers=8, embed_features=None, layer_features=None, activation="lrelu",
                                 lr_multiplier=0.01, w_avg_beta=0.995),
             synthesis_kwargs=dict(channel_base=32768, channel_max=512, num_fp16_res=4, conv_clamp=256,
                                   architecture="skip", resample_filter=[1, 3, 3, 1], use_noise=True,
                                   activation="lrelu"))
    d = dict(c_dim=10, img_resolution=64, img_channels=3, architecture="resnet", channel_base=32768, channel_max=512,
             num_fp16_res=4, conv_clamp=256, cmap_dim=128,
             block_kwargs=dict(activation="lrelu", resample_filter=[1, 3, 3, 1], freeze_layers=0),
             mapping_kwargs=dict(num_layers=0, embed_features=128, layer_features=128, activation="lrelu",
                                 lr_multiplier=0.1),
             epilogue_kwargs=dict(mbstd_group_size=None, mbstd_num_channels=1, activation="lrelu"))
    cfg = with_discriminator(config_from_nvidia(ADA, "Generator", g), ADA, d)
    assert (cfg.d_mapping_layers, cfg.cmap_dim, cfg.d_mapping_lr_mul, cfg.d_mbstd_group_size) == (0, 128, 0.1, 0)
    D = Discriminator(cfg)
    assert not any(k.startswith("mapping.fc") for k in D.state_dict()) and "mapping.embed.weight" in D.state_dict()
    assert D(torch.randn(2, 3, 64, 64), torch.eye(10)[:2]).shape == (2, 1)
    with pytest.raises(Stylegan2ConfigError, match="mapping_kwargs.embed_features = 64 is not implemented"):
        with_discriminator(config_from_nvidia(ADA, "Generator", g), ADA,
                           dict(d, mapping_kwargs=dict(d["mapping_kwargs"], embed_features=64)))


def test_gradients_reach_every_parameter():
    # Kept G and D must stay trainable: nothing in place on tensors autograd needs, R1's double backward works.
    cfg = tiny(c_dim=2, architecture="resnet", conv_clamp=256.0, d_mbstd_group_size=2)
    G, D = randomised(Generator(cfg)).train(), randomised(Discriminator(cfg)).train()
    c = torch.eye(2)
    img = G.synthesis(G.mapping(torch.randn(2, 16), c).unsqueeze(1).repeat(1, G.num_ws, 1))
    D(img, c).sum().backward()
    for name, p in list(G.named_parameters()) + list(D.named_parameters()):
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
    real = torch.randn(2, 3, 32, 32, requires_grad=True)
    (grad,) = torch.autograd.grad(D(real, c).sum(), real, create_graph=True)
    grad.square().sum().backward()


def test_a_stylegan2_model_file_opens_through_the_registry_and_renders(tmp_path):
    # The registration in engine/nets/registry.py: a v2 file saves (0-d noise strengths included), opens as v2,
    # renders through the interface, and starts a fine-tune with a fresh D.
    from stylegan_studio.engine.contract.latents import Latent, RenderSettings
    from stylegan_studio.engine.contract.requests import RenderImage
    from stylegan_studio.engine.files.modelfile import load_model, read_header, save_model
    from stylegan_studio.engine.nets import registry
    from stylegan_studio.engine.render.exports import image
    from stylegan_studio.engine.train.warmstart import read_init

    G = randomised(Generator(tiny()))
    path = tmp_path / "v2.safetensors"
    meta = save_model(G, path)
    H, loaded = load_model(path)
    assert type(H) is Generator and H.arch == "stylegan2" and H.cfg == G.cfg and loaded.model_id == meta.model_id
    assert read_header(path)[0] == G.cfg and registry.arch_of(G.cfg) == "stylegan2"
    assert all(torch.equal(t, H.state_dict()[k]) for k, t in G.state_dict().items())
    req = RenderImage(latent=Latent(seed=0), settings=RenderSettings(psi=1.0))
    np.testing.assert_array_equal(image(H, req), image(G, req))
    assert image(H, req).shape == (32, 32, 3) and registry.can_train("stylegan2")
    init = read_init(path)   # a G-only file: D starts fresh, as wide as G (NVIDIA's train.py gives both one width)
    assert init.kind == "stylegan2" and init.D is None and "G_ema only" in init.notes[0]
    assert (init.cfg.d_channel_base, init.cfg.d_channel_max) == (G.cfg.channel_base, G.cfg.channel_max)


def test_a_stylegan2_model_shows_layer_views_through_the_renderer():
    # Layer views are a capability (nets.api.feature_layers): the Layers pane lists v2's convs and ToRGBs, a view
    # is a picture like a v1 one, and a frame asked to carry another model's layer renders plainly.
    from stylegan_studio.engine.contract.errors import UserError
    from stylegan_studio.engine.contract.latents import Latent, RenderSettings
    from stylegan_studio.engine.contract.requests import RenderLayer
    from stylegan_studio.engine.nets.api import feature_layers
    from stylegan_studio.engine.render.layers import image_and_layer, layer_pictures
    from stylegan_studio.engine.render.synth import latents_ws, noise_maps

    G = randomised(Generator(tiny()))
    assert ("16x16/conv1", 16, 32) in feature_layers(G)
    req = RenderLayer(latents=(Latent(seed=0), Latent(seed=1)), layer="16x16/conv1")
    pics = layer_pictures(G, req)
    assert len(pics) == 2 and pics[0].cols == 6 and sorted(pics[0].order) == list(range(32))
    with pytest.raises(UserError, match="no layer '4x4/const'"):
        layer_pictures(G, RenderLayer(latents=(Latent(seed=0),), layer="4x4/const"))   # a v1 name
    ws = latents_ws(G, [Latent(seed=0)], RenderSettings())
    img, act = image_and_layer(G, ws, noise_maps(G, RenderSettings().noise), req)
    assert act.shape == (1, 32, 16, 16) and img.shape == (1, 3, 32, 32)
    img, act = image_and_layer(G, ws, noise_maps(G, RenderSettings().noise),
                               RenderLayer(latents=(Latent(seed=0),), layer="4x4/const"))
    assert act is None and img.shape == (1, 3, 32, 32)
