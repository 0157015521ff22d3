"""Starting a run from another run (its state file or resume kit) and widening a model (`--channels-max`)."""
import dataclasses
import json

import pytest
import torch

import persist_fixtures as px
from stylegan_studio.engine.cli.main import main
from stylegan_studio.engine.contract.errors import UserError
from stylegan_studio.engine.contract.modelconfig import ModelConfig
from stylegan_studio.engine.contract.training import TrainConfig, schedule_text
from stylegan_studio.engine.files.modelfile import ModelMeta, save_model
from stylegan_studio.engine.nets.networks import Discriminator, Generator
from stylegan_studio.engine.train.run import TrainingRun
from stylegan_studio.engine.train.widen import widen_into

from helpers import make_folder, tiny_cfg
from test_train_init import our_model, same
from test_training import finished


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("STYLEGAN_STUDIO_CACHE", str(tmp_path / "cache"))


@pytest.fixture
def data(tmp_path):
    return make_folder(tmp_path / "data", n=16)


@pytest.fixture
def f64():
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)  # so that "the same" means to rounding, not to float32's
    yield
    torch.set_default_dtype(old)


def trained_like(net: torch.nn.Module) -> torch.nn.Module:
    """`net` with every weight moved off its initial value (biases, noise strengths and all)."""
    with torch.no_grad():
        for t in net.state_dict().values():
            t.add_(torch.randn_like(t) * 0.1)
    return net


def test_widened_g_renders_and_d_scores_as_before_and_every_new_weight_learns(f64):
    torch.manual_seed(0)
    narrow = ModelConfig.small(32, 8, 16, 2)
    wide = dataclasses.replace(narrow, fmap_max=32)
    assert [wide.channels(r) for r in wide.resolutions] == [32, 32, 16, 8]
    G0, D0 = trained_like(Generator(narrow)), trained_like(Discriminator(narrow))
    G1, D1 = Generator(wide), Discriminator(wide)
    widen_into(G0, G1)
    widen_into(D0, D1)
    z = torch.randn(8, 16)
    noise = [torch.randn(8, 1, r, r) for r in G0.ws_resolutions]
    ws = G0.mapping(z).unsqueeze(1).repeat(1, G0.num_ws, 1)
    for res, alpha in ((32, 1.0), (16, 0.5), (8, 1.0), (4, 1.0)):  # every growing phase too
        torch.testing.assert_close(G1.synthesis(ws, noise, res=res, alpha=alpha),
                                   G0.synthesis(ws, noise, res=res, alpha=alpha), rtol=0, atol=1e-12)
    for res in (32, 16, 8, 4):
        img = torch.randn(8, 3, res, res)
        # D's new 4² channels give 0, whose stddev is √1e-8 (the epsilon), not 0: a 1e-4 floor in the mean
        torch.testing.assert_close(D1(img, alpha=0.5), D0(img, alpha=0.5), rtol=0, atol=2e-4)
    (D1(G1(z)).sum() + D1(torch.randn(8, 3, 32, 32)).sum()).backward()
    idle = {n for n, p in [*G1.named_parameters(), *D1.named_parameters()] if p.grad is None or not p.grad.abs().sum()}
    assert idle == {"synthesis.blocks.0.to_rgb.weight", "synthesis.blocks.0.rgb_bias",  # ToRGB/FromRGB below
                    "synthesis.blocks.1.to_rgb.weight", "synthesis.blocks.1.rgb_bias",  # 32²: only used while
                    "synthesis.blocks.2.to_rgb.weight", "synthesis.blocks.2.rgb_bias",  # growing
                    "from_rgb4.weight", "rgb_bias4", "blocks.8.from_rgb.weight", "blocks.8.rgb_bias",
                    "blocks.16.from_rgb.weight", "blocks.16.rgb_bias"}
    conv = G1.synthesis.blocks[1].conv1.weight  # 8²: 8 old channels of 32; new ones read by old ones: zero
    assert not conv[:8, 8:].any() and conv[8:].abs().mean() > 0.5


def test_a_run_starts_from_another_runs_state_or_kit_with_its_g_g_ema_and_d(tmp_path, data):
    src = finished(TrainingRun(tiny_cfg(data, growing=False, total_kimg=0.064), tmp_path / "a",
                               export=tmp_path / "kit"))
    state = src.files.latest_state()
    for start in (state, tmp_path / "kit", tmp_path / "a"):
        run = TrainingRun(tiny_cfg(data, init=str(start), lr=0.001), tmp_path / f"r-{start.name}")
        assert same(run.G, src.G) and same(run.G_ema, src.G_ema) and same(run.D, src.D)
        assert run.cfg.arch == src.cfg.model_config() and (run.cfg.lr, run.kimg) == (0.001, 0)  # a new run
        assert run.cfg.init_id.startswith("sha256:") and any("of a run at 0.064 kimg" in n for n in run.notes)


