"""Training: learning signal, exact resume, bad datasets, atomic snapshots, CLI."""
import dataclasses
import json

import numpy as np
import pytest
import torch
from PIL import Image

from helpers import make_folder, tiny_cfg
from stylegan_studio.engine.contract.training import TrainConfig

from stylegan_studio.engine.cli.main import main
from stylegan_studio.engine.files.dataset import load_images, validate
from stylegan_studio.engine.contract.errors import UserError
from stylegan_studio.engine.render import synth as ex
from stylegan_studio.engine.render.synth import to_uint8
from stylegan_studio.engine.contract.latents import Latent, RenderSettings
from stylegan_studio.engine.files.modelfile import load_model
from stylegan_studio.engine.train.run import TrainingRun, dataset_note
from stylegan_studio.engine.train.state import RunFiles
from stylegan_studio.engine.train.warmstart import read_init
from synthetic import make_folder, tiny_cfg


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("STYLEGAN_STUDIO_CACHE", str(tmp_path / "cache"))


def colour_stats(imgs: np.ndarray) -> np.ndarray:
    """Per-channel mean and std of a uint8 batch (a crude but honest distribution summary)."""
    x = imgs.reshape(-1, 3).astype(np.float32) / 255
    return np.concatenate([x.mean(0), x.std(0)])


def test_short_run_learns_colour_statistics(tmp_path):
    data = make_folder(tmp_path / "data", n=64)
    run = TrainingRun(tiny_cfg(data, total_kimg=3.0, growing=False, tick_kimg=0.75, snapshot_ticks=4, lr=0.004),
                      tmp_path / "r")
    reals = run.images[:64].cpu().numpy()
    def distance():
        with torch.no_grad():
            fakes = to_uint8(run.G_ema(torch.randn(64, 16, generator=torch.Generator().manual_seed(1))))
        return float(np.abs(colour_stats(fakes) - colour_stats(reals)).sum())
    before = distance()
    for _ in run.steps():
        pass
    after = distance()
    assert after < 0.5 * before, (before, after)
    lines = [json.loads(x) for x in (tmp_path / "r" / "stats.jsonl").read_text().splitlines()]
    assert len(lines) == 4 and {"kimg", "resolution", "fade", "loss_g", "loss_d", "r1", "images_per_s"} <= set(lines[0])
    G, meta = load_model(sorted((tmp_path / "r").glob("snapshot-*.safetensors"))[-1])
    assert meta.kimg == pytest.approx(3.0, abs=0.01)


def weights(run):
    return torch.cat([p.detach().flatten() for p in list(run.G.parameters()) + list(run.D.parameters())
                      + list(run.G_ema.parameters())])


def finished(run):
    """`run` after all its steps."""
    for _ in run.steps():
        pass
    return run


def straight_and_split(cfg, tmp_path, half_kimg):
    """(`cfg`'s run to its end, the same run stopped at `half_kimg`, that one resumed to the end, not yet stepped)."""
    straight = finished(TrainingRun(cfg, tmp_path / "a"))
    first = finished(TrainingRun(dataclasses.replace(cfg, total_kimg=half_kimg), tmp_path / "b"))
    return straight, first, TrainingRun(None, tmp_path / "b", resume=True, total_kimg=cfg.total_kimg)


def test_resume_is_exact(tmp_path):
    data = make_folder(tmp_path / "data", n=32)
    straight, first, resumed = straight_and_split(tiny_cfg(data), tmp_path, 0.064)
    assert resumed.kimg == pytest.approx(first.kimg) and resumed.tick == 1
    for _ in resumed.steps():
        pass
    assert resumed.tick == straight.tick == 2
    torch.testing.assert_close(weights(resumed), weights(straight), rtol=0, atol=1e-6)


def test_a_run_copied_without_its_fakes_folder_resumes_and_writes_fakes(tmp_path):
    data = make_folder(tmp_path / "data", n=32)
    first = TrainingRun(tiny_cfg(data, total_kimg=0.064), tmp_path / "b")
    for _ in first.steps():
        pass
    for png in (tmp_path / "b" / "fakes").iterdir():  # a copy of only config, stats, state and snapshot
        png.unlink()
    (tmp_path / "b" / "fakes").rmdir()
    resumed = TrainingRun(None, tmp_path / "b", resume=True, total_kimg=0.128)
    assert resumed.files.latest_fakes(resumed.tick) is None      # nothing to show again: no error either
    for _ in resumed.steps():
        pass
    assert resumed.tick == 2 and (tmp_path / "b" / "fakes" / "fakes-000002.png").is_file()


