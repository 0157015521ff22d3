"""See what a layer computes: the generator's feature layers, the layer view (grid / channel / RGB), the renderer."""
import numpy as np
import pytest
import torch

from helpers import tiny_generator
from stylegan_studio.engine.contract import messages as m
from stylegan_studio.engine.contract.errors import UserError
from stylegan_studio.engine.contract.latents import Latent, RenderSettings, SpecError
from stylegan_studio.engine.contract.requests import RenderImage, RenderLayer
from stylegan_studio.engine.files.provenance import record, spec_from
from stylegan_studio.engine.render import exports
from stylegan_studio.engine.render.layers import energy_order, normalised
from stylegan_studio.engine.render.renderer import latent_ws
from stylegan_studio.engine.render.streams import stream
from stylegan_studio.engine.render.synth import noise_maps

SETTINGS = RenderSettings(psi=0.7)


def direct(G, ws, noise, name):
    """A layer's output computed by hand, block by block, from the modules' own parts."""
    syn, x = G.synthesis, None
    for i, block in enumerate(syn.blocks):
        w0, w1 = ws[:, 2 * i], ws[:, 2 * i + 1]
        if x is None:
            x = (block.const + block.epi0.bias.view(1, -1, 1, 1)).expand(ws.shape[0], -1, -1, -1)
        else:
            x = block.blur(block.conv0(x), block.epi0.bias)
        x = block.epi0(x, w0, noise[2 * i])
        if name == f"{block.res}x{block.res}/{'const' if block.res == 4 else 'conv0'}":
            return x
        x = block.epi1(block.conv1(x, block.epi1.bias), w1, noise[2 * i + 1])
        if name == f"{block.res}x{block.res}/conv1":
            return x
    raise AssertionError(name)


def test_the_generator_lists_its_layers_with_resolution_and_channels():
    G = tiny_generator(16)
    layers = G.feature_layers()
    assert [n for n, _, _ in layers] == ["4x4/const", "4x4/conv1", "8x8/conv0", "8x8/conv1", "16x16/conv0",
                                        "16x16/conv1"]
    assert [(r, c) for _, r, c in layers] == [(r, G.cfg.channels(r)) for r in (4, 4, 8, 8, 16, 16)]


@torch.inference_mode()
@pytest.mark.parametrize("name", ["4x4/const", "8x8/conv1", "16x16/conv0", "16x16/conv1"])
def test_captured_and_early_stopped_values_equal_a_direct_computation(name):
    G = tiny_generator(16)
    ws = latent_ws(G, Latent(seed=5), SETTINGS)
    noise = noise_maps(G, SETTINGS.noise)
    want = direct(G, ws, noise, name)
    img, act = G.synthesis(ws, noise=noise, capture=name)
    assert torch.equal(act, want)
    assert torch.equal(img, G.synthesis(ws, noise=noise))          # capturing changes nothing in the image
    assert torch.equal(G.synthesis.features(ws, noise, name), want)


@torch.inference_mode()
def test_the_views_are_the_layer_normalised_per_channel():
    G = tiny_generator(16)
    ws = latent_ws(G, Latent(seed=2), SETTINGS)
    act = direct(G, ws, noise_maps(G, SETTINGS.noise), "8x8/conv1")[0].numpy().astype(np.float64)
    lo, hi = act.min(axis=(1, 2), keepdims=True), act.max(axis=(1, 2), keepdims=True)
    norm = (act - lo) / (hi - lo)
    assert np.allclose(normalised(torch.from_numpy(act)).numpy(), norm, atol=1e-6)
    order = np.argsort(-(act ** 2).mean(axis=(1, 2)), kind="stable")
    assert energy_order(torch.from_numpy(act)) == tuple(order)

    def view(**kw):
        return list(stream(G, RenderLayer("l", 1, latents=(Latent(seed=2),), settings=SETTINGS, layer="8x8/conv1",
                                          **kw)))[-1]
    one = view(mode="channel", channels=(3,), size=32)
    assert isinstance(one, m.LayerReady) and one.images.shape == (1, 32, 32, 3)
    assert np.array_equal(one.images[0, ::4, ::4, 0], np.round(norm[3] * 255).astype(np.uint8))  # enlarged 4×, crisp
    assert (one.lo, one.hi) == pytest.approx((act[3].min(), act[3].max()), abs=1e-5)
    rgb = view(mode="rgb", channels=(0, 5, 7))
    assert np.array_equal(rgb.images[0], np.round(norm[[0, 5, 7]] * 255).astype(np.uint8).transpose(1, 2, 0))
    grid = view(mode="grid")
    c = G.cfg.channels(8)
    cols = int(np.ceil(np.sqrt(c)))
    assert grid.order == tuple(order) and grid.cols == cols and grid.tile == 8
    k = 5                                             # tile k shows the k-th most energetic channel
    r, col = divmod(k, cols)
    tile = grid.images[0, r * 9:r * 9 + 8, col * 9:col * 9 + 8, 0]
    assert np.array_equal(tile, np.round(norm[order[k]] * 255).astype(np.uint8))
    assert grid.channel_at(col * 9 + 3, r * 9 + 7) == order[k] and grid.channel_at(col * 9 + 8, r * 9) is None


