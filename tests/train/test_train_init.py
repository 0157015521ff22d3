"""Fine-tuning (`train --init MODEL`): from our model files and official pickles, exact resume, CLI and pane."""
import json

import pytest
import torch

import official_fixtures as fx
from stylegan_studio.engine.cli.main import main
from stylegan_studio.engine.contract.modelconfig import ModelConfig
from stylegan_studio.engine.contract.errors import UserError
from stylegan_studio.engine.files.modelfile import ModelMeta, load_model, save_model
from stylegan_studio.engine.nets.networks import Generator
from stylegan_studio.engine.files.official import load_official
from stylegan_studio.engine.contract.training import TrainConfig
from stylegan_studio.engine.train.run import TrainingRun

from helpers import make_folder, tiny_cfg
from test_training import weights


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("STYLEGAN_STUDIO_CACHE", str(tmp_path / "cache"))


@pytest.fixture
def data(tmp_path):
    return make_folder(tmp_path / "data", n=16)  # 24 px images


def our_model(path, res=16):
    """A tiny model file whose weights are visibly not a fresh initialisation."""
    torch.manual_seed(5)
    G = Generator(ModelConfig(resolution=res, z_dim=12, w_dim=10, mapping_layers=2, mapping_fmaps=14,
                              fmap_base=64, fmap_max=8))
    with torch.no_grad():
        for t in G.state_dict().values():
            t.add_(torch.randn_like(t) * 0.1)
    save_model(G, path, ModelMeta(name="tiny"))
    return load_model(path)


