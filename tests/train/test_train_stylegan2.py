"""Fine-tuning StyleGAN2-ADA snapshots (`train --init X.pkl`): G, G_ema and D from the pickle, StyleGAN2's
path-length regularisation, exact resume, the snapshot as a v2 model file, the CLI and what is refused."""
import json

import numpy as np
import pytest
import torch

import persist_fixtures as px
from stylegan_studio.engine.cli.main import main
from stylegan_studio.engine.contract.errors import UserError
from stylegan_studio.engine.contract.training import TrainConfig
from stylegan_studio.engine.files.imported import snapshot_networks
from stylegan_studio.engine.files.modelfile import load_model
from stylegan_studio.engine.files.persist import read_snapshot
from stylegan_studio.engine.nets.stylegan2_config import Stylegan2Config
from stylegan_studio.engine.train.run import TrainingRun
from stylegan_studio.engine.train.warmstart import resolved_arch

from helpers import make_folder, tiny_cfg
from test_training import straight_and_split, weights

PKL = px.NVIDIA_DATA / "sg2ada_uncond.pkl"   # NVIDIA-made: 32², G and D at channel_base 512, fp16 in 2 blocks


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("STYLEGAN_STUDIO_CACHE", str(tmp_path / "cache"))


@pytest.fixture
def data(tmp_path):
    return make_folder(tmp_path / "data", n=16, size=32)


def v2_cfg(data, **kw):
    return tiny_cfg(data, **{"init": str(PKL), "total_kimg": 0.064, "tick_kimg": 0.032, **kw})


