"""Shapes, equalised-lr details and the fused up/down convolutions of the StyleGAN v1 networks."""
import pytest
import torch
import torch.nn.functional as F

from stylegan_studio.engine.contract.modelconfig import ConfigError, ModelConfig
from stylegan_studio.engine.nets.layers import downconv_weight, upconv_weight
from stylegan_studio.engine.nets.networks import Discriminator, Generator


def tiny(res: int) -> ModelConfig:
    return ModelConfig.small(resolution=res, channels=16, z_dim=16)


@pytest.mark.parametrize("res", [8, 16, 32])
def test_generator_and_discriminator_shapes(res):
    cfg = tiny(res)
    G, D = Generator(cfg), Discriminator(cfg)
    img = G(torch.randn(3, cfg.z_dim))
    assert img.shape == (3, 3, res, res)
    assert D(img).shape == (3,)
    assert cfg.num_ws == 2 * (res.bit_length() - 1) - 2


def test_progressive_growing_renders_and_scores_each_resolution():
    cfg = tiny(32)
    G, D = Generator(cfg), Discriminator(cfg)
    ws = G.mapping(torch.randn(4, cfg.z_dim)).unsqueeze(1).repeat(1, cfg.num_ws, 1)
    for res in (4, 8, 16, 32):
        img = G.synthesis(ws, res=res, alpha=0.5)
        assert img.shape == (4, 3, res, res)
        assert D(img, alpha=0.5).shape == (4,)


def test_a_growing_g_ema_renders_its_phase_upsampled_like_the_official_lod():
    cfg = tiny(32)
    G = Generator(cfg).eval()
    ws = G.mapping(torch.randn(2, cfg.z_dim)).unsqueeze(1).repeat(1, cfg.num_ws, 1)
    with torch.no_grad():
        phase = G.synthesis(ws, res=16, alpha=0.25)
        G.grown = (16, 0.25)
        shown = G.synthesis(ws)
        torch.testing.assert_close(shown, F.interpolate(phase, scale_factor=2, mode="nearest"), rtol=0, atol=0)
        torch.testing.assert_close(G.synthesis(ws, res=8), G.synthesis(ws, res=8, alpha=1.0))  # below: as before
        img, act = G.synthesis(ws, capture="32x32/conv1")   # a layer above the phase: still shown, untrained
        assert img.shape == (2, 3, 32, 32) and act.shape[-1] == 32
    G.grown = (32, 1.0)                                       # fully grown: nothing to remember
    assert G.grown is None
    for bad in ((12, 0.5), (16, 1.5), (64, 1.0), ("x", 1)):
        with pytest.raises(ValueError):
            G.grown = bad


def test_paper_channel_rule():
    cfg = ModelConfig(resolution=1024)
    assert [cfg.channels(r) for r in cfg.resolutions] == [512, 512, 512, 512, 256, 128, 64, 32, 16]
    assert cfg.num_ws == 18


def test_config_rejects_bad_resolution_and_roundtrips():
    with pytest.raises(ConfigError):
        ModelConfig(resolution=48)
    cfg = tiny(16)
    assert ModelConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ConfigError):
        ModelConfig.from_dict({**cfg.to_dict(), "bogus": 1})


def test_equalised_lr_init_and_mapping_lr_multiplier():
    G = Generator(tiny(8))
    fc = G.mapping.fcs[0]
    # weights stored at N(0, 1/lrmul): std ≈ 100 for lr multiplier 0.01
    assert 60 < fc.weight.std().item() < 140
    assert fc.lr_mul == pytest.approx(0.01)
    block = G.synthesis.blocks[0]
    assert torch.equal(block.const, torch.ones_like(block.const))
    assert torch.count_nonzero(block.epi0.noise_strength) == 0


def test_fused_upsample_and_downsample_convs_match_reference():
    x = torch.randn(2, 5, 8, 8, dtype=torch.float64)
    w = torch.randn(7, 5, 3, 3, dtype=torch.float64)
    ref_up = F.conv2d(F.interpolate(x, scale_factor=2, mode="nearest"), w, padding=1)
    up = F.conv_transpose2d(x, upconv_weight(w), stride=2, padding=1)
    torch.testing.assert_close(up, ref_up)
    ref_down = F.avg_pool2d(F.conv2d(x, w, padding=1), 2)
    down = F.conv2d(x, downconv_weight(w), stride=2, padding=1)
    torch.testing.assert_close(down, ref_down)