def same(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def official_pickle(path, res=16, group=2, gs_only=False):
    G, D, Gs = fx.snapshot(fx.tiny_kwargs(res), seed=3)
    D.state["static_kwargs"]["mbstd_group_size"] = group
    return fx.write(path, Gs if gs_only else (G, D, Gs))


def test_our_model_file_starts_the_run_at_its_architecture(tmp_path, data):
    src, meta = our_model(tmp_path / "tiny.safetensors", res=32)
    run = TrainingRun(tiny_cfg(data, init=str(tmp_path / "tiny.safetensors")), tmp_path / "r")
    assert run.cfg.arch == src.cfg and run.G.cfg == run.D.cfg == src.cfg
    assert (run.cfg.resolution, run.cfg.growing, run.cfg.init_id) == (32, False, meta.model_id)
    assert run.images.shape[1:] == (32, 32, 3)           # 24 px images are resized to the model's 32²
    assert same(run.G_ema, src) and same(run.G, src)     # G starts as a copy of G_ema
    assert run.G.training and not run.G_ema.training and not any(p.requires_grad for p in run.G_ema.parameters())
    assert any("G_ema only" in n for n in run.notes)
    before = weights(run).clone()
    for _ in range(2):
        run.step()
    assert run.cfg.phase(run.kimg) == (32, 1.0) and not torch.equal(weights(run), before)
    cfg = json.loads((tmp_path / "r" / "config.json").read_text())
    assert cfg["init"] == str(tmp_path / "tiny.safetensors") and cfg["init_id"] == meta.model_id
    assert ModelConfig.from_dict(cfg["arch"]) == src.cfg and cfg["resolution"] == 32 and cfg["growing"] is False


def test_official_pickle_gives_g_g_ema_and_d_with_its_mbstd_group(tmp_path, data):
    pkl = official_pickle(tmp_path / "network-snapshot-000100.pkl", group=2)
    ref = load_official(pkl, training=True)
    run = TrainingRun(tiny_cfg(data, init=str(pkl)), tmp_path / "r")
    assert same(run.G_ema, ref.G_ema) and same(run.G, ref.G) and same(run.D, ref.D)
    assert not same(run.G, run.G_ema)                   # the snapshot's G, not a copy of Gs
    assert run.D.cfg.mbstd_group == 2 and run.D.mbstd.group == 2 and run.cfg.z_dim == 12
    assert run.D.training and run.G.training and run.cfg.init_id.startswith("sha256:")
    out = run.step()
    assert all(torch.isfinite(torch.tensor(out[k])) for k in ("loss_g", "loss_d"))
    assert run.cfg.ema_half_life(run.kimg) == run.cfg.ema_kimg  # G_ema starts trained: no ramp


def test_pickle_with_gs_only_copies_it_to_g_and_d_starts_fresh(tmp_path, data):
    pkl = official_pickle(tmp_path / "gs.pkl", gs_only=True)
    run = TrainingRun(tiny_cfg(data, init=str(pkl)), tmp_path / "r")
    assert same(run.G, run.G_ema) and run.D.cfg.mbstd_group == 4
    assert any("Gs only" in n for n in run.notes) and any("D starts from random" in n for n in run.notes)


def test_resume_of_an_init_run_is_exact_and_never_reads_the_model_again(tmp_path, data):
    pkl = official_pickle(tmp_path / "m.pkl")
    straight = TrainingRun(tiny_cfg(data, init=str(pkl)), tmp_path / "a")
    for _ in straight.steps():
        pass
    first = TrainingRun(tiny_cfg(data, init=str(pkl), total_kimg=0.064), tmp_path / "b")
    for _ in first.steps():
        pass
    pkl.unlink()  # the run continues from its own state
    resumed = TrainingRun(None, tmp_path / "b", resume=True, total_kimg=0.128)
    assert resumed.cfg.arch == first.cfg.arch and resumed.cfg.init == str(pkl) and resumed.notes == ()
    for _ in resumed.steps():
        pass
    torch.testing.assert_close(weights(resumed), weights(straight), rtol=0, atol=1e-6)
    snap = sorted((tmp_path / "b").glob("snapshot-*.safetensors"))[-1]
    assert "started from" in load_model(snap)[1].source


def test_unusable_init_models_are_one_line_errors(tmp_path, data):
    with pytest.raises(UserError, match="no such model file"):
        TrainingRun(tiny_cfg(data, init=str(tmp_path / "missing.safetensors")), tmp_path / "r")
    (tmp_path / "junk.pkl").write_bytes(b"not a pickle")
    with pytest.raises(UserError, match="junk.pkl"):
        TrainingRun(tiny_cfg(data, init=str(tmp_path / "junk.pkl")), tmp_path / "r2")
    our_model(tmp_path / "big.safetensors", res=128)   # 24 px images would need more than 4× upscaling
    with pytest.raises(UserError, match="large enough for 128"):
        TrainingRun(tiny_cfg(data, init=str(tmp_path / "big.safetensors")), tmp_path / "r3")
    assert not (tmp_path / "r").exists()


def test_cli_init_flag_reaches_config_json_and_notes_unused_flags(tmp_path, data, capsys):
    our_model(tmp_path / "tiny.safetensors")
    args = ["train", "--init", str(tmp_path / "tiny.safetensors"), "--data", str(data), "--out",
            str(tmp_path / "run"), "--kimg", "0.016", "--batch", "8", "--resolution", "32", "--channels", "16"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "note: starts from tiny.safetensors" in out and "16 images at 16²" in out
    assert "--resolution 32, --channels 16 not used" in out
    cfg = json.loads((tmp_path / "run" / "config.json").read_text())
    assert cfg["init"] == str(tmp_path / "tiny.safetensors") and cfg["resolution"] == 16
    assert main(["train", "--resume", str(tmp_path / "run"), "--kimg", "0.024"]) == 0
    assert "tick 2" in capsys.readouterr().out
    assert main([*args[:2], str(tmp_path / "nope.pkl"), *args[3:5], "--out", str(tmp_path / "run2")]) == 1
    assert "nope.pkl" in capsys.readouterr().err


def test_config_with_a_model_architecture_round_trips_and_is_checked():
    arch = ModelConfig(resolution=32, z_dim=12, w_dim=10, mapping_layers=3, fmap_base=64, fmap_max=8)
    cfg = TrainConfig(data="x", init="m.pkl").with_model(arch, "sha256:ab")
    assert TrainConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg
    assert cfg.model_config() == cfg.d_config() == arch and cfg.phase(0) == (32, 1.0)
    with pytest.raises(UserError, match="without growing"):
        TrainConfig.from_dict({**cfg.to_dict(), "resolution": 64})
    with pytest.raises(UserError, match="training config"):
        TrainConfig.from_dict({**cfg.to_dict(), "arch": {**arch.to_dict(), "resolution": 3}})


def test_training_pane_offers_a_model_picker(qtbot, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    from fake_bridge import FakeBridge
    from stylegan_studio.app.panes.training import TrainingPane
    from stylegan_studio.app.state import ExploreState
    from stylegan_studio.engine.contract import messages as m
    bridge = FakeBridge()
    pane = TrainingPane(bridge, ExploreState())
    qtbot.addWidget(pane)
    model = str(tmp_path / "ffhq.pkl")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (model, ""))
    assert pane.form.widgets["resolution"].isEnabled()
    pane.form.pickers["init"].click()
    assert pane.form.widgets["init"].text() == model
    assert not pane.form.widgets["resolution"].isEnabled() and not pane.form.widgets["growing"].isEnabled()
    assert "Starts from ffhq.pkl" in pane.schedule.text()
    pane.data.setText(str(tmp_path))
    pane.start()
    assert bridge.last(m.StartTraining).config.init == model
    pane.form.widgets["init"].setText("")
    assert pane.form.widgets["resolution"].isEnabled()


def test_d_warmup_trains_only_d_then_g_moves(tmp_path, data):
    our_model(tmp_path / "tiny.safetensors")
    run = TrainingRun(tiny_cfg(data, init=str(tmp_path / "tiny.safetensors"), d_warmup_kimg=0.016), tmp_path / "r")
    assert any("train D only" in n for n in run.notes)
    G0, G_ema0, D0 = (weights_of(m) for m in (run.G, run.G_ema, run.D))
    out = run.step()                                      # 8 images: inside the 16-image warm-up
    assert out["loss_g"] == 0.0 and out["loss_d"] > 0
    assert torch.equal(weights_of(run.G), G0) and torch.equal(weights_of(run.G_ema), G_ema0)
    assert not torch.equal(weights_of(run.D), D0)
    run.step()
    out = run.step()                                      # 24 images: past it
    assert out["loss_g"] > 0 and not torch.equal(weights_of(run.G), G0)
    assert not torch.equal(weights_of(run.G_ema), G_ema0)


def test_d_warmup_must_fit_the_run(tmp_path, data):
    with pytest.raises(UserError, match="D warm-up"):
        tiny_cfg(data, d_warmup_kimg=0.128)
    with pytest.raises(UserError, match="D warm-up"):
        tiny_cfg(data, d_warmup_kimg=-1.0)


def weights_of(module: torch.nn.Module) -> torch.Tensor:
    return torch.cat([p.detach().flatten().clone() for p in module.parameters()])
