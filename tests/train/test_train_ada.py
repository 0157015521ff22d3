"""Augmentation strength: a fixed probability per op and image, or adapted during the run (StyleGAN2-ADA)."""
import json

import math
import pytest
import torch

from helpers import make_folder, tiny_cfg
from stylegan_studio.engine.cli.main import main
from stylegan_studio.engine.contract.errors import UserError
from stylegan_studio.engine.contract.training import ADA_INTERVAL, ADA_KIMG, TrainConfig
from stylegan_studio.engine.train.augment import AugmentStrength, augment
from stylegan_studio.engine.train.run import TrainingRun
from stylegan_studio.engine.train.state import RunFiles
from test_training import straight_and_split, weights

AUG = "color,translation,cutout"


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("STYLEGAN_STUDIO_CACHE", str(tmp_path / "cache"))


def _images(n=2000):
    return torch.rand(n, 3, 16, 16, generator=torch.Generator().manual_seed(0)) * 2 - 1


@pytest.mark.parametrize("op", AUG.split(","))
def test_each_op_applies_to_about_p_of_the_images(op):
    x = _images()
    out = augment(x, (op,), torch.Generator().manual_seed(1), torch.tensor(0.3))
    changed = (out != x).flatten(1).any(1).float().mean().item()
    # ±4.4 σ of a binomial(2000, 0.3) share (translation leaves 1 image in 25 where it was: 0.288)
    assert abs(changed - 0.3) < 0.045


def test_p_0_is_no_augmentation_and_p_1_every_op_on_every_image():
    x = _images(64)
    torch.testing.assert_close(augment(x, tuple(AUG.split(",")), torch.Generator(), torch.tensor(0.0)), x,
                               rtol=0, atol=0)
    for op in AUG.split(","):  # a single op draws the same parameters either way
        every = augment(x, (op,), torch.Generator().manual_seed(5))
        torch.testing.assert_close(augment(x, (op,), torch.Generator().manual_seed(5), torch.tensor(1.0)), every,
                                   rtol=0, atol=0)


def test_adaptive_p_rises_while_d_is_sure_of_the_reals_and_falls_back_to_0():
    s = AugmentStrength(None, 0.6, torch.device("cpu"))
    step = 16 * ADA_INTERVAL / (ADA_KIMG * 1000)
    for _ in range(3 * ADA_INTERVAL):
        s.observe(torch.full((16,), 2.0), 16)     # every real scored real: r_t = 1 > 0.6
    assert s.p.item() == pytest.approx(3 * step)
    for _ in range(ADA_INTERVAL - 1):
        s.observe(torch.full((16,), -1.0), 16)
    assert s.p.item() == pytest.approx(3 * step)  # p moves once per interval
    s.observe(torch.tensor([1.0] * 9 + [-1.0] * 7), 16)  # the interval's r_t: (-48 + 2) / 64 < 0.6
    assert s.p.item() == pytest.approx(2 * step)
    for _ in range(10 * ADA_INTERVAL):
        s.observe(torch.tensor([1.0] * 12 + [-1.0] * 4), 16)  # r_t 0.5, below the target
    assert s.p.item() == 0.0                      # never below 0
    for _ in range(ADA_INTERVAL):
        s.observe(torch.tensor([math.nan, math.inf] + [1.0] * 14), 16)  # a diverging step's scores count as 0
    assert s.p.item() == pytest.approx(step)


def test_a_fixed_p_stays_and_1_keeps_the_every_image_path():
    fixed = AugmentStrength(0.25, 0.6, torch.device("cpu"))
    for _ in range(3 * ADA_INTERVAL):
        fixed.observe(torch.full((8,), 3.0), 8)
    assert fixed.p.item() == 0.25 and fixed.arg() is fixed.p
    assert AugmentStrength(1.0, 0.6, torch.device("cpu")).arg() is None


def test_settings_are_checked_in_one_line():
    with pytest.raises(UserError, match="from 0 to 1"):
        TrainConfig(data="x", augment_p=1.5)
    with pytest.raises(UserError, match="from 0 to 1"):
        TrainConfig(data="x", augment_p=math.nan)
    with pytest.raises(UserError, match="between 0 and 1"):
        TrainConfig(data="x", augment_target=1.0)


