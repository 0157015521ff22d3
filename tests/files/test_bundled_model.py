"""The bundled default model: loads, has the documented config, renders a known seed as stored."""
from pathlib import Path

import numpy as np
from PIL import Image

from stylegan_studio.engine.files.bundled import BUNDLED_MODEL, resolve_model
from stylegan_studio.engine.contract.modelconfig import ModelConfig
from stylegan_studio.engine.render.synth import render_latents
from stylegan_studio.engine.files.modelfile import load_model
from stylegan_studio.engine.contract.latents import Latent, RenderSettings

REFERENCE = Path(__file__).parent.parent / "data" / "bundled_seeds0-3_psi07.png"


def test_bundled_model_is_the_default_and_small():
    assert resolve_model(None) == BUNDLED_MODEL
    assert BUNDLED_MODEL.stat().st_size <= 20 * 1024 * 1024


def test_bundled_model_has_documented_config():
    G, meta = load_model(BUNDLED_MODEL, "cpu")
    # resources/models/avatars64.md: 64², 64 feature maps, z and w of 128, trained on the avatar dataset.
    assert G.cfg == ModelConfig.small(64, 64, 128)
    assert meta.kimg is not None and meta.kimg >= 60
    assert "avatars" in (meta.dataset or "")


def test_known_seeds_render_like_the_stored_reference():
    G, _ = load_model(BUNDLED_MODEL, "cpu")
    imgs = render_latents(G, [Latent(seed=s) for s in range(4)], RenderSettings(psi=0.7))
    got = np.concatenate(list(imgs), axis=1).astype(np.int16)
    ref = np.asarray(Image.open(REFERENCE).convert("RGB")).astype(np.int16)
    diff = np.abs(got - ref)
    # Tolerance for float differences between CPUs/BLAS builds; a different model is off by tens.
    assert diff.mean() < 1.0 and np.percentile(diff, 99) <= 8