def test_the_newest_readable_fakes_grid_up_to_a_tick_is_found_for_a_resume(tmp_path):
    files = RunFiles(tmp_path)
    (tmp_path / "fakes").mkdir()
    for tick, value in ((1, 10), (2, 20), (4, 40)):
        Image.new("RGB", (6, 4), (value,) * 3).save(tmp_path / "fakes" / f"fakes-{tick:06d}.png")
    (tmp_path / "fakes" / "fakes-000003.png").write_bytes(b"\x89PNG cut short")   # damaged: passed over
    assert files.latest_fakes(4)[0, 0, 0] == 40
    grid = files.latest_fakes(3)          # written after tick 3 (a killed run) is not the resumed run's
    assert grid.shape == (4, 6, 3) and grid.dtype == np.uint8 and grid[0, 0, 0] == 20
    assert files.latest_fakes(0) is None


def test_snapshots_taken_while_growing_render_their_phase_and_the_last_one_is_fully_grown(tmp_path, capsys):
    data = make_folder(tmp_path / "data", n=16)
    run = TrainingRun(tiny_cfg(data, tick_kimg=0.016, keep_snapshots=20), tmp_path / "r")
    snaps = [u.snapshot_path for u in run.steps() if u.snapshot_path]
    phases = [load_model(p)[1].grown for p in snaps]
    assert phases[:3] == [(8, 1.0), (16, 0.0), (16, 0.5)] and phases[-1] is None   # 8² stable, then the 16² fade
    G, _ = load_model(snaps[0])
    img = ex.render_latents(G, [Latent(seed=3)], RenderSettings())[0]
    assert img.shape == (16, 16, 3) and (img == np.repeat(np.repeat(img[::2, ::2], 2, 0), 2, 1)).all()  # 8² shown 2×
    assert "saved while growing (8² of 16²)" in read_init(snaps[0]).notes[-1]   # a fine-tune from it is warned
    assert not any("growing" in n for n in read_init(snaps[-1]).notes)
    assert main(["info", "--model", snaps[1]]) == 0
    assert "growing   taken at 16², fading in 0.00" in capsys.readouterr().out


def test_progressive_schedule():
    cfg = TrainConfig(data="x", resolution=64, start_res=8, stable_kimg=10, fade_kimg=10)
    assert cfg.phase(0) == (8, 1.0)
    assert cfg.phase(15) == (16, 0.5)
    assert cfg.phase(25) == (16, 1.0)
    assert cfg.phase(35) == (32, 0.5)
    assert cfg.phase(1000) == (64, 1.0)
    assert TrainConfig(data="x", resolution=64, growing=False).phase(0) == (64, 1.0)