def same(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def test_the_run_starts_from_the_snapshots_g_g_ema_and_d_at_its_architecture(tmp_path, data):
    G_ema, _, G, D = snapshot_networks(read_snapshot(PKL))
    run = TrainingRun(v2_cfg(data), tmp_path / "r")
    assert same(run.G_ema, G_ema) and same(run.G, G) and same(run.D, D) and not same(run.G, run.G_ema)
    cfg = run.cfg
    assert (cfg.architecture, cfg.resolution, cfg.growing, cfg.z_dim, cfg.noise_res) == ("stylegan2", 32, False, 24, 32)
    assert isinstance(cfg.arch, Stylegan2Config) and cfg.arch.d_channel_base == 512 and cfg.arch.d_mbstd_group_size == 4
    assert run.pl_weight == 2.0 and run.D.training and run.G.training and not run.G_ema.training
    assert "StyleGAN2, 32², z 24, w 32, 3 mapping layers" in run.notes[0] and "noise at every layer" in run.notes[0]
    before = weights(run).clone()
    updates = list(run.steps())
    assert not torch.equal(weights(run), before) and run.g_steps == 8
    assert 0 < float(run.pl_mean) and torch.isfinite(run.pl_mean)   # the penalty ran (on steps 0 and 4)
    stats = [u.tick_stats for u in updates if u.tick_stats]
    assert len(stats) == 2 and all(np.isfinite([s.loss_g, s.loss_d, s.r1]).all() for s in stats)
    snap = [u.snapshot_path for u in updates if u.snapshot_path][-1]
    H, meta = load_model(snap)
    assert H.arch == "stylegan2" and H.cfg == cfg.arch and same(H, run.G_ema)
    assert f"started from {PKL}" in meta.source and meta.grown is None
    stored = json.loads((tmp_path / "r" / "config.json").read_text())
    assert stored["architecture"] == "stylegan2" and Stylegan2Config.from_dict(stored["arch"]) == cfg.arch


def test_resume_is_exact_path_length_mean_included(tmp_path, data):
    straight, first, resumed = straight_and_split(v2_cfg(data), tmp_path, 0.032)
    assert resumed.cfg.arch == first.cfg.arch and (resumed.g_steps, resumed.tick) == (4, 1)
    assert torch.equal(resumed.pl_mean, first.pl_mean) and resumed.notes == ()
    for _ in resumed.steps():
        pass
    torch.testing.assert_close(weights(resumed), weights(straight), rtol=0, atol=1e-6)
    assert torch.equal(resumed.pl_mean, straight.pl_mean)


def test_path_length_weight_auto_follows_the_models_recipe_and_moves_g(tmp_path, data):
    def g_after_one_step(folder, **kw):
        run = TrainingRun(v2_cfg(data, **kw), tmp_path / folder)
        run.step()
        return run, torch.cat([p.detach().flatten() for p in run.G.parameters()])

    on, g_on = g_after_one_step("on")
    off, g_off = g_after_one_step("off", pl_weight=0.0)
    assert (on.pl_weight, off.pl_weight) == (2.0, 0.0) and float(off.pl_mean) == 0.0 < float(on.pl_mean)
    assert not torch.equal(g_on, g_off)                  # the same draws otherwise: the penalty reached G
    v1 = TrainingRun(tiny_cfg(data), tmp_path / "v1")    # StyleGAN v1 from scratch: its paper has none
    v1.step()
    assert v1.pl_weight == 0.0 and float(v1.pl_mean) == 0.0
    grown = TrainingRun(tiny_cfg(data, pl_weight=2.0), tmp_path / "v1pl")  # asked for: taken at the growing phase
    grown.step()
    assert grown.cfg.phase(0) == (8, 1.0) and float(grown.pl_mean) > 0
    with pytest.raises(UserError, match="path-length weight"):
        tiny_cfg(data, pl_weight=-1.0)


def test_a_damaged_architecture_in_a_run_config_is_one_line(tmp_path, data):
    run = TrainingRun(v2_cfg(data, total_kimg=0.032), tmp_path / "r")
    for _ in run.steps():
        pass
    path = tmp_path / "r" / "config.json"
    stored = json.loads(path.read_text())
    assert resolved_arch(TrainConfig.from_dict(stored)).arch == run.cfg.arch   # the plain dict builds back
    stored["arch"]["architecture"] = "wide"
    path.write_text(json.dumps(stored))
    with pytest.raises(UserError, match="training config: architecture must be one of"):
        TrainingRun(None, tmp_path / "r", resume=True)


def test_cli_fine_tunes_a_pickle_and_resumes_it(tmp_path, data, capsys):
    args = ["train", "--init", str(PKL), "--data", str(data), "--out", str(tmp_path / "run"), "--kimg", "0.016",
            "--batch", "8", "--tick-kimg", "0.008", "--augment", "none"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "note: starts from sg2ada_uncond.pkl" in out and "StyleGAN2, 32²" in out and "tick 2" in out
    assert main(["train", "--resume", str(tmp_path / "run"), "--kimg", "0.024"]) == 0
    assert "tick 3" in capsys.readouterr().out
    snaps = sorted((tmp_path / "run").glob("snapshot-*.safetensors"))
    assert main(["info", "--model", str(snaps[-1])]) == 0
    out = capsys.readouterr().out
    assert "arch      StyleGAN2" in out
    run = TrainingRun(v2_cfg(data, init=str(snaps[-1])), tmp_path / "again")  # G only: a fresh D as wide as G
    assert f"D               {sum(p.numel() for p in run.D.parameters()):,}" in out  # info counts that D


def test_the_window_offers_fine_tuning_for_an_unconditional_pickle_only(tmp_path):
    from stylegan_studio.engine.thread.model_slot import ModelSlot
    slot = ModelSlot(torch.device("cpu"))
    slot.load(str(PKL))
    assert slot.info().can_train
    slot.load(str(px.NVIDIA_DATA / "sg2ada_cond.pkl"))
    assert not slot.info().can_train


def test_a_new_stylegan2_run_from_the_runs_sizes_trains_without_growing_and_resumes(tmp_path, data, capsys):
    args = ["train", "--architecture", "stylegan2", "--data", str(data), "--out", str(tmp_path / "run"),
            "--resolution", "16", "--channels", "8", "--z-dim", "12", "--mapping-layers", "2", "--mbstd-group", "2",
            "--kimg", "0.016", "--batch", "8", "--tick-kimg", "0.008", "--augment", "none"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "StyleGAN2 trains at its full resolution: progressive growing is off" in out and "res 16" in out
    stored = TrainConfig.from_dict(json.loads((tmp_path / "run" / "config.json").read_text()))
    arch = resolved_arch(stored).arch
    assert (stored.architecture, stored.growing, stored.init) == ("stylegan2", False, "")
    assert (arch.img_resolution, arch.channels(4), arch.channels(16), arch.z_dim, arch.w_dim) == (16, 8, 8, 12, 12)
    assert (arch.d_channels(16), arch.d_mbstd_group_size, arch.mapping_layers) == (8, 2, 2)
    assert main(["train", "--resume", str(tmp_path / "run"), "--kimg", "0.024"]) == 0
    assert "tick 3" in capsys.readouterr().out
    H, meta = load_model(sorted((tmp_path / "run").glob("snapshot-*.safetensors"))[-1])
    assert H.arch == "stylegan2" and H.cfg == arch and meta.kimg == 0.024


def test_the_schedule_line_of_a_stylegan2_run_says_it_does_not_grow():
    from stylegan_studio.engine.contract.training import growth_steps, schedule_text
    cfg = TrainConfig(data="x", architecture="stylegan2", resolution=64)
    assert schedule_text(cfg) == "Trains at 64² throughout (StyleGAN2 does not grow)" and growth_steps(cfg) == 0
    with pytest.raises(UserError, match="architecture must be one of stylegan1, stylegan2"):
        TrainConfig(data="x", architecture="stylegan3")


def test_training_pane_offers_stylegan2_and_greys_growing_for_it(qtbot, tmp_path):
    from fake_bridge import FakeBridge
    from stylegan_studio.app.panes.training import TrainingPane
    from stylegan_studio.app.state import ExploreState
    from stylegan_studio.engine.contract import messages as m
    bridge = FakeBridge()
    pane = TrainingPane(bridge, ExploreState())
    qtbot.addWidget(pane)
    w = pane.form.widgets
    arch = w["architecture"]   # offered in words, kept as the registry's key
    assert [arch.itemText(i) for i in range(arch.count())] == ["StyleGAN", "StyleGAN2"]
    assert arch.currentText() == "StyleGAN" and pane.form.values()["architecture"] == "stylegan1"
    assert w["growing"].isEnabled()
    arch.setCurrentText("StyleGAN2")
    assert not any(w[n].isEnabled() for n in ("growing", "start_res", "fade_kimg", "stable_kimg"))
    assert w["resolution"].isEnabled() and "StyleGAN2 does not grow" in pane.schedule.text()
    w["init"].setText(str(PKL))                  # a model decides the architecture too
    assert not w["architecture"].isEnabled() and not w["resolution"].isEnabled()
    w["init"].setText("")
    pane.data.setText(str(tmp_path))
    pane.start()
    assert bridge.last(m.StartTraining).config.architecture == "stylegan2"
    arch.setCurrentText("StyleGAN")
    assert w["growing"].isEnabled() and "Grows" in pane.schedule.text()
    pane.form.set_config(m.TrainConfig(architecture="stylegan2", resolution=32))
    assert arch.currentText() == "StyleGAN2" and pane.form.values()["resolution"] == 32


def test_the_engine_fine_tunes_a_pickle_and_tells_the_window_in_contract_data(eng, data, tmp_path):
    from stylegan_studio.engine.contract import messages as m
    cfg = m.TrainConfig(data=str(data), init=str(PKL), total_kimg=0.016, batch=8, tick_kimg=0.008, augment="none")
    eng.post(m.StartTraining(config=cfg, run_dir=str(tmp_path / "run")))
    started = eng.rec.wait(m.TrainingState, state="running", timeout=60)
    assert started.config.architecture == "stylegan2" and isinstance(started.config.arch, dict)
    assert started.config.arch["img_resolution"] == 32 and "StyleGAN2, 32²" in started.notes[0]
    assert eng.rec.wait(m.JobFinished, kind="train", timeout=60).status == "ok"
    snap = eng.rec.wait(m.TrainingSnapshot)
    assert load_model(snap.path)[0].arch == "stylegan2" and not eng.rec.of(m.ErrorEvent)
