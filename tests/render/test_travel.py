"""Travel, not jump: fractional seeds between the integer seeds around them, in Z (slerp) or W (lerp)."""
import numpy as np
import pytest
import torch

from helpers import tiny_generator
from stylegan_studio.engine.contract.latents import (SEED_ROW, Latent, RenderSettings, SpecError, position_seeds,
                                                     position_z, seed_position, seed_to_z)
from stylegan_studio.engine.contract.requests import RenderImage
from stylegan_studio.engine.files.provenance import record, spec_from
from stylegan_studio.engine.render import exports
from stylegan_studio.engine.render.streams import stream
from stylegan_studio.engine.render.synth import latents_to_w, map_z

SETTINGS = RenderSettings(psi=0.7)


def frame(G, latent):
    return list(stream(G, RenderImage("v", 1, latent=latent, settings=SETTINGS)))[0].image


@pytest.mark.parametrize("space", ["z", "w"])
@pytest.mark.parametrize("seed", [0, 7, 2 * SEED_ROW + 13])
def test_a_fractional_seed_at_an_integer_is_exactly_that_seed(seed, space):
    G = tiny_generator(16)
    pos = seed_position(seed)
    assert np.array_equal(position_z(pos, G.cfg.z_dim), seed_to_z([seed], G.cfg.z_dim)[0])
    at = Latent(pos=pos, space=space)
    assert torch.equal(latents_to_w(G, [at]), latents_to_w(G, [Latent(seed=seed)]))
    assert np.array_equal(frame(G, at), frame(G, Latent(seed=seed)))


def test_between_seeds_z_is_slerped_and_w_lerped():
    G = tiny_generator(16)
    za, zb = (seed_to_z([s], G.cfg.z_dim)[0].astype(np.float64) for s in (3, 4))
    z = position_z((3.25, 0.0), G.cfg.z_dim).astype(np.float64)
    ua, ub = za / np.linalg.norm(za), zb / np.linalg.norm(zb)
    omega = np.arccos(ua @ ub)
    want = (np.sin(0.75 * omega) * ua + np.sin(0.25 * omega) * ub) / np.sin(omega)
    assert np.allclose(z / np.linalg.norm(z), want / np.linalg.norm(want), atol=1e-6)
    assert np.isclose(np.linalg.norm(z), 0.75 * np.linalg.norm(za) + 0.25 * np.linalg.norm(zb), rtol=1e-5)
    w = latents_to_w(G, [Latent(pos=(3.25, 0.5), space="w")])[0]
    corners = map_z(G, seed_to_z([3, 4, 3 + SEED_ROW, 4 + SEED_ROW], G.cfg.z_dim))
    want_w = 0.375 * corners[0] + 0.125 * corners[1] + 0.375 * corners[2] + 0.125 * corners[3]
    assert torch.allclose(w, want_w, atol=1e-5)
    assert [s for s, *_ in position_seeds((3.25, 0.5))] == [3, 4, 3 + SEED_ROW, 4 + SEED_ROW]
    a, mid, b = (frame(G, Latent(pos=(x, 0.0))) for x in (3.0, 3.5, 4.0))
    assert not np.array_equal(mid, a) and not np.array_equal(mid, b)


def test_a_fractional_seed_travels_through_provenance():
    G = tiny_generator(16)
    req = RenderImage(latent=Latent(pos=(12.5, 3.75), space="w"), settings=SETTINGS)
    rec = record(req, {"model_id": "x"})
    assert rec["latent"] == {"pos": [12.5, 3.75], "space": "w"}
    again = spec_from(rec)
    assert again == req
    assert np.array_equal(exports.images(G, [again])[0], exports.images(G, [req])[0])
    assert Latent(pos=(1.5, 2.0)).label() == "seed (1.50, 2.00) z"


@pytest.mark.parametrize("kw", [dict(pos=(1.0, 2.0), seed=3), dict(pos=(-1.0, 0.0)), dict(pos=(float("nan"), 0.0)),
                                dict(pos=(1.0, 0.0), space="q")])
def test_bad_positions_are_refused(kw):
    with pytest.raises(SpecError):
        Latent(**kw)


def test_a_path_video_steps_evenly_along_the_travelled_path():
    from stylegan_studio.engine.contract.video import VideoSpec, decode_path, encode_path, path_frames
    from stylegan_studio.engine.render.video import frame_count, frames_walk
    pts = path_frames(((0.0, 0.0), (1.0, 0.0), (1.0, 0.5)), 4)       # 1.5 seeds travelled, 4 frames a seed
    assert len(pts) == 7 and np.allclose(np.abs(np.diff(pts, axis=0)).sum(1), 0.25)
    assert tuple(pts[0]) == (0.0, 0.0) and tuple(pts[-1]) == (1.0, 0.5)
    assert decode_path(encode_path([(0, 0), (1.5, 2)], "w")) == (((0.0, 0.0), (1.5, 2.0)), "w")
    G = tiny_generator(16)
    spec = VideoSpec(kind="walk", path=((0.0, 0.0), (1.0, 0.0)), frames_per_step=2, psi=0.7)
    frames = np.concatenate(list(frames_walk(G, spec)))
    assert len(frames) == frame_count(G, spec) == 3
    for k, seed in ((0, 0), (-1, 1)):  # the ends are the seeds (±1: a batch of 8 may round differently from 1)
        assert np.abs(frames[k].astype(int) - frame(G, Latent(seed=seed))).max() <= 1
    with pytest.raises(SpecError, match="travelled path"):
        VideoSpec(kind="noise", path=((0.0, 0.0), (1.0, 0.0)))