def test_an_adaptive_run_logs_p_and_r_t_and_resumes_exactly(tmp_path, monkeypatch):
    monkeypatch.setattr("stylegan_studio.engine.train.augment.ADA_KIMG", 0.05)  # p moves 0.64 per interval
    data = make_folder(tmp_path / "data", n=32)
    cfg = tiny_cfg(data, augment=AUG, augment_p=None, augment_target=0.3)
    straight, first, resumed = straight_and_split(cfg, tmp_path, 0.064)
    for _ in resumed.steps():
        pass
    torch.testing.assert_close(weights(resumed), weights(straight), rtol=0, atol=1e-6)
    assert resumed.strength.p.item() == straight.strength.p.item()
    lines = [json.loads(x) for x in (tmp_path / "a" / "stats.jsonl").read_text().splitlines()]
    assert all(0.0 <= x["augment_p"] <= 1.0 and -1.0 <= x["r_t"] <= 1.0 for x in lines)
    assert lines[0]["augment_p"] != lines[1]["augment_p"]  # adapted between the ticks (in either direction)


def test_auto_is_the_default_and_without_augmentations_p_stays_0(tmp_path):
    assert TrainConfig(data="x").augment_p is None
    data = make_folder(tmp_path / "data", n=16)
    run = TrainingRun(tiny_cfg(data, augment="none", augment_p=None, total_kimg=0.064), tmp_path / "r")
    for _ in run.steps():
        pass
    lines = [json.loads(x) for x in (tmp_path / "r" / "stats.jsonl").read_text().splitlines()]
    assert [x["augment_p"] for x in lines] == [0.0]


def test_a_run_from_before_the_option_resumes_augmenting_every_image(tmp_path):
    data = make_folder(tmp_path / "data", n=16)
    finished = TrainingRun(tiny_cfg(data, augment=AUG, augment_p=1.0, total_kimg=0.064), tmp_path / "r")
    for _ in finished.steps():
        pass
    config = tmp_path / "r" / "config.json"
    old = json.loads(config.read_text())
    del old["augment_p"], old["augment_target"]  # as runs before the option wrote it
    config.write_text(json.dumps(old))
    run = TrainingRun(None, tmp_path / "r", resume=True, total_kimg=0.128)
    assert run.cfg.augment_p == 1.0 and run.strength.arg() is None


def test_cli_takes_auto_and_a_resume_may_fix_p(tmp_path, capsys):
    data = make_folder(tmp_path / "data", n=16)
    base = ["--channels", "16", "--z-dim", "16", "--batch", "8", "--tick-kimg", "0.016", "--resolution", "16",
            "--no-growing", "--augment", AUG]
    assert main(["train", "--data", str(data), "--out", str(tmp_path / "run"), "--kimg", "0.016",
                 "--augment-p", "auto", *base]) == 0
    assert json.loads((tmp_path / "run" / "config.json").read_text())["augment_p"] is None
    assert "aug p 0.00" in capsys.readouterr().out
    assert main(["train", "--resume", str(tmp_path / "run"), "--kimg", "0.032", "--augment-p", "0.5"]) == 0
    run = TrainingRun(None, tmp_path / "run", resume=True)
    assert run.cfg.augment_p == 0.5 and run.strength.p.item() == 0.5


def test_ticks_of_older_runs_read_without_the_augmentation_figures(tmp_path):
    folder = tmp_path / "run"
    folder.mkdir()
    old = {"tick": 1, "kimg": 1.0, "resolution": 16, "fade": 1.0, "batch": 8, "sec_per_kimg": 1.0,
           "images_per_s": 1.0, "loss_g": 1.0, "loss_d": 1.0, "r1": 0.1, "score_real": 0.5, "score_fake": -0.5,
           "time": 0.0, "diversity": 0.9}
    (folder / "stats.jsonl").write_text(json.dumps(old) + "\n")
    ticks, metrics = RunFiles(folder).history(10.0)
    assert len(ticks) == 1 and math.isnan(ticks[0].augment_p) and math.isnan(ticks[0].r_t)
    assert metrics == [(1.0, "diversity", 0.9)]
