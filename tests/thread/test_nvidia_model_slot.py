"""The window's model slot on a StyleGAN2-ADA pickle: what ModelInfo tells the panes, and live renders with a class."""
import numpy as np
import pytest
import torch

import persist_fixtures as px
from stylegan_studio.engine.contract import messages as m
from stylegan_studio.engine.contract.errors import UserError
from stylegan_studio.engine.contract.latents import Latent, RenderSettings
from stylegan_studio.engine.render.streams import stream
from stylegan_studio.engine.thread.model_slot import ModelSlot


@pytest.fixture
def slot(tmp_path, monkeypatch):
    monkeypatch.setenv("STYLEGAN_STUDIO_CACHE", str(tmp_path / "cache"))
    s = ModelSlot(torch.device("cpu"))
    assert "once; cached as" in s.load(str(px.NVIDIA_DATA / "sg2ada_cond.pkl"))
    return s


def test_model_info_describes_a_conditional_v2_pickle(slot):
    info = slot.info()
    assert (info.arch, info.c_dim, info.resolution, info.num_ws) == ("stylegan2", 4, 64, 10)
    assert not info.has_input_transform and not info.can_train and info.has_noise
    assert info.layer_labels[:3] == ("4²", "4²", "8²") and info.noise_resolutions[:3] == (4, 8, 8)
    assert "differs from NVIDIA's released code" in info.source_note


def test_live_renders_follow_the_class(slot):
    G = slot.render_G
    req = m.RenderSeedGrid("grid", 1, seeds=(0, 1, 2), c=1, thumb=None)
    grid = [e for e in stream(G, req) if isinstance(e, m.GridChunk)]
    images = np.concatenate([e.images for e in grid])
    for k, seed in enumerate((0, 1, 2)):
        frame = next(stream(G, m.RenderImage("view", 2, latent=Latent(seed=seed, c=1))))
        assert np.abs(frame.image.astype(int) - images[k]).max() <= 1
    other = next(stream(G, m.RenderImage("view", 3, latent=Latent(seed=0, c=2))))
    assert np.abs(other.image.astype(int) - images[0]).max() > 10
    with pytest.raises(UserError, match="class-conditional"):
        list(stream(G, m.RenderImage("view", 4, latent=Latent(seed=0))))
    with pytest.raises(UserError, match="no input to translate"):
        list(stream(G, m.RenderImage("view", 5, latent=Latent(seed=0, c=0), settings=RenderSettings(rotate=5.0))))


def test_a_stylegan3_pickle_moves_its_input_per_request_and_has_no_noise(tmp_path, monkeypatch):
    monkeypatch.setenv("STYLEGAN_STUDIO_CACHE", str(tmp_path / "cache"))
    s = ModelSlot(torch.device("cpu"))
    s.load(str(px.NVIDIA_DATA / "sg3_t.pkl"))
    info = s.info()
    assert (info.arch, info.c_dim, info.has_input_transform, info.has_noise, info.can_train) == \
        ("stylegan3", 0, True, False, False)
    assert info.layer_labels[0].startswith("in ") and info.layer_labels[1].startswith("L0 ")
    G, expected = s.render_G, np.load(px.NVIDIA_DATA / "sg3_t.expected.npz")

    def frame(stamp, **moved):
        req = m.RenderImage("view", stamp, latent=Latent(seed=0), settings=RenderSettings(psi=1.0, **moved))
        return next(stream(G, req)).image.astype(int)
    turned = frame(1, translate=(0.25, 0.1), rotate=-30.0)
    assert np.abs(turned - expected["seed0_psi1_tx0.25_ty0.1_rot-30"]).max() <= 2
    assert np.abs(frame(2) - expected["seed0_psi1"]).max() <= 2  # the next request is back at the trained input
    with pytest.raises(UserError, match="no noise inputs"):
        list(stream(G, m.RenderVariation("noise", 3, latent=Latent(seed=0))))


def test_saving_a_stylegan3_model_after_a_turned_render_keeps_the_trained_input(tmp_path, monkeypatch):
    monkeypatch.setenv("STYLEGAN_STUDIO_CACHE", str(tmp_path / "cache"))
    s = ModelSlot(torch.device("cpu"))
    s.load(str(px.NVIDIA_DATA / "sg3_t.pkl"))
    first_id = s.meta.model_id
    req = m.RenderImage("view", 1, latent=Latent(seed=0), settings=RenderSettings(translate=(0.3, 0.0), rotate=45.0))
    list(stream(s.render_G, req))
    s.save(str(tmp_path / "v3.safetensors"))
    assert s.meta.model_id == first_id  # the same weights and buffers as converted: the identity transform