def test_bad_files_are_skipped_with_reasons(tmp_path):
    data = make_folder(tmp_path / "data", n=6)
    good = (data / "000.png").read_bytes()
    (data / "trunc.png").write_bytes(good[: len(good) // 2])
    (data / "junk.jpg").write_bytes(b"this is not a jpeg")
    (data / "empty.webp").write_bytes(b"")
    Image.new("RGB", (3, 3)).save(data / "tiny.png")
    (data / "sub").mkdir()
    Image.new("RGB", (20, 30), "red").save(data / "sub" / "nested.jpg")
    report, usable = validate(data, 16)
    reasons = dict(report.skipped)
    assert report.count == 7 and "sub/nested.jpg" in usable
    assert set(reasons) == {"trunc.png", "junk.jpg", "empty.webp", "tiny.png"}
    assert reasons["tiny.png"].startswith("too small") and reasons["empty.webp"] == "empty file"
    assert reasons["junk.jpg"] == "corrupt (not an image Pillow can read)"   # no "<_io.BytesIO object at 0x…>"
    run = TrainingRun(tiny_cfg(data, total_kimg=0.016), tmp_path / "r")
    for _ in run.steps():
        pass
    assert run.kimg >= 0.016


def test_unusable_datasets_give_clear_errors(tmp_path):
    with pytest.raises(UserError, match="no such dataset"):
        validate(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="no image files"):
        validate(tmp_path / "empty")
    (tmp_path / "bad.zip").write_bytes(b"PK nope")
    with pytest.raises(UserError, match="not a readable zip"):
        validate(tmp_path / "bad.zip")


def test_interrupted_snapshot_leaves_previous_loadable(tmp_path, monkeypatch):
    data = make_folder(tmp_path / "data", n=16)
    run = TrainingRun(tiny_cfg(data, total_kimg=0.064), tmp_path / "r")
    for _ in run.steps():
        pass
    snap = sorted((tmp_path / "r").glob("snapshot-*.safetensors"))[-1]
    import os
    def disk_full(*a, **k):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(os, "replace", disk_full)
    run.tick += 1
    with pytest.raises(UserError, match="disk is full"):
        run.snapshot()
    monkeypatch.undo()
    load_model(snap)  # the previous snapshot still loads
    assert not [p for p in (tmp_path / "r").iterdir() if p.name.startswith(".")]


def test_steps_yield_between_the_d_and_g_steps(tmp_path):
    data = make_folder(tmp_path / "data", n=16)
    run = TrainingRun(tiny_cfg(data), tmp_path / "r")
    g0 = torch.cat([p.flatten() for p in run.G.parameters()]).clone()
    d0 = torch.cat([p.flatten() for p in run.D.parameters()]).clone()
    it = run.steps()
    half = next(it)
    assert half.partial and half.tick_stats is None and run.nimg == 0
    assert torch.equal(torch.cat([p.flatten() for p in run.G.parameters()]), g0)       # G waits ...
    assert not torch.equal(torch.cat([p.flatten() for p in run.D.parameters()]), d0)   # ... D has stepped
    full = next(it)
    assert not full.partial and run.nimg == 8
    assert not torch.equal(torch.cat([p.flatten() for p in run.G.parameters()]), g0)


def test_engine_job_stopped_mid_minibatch_finishes_it_first(tmp_path):
    from stylegan_studio.engine.thread.jobs import Job, TrainingJob
    from stylegan_studio.engine.contract.messages import StartTraining
    data = make_folder(tmp_path / "data", n=16)
    cfg = TrainConfig(data=str(data), resolution=16, channels=16, z_dim=16, total_kimg=1.0, batch=8, start_res=16,
                      growing=False)
    cmd = StartTraining(config=cfg, run_dir=str(tmp_path / "r"))
    events = []
    job = Job(1, "train", "t", iter(()))
    tj = TrainingJob(cmd, job, events.append)
    units = tj.units()
    next(units)                        # the run is built
    next(units)                        # D has stepped, G not yet
    assert tj.run.nimg == 0
    job.stop()
    rest = list(units)                 # the G half runs, then the snapshot is written
    assert len(rest) == 1 and tj.run.nimg == 8
    again = TrainingRun(None, tmp_path / "r", resume=True)
    assert again.nimg == 8


def test_non_finite_loss_skips_the_step(tmp_path):
    data = make_folder(tmp_path / "data", n=16)
    run = TrainingRun(tiny_cfg(data), tmp_path / "r")
    run.step()
    before = weights(run).clone()
    with torch.no_grad():
        run.D.out.bias.fill_(float("nan"))
    out = run.step()
    assert "non-finite" in out["message"]
    d_params = sum(p.numel() for p in run.D.parameters())
    g_count = sum(p.numel() for p in run.G.parameters())
    torch.testing.assert_close(weights(run)[:g_count], before[:g_count], rtol=0, atol=0)


def test_cli_train_and_resume(tmp_path, capsys):
    data = make_folder(tmp_path / "data", n=16)
    args = ["train", "--data", str(data), "--out", str(tmp_path / "run"), "--resolution", "16", "--kimg", "0.032",
            "--channels", "16", "--z-dim", "16", "--batch", "8", "--tick-kimg", "0.016", "--start-res", "16"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "16 images at 16²" in out and "tick 2" in out
    assert main(["train", "--resume", str(tmp_path / "run"), "--kimg", "0.048"]) == 0
    assert "tick 3" in capsys.readouterr().out
    assert main(args) == 1
    assert "already holds a run" in capsys.readouterr().err


def test_a_resume_on_a_changed_dataset_says_so_in_the_cli_and_the_window(tmp_path, capsys):
    """One way to report it: a note of the run (it was a flag the CLI read with getattr and the window never saw)."""
    data = make_folder(tmp_path / "data", n=16, size=16)
    run = TrainingRun(tiny_cfg(data, total_kimg=0.016, tick_kimg=0.016), tmp_path / "r")
    for _ in run.steps():
        pass
    assert TrainingRun(None, tmp_path / "r", resume=True, total_kimg=0.032).notes == ()   # longer: nothing to say
    moved = data.rename(tmp_path / "moved")          # the same files elsewhere (a kit on another machine)
    assert TrainingRun(None, tmp_path / "r", resume=True, overrides={"data": str(moved)}).notes == ()
    make_folder(moved, n=20, size=16)                # the run now reads them there
    said = "the dataset changed since the snapshot; continuing on the current files"
    assert said in TrainingRun(None, tmp_path / "r", resume=True).notes
    assert main(["train", "--resume", str(tmp_path / "r"), "--kimg", "0.016"]) == 0
    assert f"note: {said}" in capsys.readouterr().out


def test_a_state_saved_before_content_keys_names_a_new_place_instead_of_calling_it_changed(tmp_path):
    data = make_folder(tmp_path / "data", n=16, size=16)
    report = load_images(data, 16)[1]
    old = {"path": "/elsewhere/data", "count": 16, "key": "0123456789abcdef"}   # no "content": an older state
    said = dataset_note(old, report)
    assert said == f"the images are now read from {data} (the state was saved with /elsewhere/data)"
    assert dataset_note({**old, "path": str(data), "key": report.key}, report) == ""
    assert "changed" in dataset_note({**old, "path": str(data)}, report)
    assert dataset_note({**old, "content": report.content}, report) == ""


def test_ctrl_c_finishes_the_step_snapshots_and_exits_0(tmp_path):
    import signal
    import subprocess
    import sys
    import time
    data = make_folder(tmp_path / "data", n=16)
    env = {**__import__("os").environ, "STYLEGAN_STUDIO_CACHE": str(tmp_path / "cache"), "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "stylegan_studio.app", "train", "--data", str(data), "--out",
                             str(tmp_path / "run"), "--resolution", "16", "--kimg", "1000", "--channels", "16",
                             "--z-dim", "16", "--batch", "8", "--tick-kimg", "0.016", "--start-res", "16"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.time() + 120
    while not list((tmp_path / "run" / "fakes").glob("*.png")) and time.time() < deadline:
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert "interrupted at" in out
    snaps = list((tmp_path / "run").glob("snapshot-*.safetensors"))
    assert snaps and load_model(snaps[-1])[1].kimg > 0


def test_bf16_autocast_trains_with_fp32_weights(tmp_path):
    data = make_folder(tmp_path / "data", n=16)
    run = TrainingRun(tiny_cfg(data, precision="bf16", growing=False, total_kimg=0.032), tmp_path / "r")
    before = weights(run).clone()
    out = run.step()
    assert all(np.isfinite(out[k]) for k in ("loss_g", "loss_d", "r1"))
    assert all(p.dtype == torch.float32 for p in list(run.G.parameters()) + list(run.D.parameters()))
    assert run.G.w_avg.dtype == torch.float32 and bool(torch.isfinite(run.G.w_avg).all())
    assert not torch.equal(weights(run), before)
    with pytest.raises(UserError, match="precision"):
        tiny_cfg(data, precision="fp8")


def test_cli_training_options_reach_the_run_config(tmp_path):
    data = make_folder(tmp_path / "data", n=16)
    assert main(["train", "--data", str(data), "--out", str(tmp_path / "run"), "--resolution", "16", "--kimg", "0.016",
                 "--channels", "16", "--z-dim", "16", "--batch", "8", "--start-res", "16", "--precision", "bf16",
                 "--ema-kimg", "3.5", "--gamma", "0.3", "--r1-interval", "4"]) == 0
    cfg = json.loads((tmp_path / "run" / "config.json").read_text())
    assert (cfg["precision"], cfg["ema_kimg"], cfg["gamma"], cfg["r1_interval"]) == ("bf16", 3.5, 0.3, 4)


def test_resume_can_change_r1_weight_and_lr_and_says_so(tmp_path):
    data = make_folder(tmp_path / "data", n=16)
    base = ["--channels", "16", "--z-dim", "16", "--batch", "8", "--tick-kimg", "0.016", "--start-res", "16",
            "--resolution", "16"]
    assert main(["train", "--data", str(data), "--out", str(tmp_path / "run"), "--kimg", "0.016", *base]) == 0
    assert main(["train", "--resume", str(tmp_path / "run"), "--kimg", "0.032", "--gamma", "0.1"]) == 0
    cfg = json.loads((tmp_path / "run" / "config.json").read_text())
    assert (cfg["gamma"], cfg["lr"], cfg["total_kimg"]) == (0.1, 0.001, 0.032)  # lr kept: not given
    run = TrainingRun(None, tmp_path / "run", resume=True, overrides={"lr": 0.0005, "channels": 99})
    assert run.cfg.lr == 0.0005 and run.cfg.channels == 16  # architecture is not a resume setting
    assert all(g["lr"] == 0.0005 for g in run.opt_G.param_groups + run.opt_D.param_groups)


def test_ema_half_life_ramps_up_after_each_resolution_change():
    cfg = TrainConfig(data="x", resolution=64, start_res=8, stable_kimg=30, fade_kimg=20, ema_kimg=10)
    assert [cfg.phase_start(k) for k in (0, 29, 30, 79, 80, 131, 1000)] == [0, 0, 30, 30, 80, 130, 130]
    assert cfg.ema_half_life(130.4) == pytest.approx(0.1)   # a new block: G_ema follows G closely
    assert cfg.ema_half_life(150) == pytest.approx(5.0)
    assert cfg.ema_half_life(500) == 10.0
    still = TrainConfig(data="x", growing=False, ema_kimg=3)  # one phase: the ramp applies from the start
    assert (still.ema_half_life(0.5), still.ema_half_life(100)) == (0.125, 3.0)
