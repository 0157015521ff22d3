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