def test_the_viewer_frame_carries_the_layer_from_its_own_pass():
    G = tiny_generator(16)
    lay = RenderLayer("layers", 7, layer="16x16/conv1", mode="channel", channels=(1,))
    plain = list(stream(G, RenderImage("viewer", 7, latent=Latent(seed=4), settings=SETTINGS)))
    both = list(stream(G, RenderImage("viewer", 7, latent=Latent(seed=4), settings=SETTINGS, with_layer=lay)))
    assert len(plain) == 1 and len(both) == 2
    assert np.array_equal(plain[0].image, both[0].image)
    alone = list(stream(G, RenderLayer("x", 1, latents=(Latent(seed=4),), settings=SETTINGS, layer="16x16/conv1",
                                       mode="channel", channels=(1,))))[-1]
    assert both[1].target == "layers" and np.array_equal(both[1].images, alone.images)
    mixed = dict(mix_with=Latent(seed=9), mix_layers=(0, 1, 2))   # a mixed face: the still and the live view agree
    live = list(stream(G, RenderImage("viewer", 9, latent=Latent(seed=4), settings=SETTINGS, with_layer=lay,
                                      **mixed)))[1]
    still = exports.layer_views(G, RenderLayer(latents=(Latent(seed=4),), settings=SETTINGS, layer="16x16/conv1",
                                               mode="channel", channels=(1,), **mixed))
    assert np.array_equal(live.images[0], still) and not np.array_equal(live.images, alone.images)
    other = RenderLayer("layers", 8, layer="64x64/conv1")           # a layer of the previous model: the frame still comes
    events = list(stream(G, RenderImage("viewer", 8, latent=Latent(seed=4), settings=SETTINGS, with_layer=other)))
    assert len(events) == 1 and np.array_equal(events[0].image, plain[0].image)


def test_a_still_of_several_faces_regenerates_from_its_provenance():
    G = tiny_generator(16)
    req = RenderLayer(latents=tuple(Latent(seed=s) for s in range(3)), settings=SETTINGS, layer="8x8/conv0")
    img = exports.layer_views(G, req)
    c = G.cfg.channels(8)
    cols = int(np.ceil(np.sqrt(c)))
    side = -(-c // cols) * 9 - 1
    assert img.shape == (side, 3 * (cols * 9 - 1) + 4, 3)
    again = spec_from(record(req, {"model_id": "x"}))
    assert again == req and np.array_equal(exports.layer_views(G, again), img)
    assert "with_layer" not in record(RenderImage(latent=Latent(seed=1)), {})


def test_bad_layers_and_channels_are_one_line():
    G = tiny_generator(16)
    with pytest.raises(UserError, match="no layer '32x32/conv1'; this model has 4x4/const"):
        exports.layer_views(G, RenderLayer(latents=(Latent(seed=1),), layer="32x32/conv1"))
    with pytest.raises(UserError, match="channel 999 does not exist"):
        exports.layer_views(G, RenderLayer(latents=(Latent(seed=1),), layer="8x8/conv1", mode="channel",
                                           channels=(999,)))
    with pytest.raises(SpecError, match="takes 3 channel numbers"):
        RenderLayer(layer="8x8/conv1", mode="rgb", channels=(1,))