def test_channels_max_widens_a_run_start_and_g_ema_keeps_rendering_the_same(tmp_path, data):
    src = finished(TrainingRun(tiny_cfg(data, growing=False, total_kimg=0.064), tmp_path / "a"))
    run = TrainingRun(tiny_cfg(data, init=str(src.files.latest_state()), channels_max=64), tmp_path / "w")
    assert [run.G.cfg.channels(r) for r in (4, 8, 16)] == [64, 64, 32] and run.D.cfg == run.cfg.arch
    assert any("4² 16 → 64, 8² 16 → 64, 16² 16 → 32" in n for n in run.notes)
    z = torch.randn(4, 16)
    torch.testing.assert_close(run.G_ema(z), src.G_ema(z), rtol=0, atol=1e-5)
    torch.testing.assert_close(run.G(z), src.G(z), rtol=0, atol=1e-5)
    img = torch.rand(8, 3, 16, 16) * 2 - 1
    torch.testing.assert_close(run.D(img), src.D(img), rtol=0, atol=1e-3)
    # G and G_ema share the new channels' fresh weights, so G_ema's running average starts consistent
    assert torch.equal(run.G.synthesis.blocks[0].conv1.weight[16:], run.G_ema.synthesis.blocks[0].conv1.weight[16:])
    finished(run)
    assert run.G.synthesis.blocks[1].conv1.weight[:16, 16:].abs().sum() > 0  # old channels now read new ones
    resumed = TrainingRun(None, tmp_path / "w", resume=True, total_kimg=0.192)
    assert resumed.G.cfg == run.G.cfg and resumed.notes == ()


def test_channels_max_is_one_option_for_new_runs_and_is_checked(tmp_path, data, capsys):
    cfg = TrainConfig(resolution=64, channels=64, channels_max=256)
    assert [cfg.model_config().channels(r) for r in (4, 8, 16, 32, 64)] == [256, 256, 128, 64, 32]
    assert cfg.d_config().fmap_max == 256 and TrainConfig(channels=64).model_config().fmap_max == 64
    with pytest.raises(UserError, match="low-res channels"):
        TrainConfig(channels_max=-1)
    assert "widened below 32² up to 256 maps" in schedule_text(TrainConfig(init="m.safetensors", channels_max=256))
    assert "widened" not in schedule_text(TrainConfig(init="m.safetensors"))  # the window's line under the form
    our_model(tmp_path / "tiny.safetensors")  # channels halve from 8 at 4² already: nothing to widen at 8
    args = ["train", "--init", str(tmp_path / "tiny.safetensors"), "--data", str(data), "--kimg", "0.016",
            "--batch", "8"]
    assert main([*args, "--out", str(tmp_path / "r1"), "--channels-max", "32"]) == 0
    assert "widened (feature maps 4² 8 → 32, 8² 8 → 16" in capsys.readouterr().out
    assert json.loads((tmp_path / "r1" / "config.json").read_text())["arch"]["fmap_max"] == 32
    assert main([*args, "--out", str(tmp_path / "r2"), "--channels-max", "8"]) == 0  # its own: no widening
    assert "widened" not in capsys.readouterr().out
    (tmp_path / "bad.safetensors").write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{}      ")
    assert main([*args[:2], str(tmp_path / "bad.safetensors"), *args[3:], "--out", str(tmp_path / "r3")]) == 1
    assert "bad.safetensors" in capsys.readouterr().err


def test_a_widening_that_cannot_be_done_is_one_line(tmp_path, data):
    G = Generator(ModelConfig(resolution=16, z_dim=12, w_dim=10, mapping_layers=2, fmap_base=16, fmap_max=8))
    save_model(G, tmp_path / "halving.safetensors", ModelMeta(name="halving"))  # 8 at 4² already halves
    with pytest.raises(UserError, match="widens no layer of this model"):
        TrainingRun(tiny_cfg(data, init=str(tmp_path / "halving.safetensors"), channels_max=32), tmp_path / "r")
    with pytest.raises(UserError, match="widening a StyleGAN2 model .* is not supported"):
        TrainingRun(tiny_cfg(data, init=str(px.NVIDIA_DATA / "sg2ada_uncond.pkl"), channels_max=4096), tmp_path / "r2")
    (tmp_path / "kit").mkdir()
    with pytest.raises(UserError, match="no resume kit"):
        TrainingRun(tiny_cfg(data, init=str(tmp_path / "kit")), tmp_path / "r3")
    finished(TrainingRun(tiny_cfg(data, growing=False, total_kimg=0.016, d_channels=8), tmp_path / "d8"))
    with pytest.raises(UserError, match="its D is not as wide as its G"):
        TrainingRun(tiny_cfg(data, init=str(tmp_path / "d8")), tmp_path / "r4")
    assert not any((tmp_path / r).exists() for r in ("r", "r2", "r3", "r4"))


def test_a_stylegan2_run_starts_another_with_its_networks(tmp_path, data):
    src = finished(TrainingRun(tiny_cfg(data, architecture="stylegan2", total_kimg=0.032, tick_kimg=0.016),
                               tmp_path / "a"))
    run = TrainingRun(tiny_cfg(data, init=str(tmp_path / "a"), augment="none"), tmp_path / "b")
    assert run.G.arch == "stylegan2" and run.cfg.arch == src.cfg.arch and run.pl_weight == 2.0
    assert same(run.G, src.G) and same(run.G_ema, src.G_ema) and same(run.D, src.D)
    assert not same(finished(run).G, src.G)
