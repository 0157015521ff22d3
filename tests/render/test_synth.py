"""The exploration operations: seeds, truncation, mixing, noise, interpolation."""
import json

import numpy as np
import pytest
import torch

from helpers import tiny_generator
from stylegan_studio.engine.render import synth as ex
from stylegan_studio.engine.render.renderer import mix_ws, split_mix
from stylegan_studio.engine.contract.latents import (Edit, Latent, NoiseSpec, RenderSettings, ResNoise, SpecError,
                                                     format_seeds, latent_from_json, latent_to_json, layer_ranges,
                                                     parse_layers, parse_seeds, seed_to_z)

SEEDS = [Latent(seed=s) for s in (0, 1, 2, 3)]


def test_seed_to_z_follows_nvidia_convention_and_is_stable():
    z = seed_to_z([42], 512)
    assert z.shape == (1, 512) and z.dtype == np.float32
    np.testing.assert_array_equal(z[0], np.random.RandomState(42).randn(512).astype(np.float32))
    # pinned values: a seed must mean the same z in every release
    np.testing.assert_allclose(z[0, :3], [0.49671415, -0.1382643, 0.64768854], rtol=1e-6)


def test_parse_seeds_and_layers():
    assert parse_seeds("0-3, 7,42") == (0, 1, 2, 3, 7, 42)
    for seeds in ((0, 1, 2, 3, 7, 42), (5,), (9, 3, 4, 5, 1), (2, 2, 3)):  # format_seeds: the text that reads back
        assert parse_seeds(format_seeds(seeds)) == seeds
    assert format_seeds((0, 1, 2, 3, 7, 42, 43)) == "0-3, 7, 42-43"
    for bad in ("", "a", "5-2", "-1"):
        with pytest.raises(SpecError):
            parse_seeds(bad)
    assert parse_seeds("4294967295") == (2 ** 32 - 1,)          # RandomState's largest seed
    with pytest.raises(SpecError, match="seed 4294967299 is beyond the largest seed, 4294967295"):
        parse_seeds("4294967290-4294967299")                   # 2³² would wrap to seed 0's face
    with pytest.raises(SpecError, match="a seed is 0 to 4294967295"):
        Latent(seed=2 ** 32)
    ws_64 = (4, 4, 8, 8, 16, 16, 32, 32, 64, 64)             # the ws resolutions of a v1 64² model
    ws_1024 = tuple(2 ** (i // 2 + 2) for i in range(18))   # and of a v1 1024² model
    assert layer_ranges(ws_64) == {"coarse": (0, 1, 2, 3), "middle": (4, 5, 6, 7), "fine": (8, 9)}
    assert layer_ranges(ws_1024)["fine"] == tuple(range(8, 18))
    assert parse_layers("middle,0-1", ws_64) == (0, 1, 4, 5, 6, 7)
    with pytest.raises(SpecError):
        parse_layers("12", ws_64)


def test_one_json_form_of_a_latent_for_records_drags_and_favourites():
    edit = Edit((0.5, -0.25), (0, 3), "pc 1 +2σ")
    for lat in (Latent(seed=7), Latent(seed=7, c=2, edit=edit), Latent(w=np.arange(4, dtype=np.float32)),
                Latent(w=np.ones((3, 4), np.float32), edit=edit), Latent(pos=(1.5, 2.25), space="w", c=1)):
        assert latent_from_json(json.loads(json.dumps(latent_to_json(lat)))) == lat
    for bad in ([1], "seed", {"seed": "x"}, {"w": "abc"}, {"w": [[[1.0]]]}, {"w": [1e40]}, {"w": [float("nan")]},
                {"pos": [1.0]}, {"seed": 1, "c": -1}, {"seed": 1, "c": True}, {"seed": 1, "edit": {"offset": []}},
                {"pos": [1, 2], "space": "x"}):
        with pytest.raises(SpecError):
            latent_from_json(bad)


def test_same_seed_gives_identical_pixels():
    G = tiny_generator()
    a = ex.render_latents(G, SEEDS, RenderSettings())
    b = ex.render_latents(G, SEEDS, RenderSettings())
    assert a.shape == (4, 16, 16, 3) and a.dtype == np.uint8
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a[0], a[1])


def test_psi_zero_with_fixed_noise_gives_one_image():
    G = tiny_generator()
    imgs = ex.render_latents(G, SEEDS, RenderSettings(psi=0.0))
    for img in imgs[1:]:
        np.testing.assert_array_equal(img, imgs[0])


def test_cutoff_leaves_layers_at_and_above_untouched():
    G = tiny_generator()
    w = ex.latents_to_w(G, SEEDS)
    ws = ex.broadcast(w, G.num_ws)
    out = ex.truncate(ws, G.w_avg, psi=0.5, cutoff=3)
    torch.testing.assert_close(out[:, 3:], ws[:, 3:], rtol=0, atol=0)
    torch.testing.assert_close(out[:, :3], G.w_avg + 0.5 * (ws[:, :3] - G.w_avg))


def test_mixing_all_layers_equals_column_and_none_equals_row():
    G = tiny_generator()
    s = RenderSettings(psi=0.8)
    rows, cols = SEEDS[:2], SEEDS[2:]
    plain = ex.render_latents(G, SEEDS, s, batch=ex.STILL_BATCH, pad=True)

    def cells(layers):
        return split_mix(ex.render_still(G, mix_ws(G, rows, cols, layers, s), s), 2, 2)[2]
    all_layers, none = cells(range(G.num_ws)), cells(())
    for r in range(2):
        for c in range(2):
            np.testing.assert_array_equal(all_layers[r, c], plain[2 + c])
            np.testing.assert_array_equal(none[r, c], plain[r])
    some = cells((0, 1))
    assert not np.array_equal(some[0, 0], plain[0]) and not np.array_equal(some[0, 0], plain[2])


def test_noise_per_resolution():
    G = tiny_generator()
    base = RenderSettings()
    ref = ex.render_latents(G, SEEDS[:1], base)
    for res in G.cfg.resolutions:
        changed = RenderSettings(noise=NoiseSpec().with_res(res, ResNoise("random", 7)))
        assert not np.array_equal(ex.render_latents(G, SEEDS[:1], changed), ref), res
    zero = RenderSettings(noise=NoiseSpec(ResNoise("zero")))
    np.testing.assert_array_equal(ex.render_latents(G, SEEDS[:1], zero), ex.render_latents(G, SEEDS[:1], zero))
    assert not np.array_equal(ex.render_latents(G, SEEDS[:1], zero), ref)
    rand = RenderSettings(noise=NoiseSpec(ResNoise("random", 3)))
    np.testing.assert_array_equal(ex.render_latents(G, SEEDS[:1], rand), ex.render_latents(G, SEEDS[:1], rand))
    half = RenderSettings(noise=NoiseSpec(ResNoise("const", strength=0.0)))
    np.testing.assert_array_equal(ex.render_latents(G, SEEDS[:1], half), ex.render_latents(G, SEEDS[:1], zero))


def test_noise_spec_text_roundtrip():
    spec = NoiseSpec().with_res(16, ResNoise("random", 3, 0.5)).with_res(8, ResNoise("zero"))
    assert NoiseSpec.parse(spec.describe()) == spec
    with pytest.raises(SpecError):
        NoiseSpec.parse("loud")


def test_variation_map_is_zero_without_noise_and_positive_with_it():
    G = tiny_generator()
    w = ex.latents_to_w(G, SEEDS[:1])[0]
    on = ex.variation_map(G, w, RenderSettings(), draws=8)
    off = ex.variation_map(G, w, RenderSettings(noise=NoiseSpec(ResNoise("zero"))), draws=8)
    assert on.shape == (16, 16) and on.mean() > 1e-3
    assert off.max() < 1e-5  # only float rounding left


def test_lerp_and_slerp_endpoints():
    a, b = torch.randn(2, 16), torch.randn(2, 16)
    torch.testing.assert_close(ex.lerp(a, b, 0.0), a)
    torch.testing.assert_close(ex.slerp(a, b, 0.0), a)
    torch.testing.assert_close(ex.slerp(a, b, 1.0), b, rtol=1e-4, atol=1e-4)
    mid = ex.slerp(a, b, 0.5)
    assert torch.allclose(mid.norm(dim=-1), (a.norm(dim=-1) + b.norm(dim=-1)) / 2, rtol=1e-4)


def test_explicit_w_latent_matches_seed():
    G = tiny_generator()
    w = ex.latents_to_w(G, SEEDS[:1])[0].numpy()
    a = ex.render_latents(G, [Latent(w=w)], RenderSettings(psi=0.7))
    b = ex.render_latents(G, SEEDS[:1], RenderSettings(psi=0.7))
    np.testing.assert_array_equal(a, b)