def test_noise_strength_gates_noise():
    G = Generator(tiny(16)).eval()
    z = torch.randn(1, G.cfg.z_dim)
    with torch.no_grad():
        a = G(z)
        noise = [torch.randn_like(G.synthesis.stored_noise(i)) for i in range(G.num_ws)]
        b = G(z, noise=noise)
        assert torch.equal(a, b)  # per-channel strength starts at 0: noise has no effect yet
        for block in G.synthesis.blocks:
            block.epi0.noise_strength.fill_(0.5)
        assert not torch.equal(G(z), G(z, noise=noise))


def test_w_avg_update_moves_toward_batch_mean():
    G = Generator(tiny(8))
    w = torch.ones(4, G.cfg.w_dim)
    G.update_w_avg(w)
    assert torch.allclose(G.w_avg, torch.full_like(G.w_avg, 0.005))


def _eager(G: Generator, ws: torch.Tensor, noise: list) -> torch.Tensor:
    """The plain fp32 path: gradients on, so no cached weights and the transposed up-conv everywhere."""
    with torch.enable_grad():
        G.requires_grad_(True)
        out = G.synthesis(ws, noise=noise).detach()
        G.requires_grad_(False)
    return out


def _randomised(res: int) -> Generator:
    G = Generator(ModelConfig.small(resolution=res, channels=16, z_dim=16)).eval().requires_grad_(False)
    with torch.no_grad():
        for name, p in G.named_parameters():
            if "noise_strength" in name or "bias" in name:
                p.normal_(0, 0.1)  # fresh models have zeros here; exercise every term
    return G


@pytest.mark.parametrize("res", [64, 256])
def test_inference_fast_paths_match_eager_fp32(res):
    # 256²: its 128² → 256² up-conv runs in the phase form (layers.PHASE_MIN_RES) when rendering.
    G = _randomised(res)
    ws = G.mapping(torch.randn(2, G.cfg.z_dim)).unsqueeze(1).repeat(1, G.num_ws, 1)
    noise = [torch.randn(1, 1, r, r) for r in (G.cfg.layer_resolution(i) for i in range(G.num_ws))]
    ref = _eager(G, ws, noise)
    with torch.inference_mode():
        first = G.synthesis(ws, noise=noise)
        cached = G.synthesis(ws, noise=noise)
    assert torch.equal(first, cached)
    assert (cached - ref).abs().max().item() <= 1e-4


def test_cached_weights_follow_in_place_updates():
    G = _randomised(16)
    ws = G.mapping(torch.randn(1, G.cfg.z_dim)).unsqueeze(1).repeat(1, G.num_ws, 1)
    with torch.no_grad():
        before = G.synthesis(ws)
        for p in G.synthesis.parameters():
            p.mul_(1.1)  # as an optimizer step or the G_ema update does
        after = G.synthesis(ws)
    assert not torch.allclose(before, after)
    assert (after - _eager(G, ws, None)).abs().max().item() <= 1e-4
    other = _randomised(16)
    G.load_state_dict(other.state_dict())
    with torch.no_grad():
        loaded = G.synthesis(ws)
    assert (loaded - _eager(other, ws, None)).abs().max().item() <= 1e-4


def test_forget_frozen_drops_caches_after_writes_through_data():
    from stylegan_studio.engine.nets.weightcache import forget_frozen
    G = _randomised(16)
    ws = G.mapping(torch.randn(1, G.cfg.z_dim)).unsqueeze(1).repeat(1, G.num_ws, 1)
    with torch.no_grad():
        G.synthesis(ws)
    for p in G.synthesis.parameters():
        p.data.mul_(1.1)  # as a collective broadcast writes: no version bump
    forget_frozen(G)
    with torch.no_grad():
        out = G.synthesis(ws)
    assert (out - _eager(G, ws, None)).abs().max().item() <= 1e-4


def test_a_deep_copy_does_not_inherit_the_cached_weights():
    # A copy's parameters start a new version counter; loaded once, it could meet the stamp the original's cache
    # recorded (the blend of a model that had rendered first looked exactly like its base).
    import copy
    G = _randomised(16)
    G.load_state_dict(_randomised(16).state_dict())  # as a model file loads: every weight's version is now 1
    ws = G.mapping(torch.randn(1, G.cfg.z_dim)).unsqueeze(1).repeat(1, G.num_ws, 1)
    with torch.no_grad():
        G.synthesis(ws)
    twin, other = copy.deepcopy(G), _randomised(16)
    twin.load_state_dict(other.state_dict())  # in place: the copy's versions go 0 → 1
    with torch.no_grad():
        out = twin.synthesis(ws)
    assert (out - _eager(other, ws, None)).abs().max().item() <= 1e-4
