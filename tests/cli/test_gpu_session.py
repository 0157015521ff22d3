"""The GPU session script rehearsed on the CPU: same code, tiny counts, widths and budget."""
import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from stylegan_studio.engine.cli import gpu_session
from stylegan_studio.engine.contract import messages as m
from stylegan_studio.engine.files.curvefile import split_curve
from stylegan_studio.engine.files.modelfile import ModelFileError, load_model
from synthetic import tiny_generator


def test_choice_is_the_widest_reaching_the_target_else_the_fastest():
    rows = [{"width": 128, "batch": 64, "images_per_s": 5000}, {"width": 128, "batch": 128, "images_per_s": 6000},
            {"width": 256, "batch": 64, "images_per_s": 1900}, {"width": 256, "batch": 128, "images_per_s": 2400},
            {"width": 256, "batch": 256, "images_per_s": 2600}]
    pick, why = gpu_session.choose(rows, 480, 1000)
    assert (pick["width"], pick["batch"]) == (256, 128) and "widest" in why      # 2400 img/s · 480 s = 1152 kimg
    pick, why = gpu_session.choose(rows, 480, 5000)
    assert (pick["width"], pick["batch"]) == (128, 128) and "limited by throughput" in why


def test_curve_points_lie_evenly_before_the_end_and_come_back_as_model_files(tmp_path):
    run = SimpleNamespace(kimg=0.0, G_ema=tiny_generator(16))
    curve = gpu_session.CurvePoints(tmp_path, run, expected_kimg=14.0)      # 6 points: every 2 kimg
    assert curve.marks == pytest.approx([2, 4, 6, 8, 10, 12])
    for kimg in range(1, 16):                                               # a snapshot every kimg
        run.kimg = float(kimg)
        curve(SimpleNamespace(snapshot_path=f"s{kimg}", out_of_time=kimg == 15))
        curve(SimpleNamespace(snapshot_path="", out_of_time=False))         # ticks without a snapshot: nothing
    back = split_curve(tmp_path / gpu_session.CURVE_FILE, tmp_path / "models")
    assert [k for k, _ in back] == [2, 4, 6, 8, 10, 12]
    G, meta = load_model(back[2][1])
    assert meta.kimg == 6 and G.cfg == run.G_ema.cfg
    for a, b in zip(G.state_dict().values(), run.G_ema.state_dict().values()):
        assert (a - b).abs().max() <= 1e-3 * max(1.0, b.abs().max())        # stored as float16
    few = gpu_session.CurvePoints(tmp_path / "x", run, expected_kimg=0.0)   # no time left: no points
    assert few.marks == []
    with pytest.raises(ModelFileError, match="not a stylegan-studio curve file"):
        split_curve(back[0][1], tmp_path / "again")


def test_rehearsal_on_the_cpu(tmp_path, monkeypatch):
    monkeypatch.setenv("STYLEGAN_STUDIO_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "out"
    assert gpu_session.main(["--out", str(out), "--work", str(tmp_path / "work"), "--seconds", "10",
                             "--reserve", "3", "--count", "24", "--workers", "2", "--resolution", "16",
                             "--widths", "8", "16", "--batches", "8", "--measure-seconds", "1",
                             "--target-kimg", "1e9"]) == 0
    summary = json.loads((out / "session.json").read_text())
    assert list(summary["stages"]) == ["wheels", "smoke", "avatars", "load", "measure", "train", "memorisation"]
    ops = m.TrainConfig().augment
    seen = summary["stages"]["memorisation"]    # D on 24 training avatars, 24 unseen ones and 24 fakes
    assert seen["count"] == 24 and summary["stages"]["load"]["heldout"] == 24
    assert all(-1 <= seen[k]["r_t"] <= 1 for k in ("seen", "unseen", "fakes"))
    assert seen["r_t_gap"] == pytest.approx(seen["seen"]["r_t"] - seen["unseen"]["r_t"], abs=1e-3)
    assert summary["settings"]["augment_p"] is None   # a new run's default: no augmentation
    run_cfg = json.loads((Path(summary["stages"]["train"]["run_dir"]) / "config.json").read_text())
    assert run_cfg["augment"] == "" and run_cfg["mbstd_group"] == 16   # the session's recipe: no augmentation
    assert len(summary["candidates"]) == 2 and all(r["images_per_s"] > 0 for r in summary["candidates"])
    assert "limited by throughput" in summary["stages"]["measure"]["reason"]
    assert summary["stages"]["train"]["kimg"] > 0
    files = {p.name for p in out.iterdir()}
    assert {"G_ema.safetensors", "fakes.png", "stats.jsonl", "resume-0.safetensors", "session.json"} <= files
    assert len(files) <= 8  # the device returns at most 8 files (the command's log comes back as its output)
    assert all(p.stat().st_size <= 16 << 20 for p in out.iterdir())
    # The FID curve's earlier points: how many a run this short reaches depends on the machine's speed
    # (test_curve_points_lie_evenly_before_the_end checks the spacing); those it has lie before the end.
    kimgs = summary["stages"]["train"]["curve_kimg"]
    if kimgs:
        curve = split_curve(out / "curve.safetensors", tmp_path / "curve")
        assert [k for k, _ in curve] == kimgs and kimgs[-1] < summary["stages"]["train"]["kimg"]
    ticks = [json.loads(x) for x in (out / "stats.jsonl").read_text().splitlines()]
    assert ticks and all(t["diversity"] > 0 for t in ticks)
    G, meta = load_model(out / "G_ema.safetensors")
    assert G.cfg.resolution == 16 and meta.kimg == pytest.approx(summary["stages"]["train"]["kimg"], abs=0.1)
    # a second session resumes from what came back, its stats continuing the first's
    again = tmp_path / "again"
    assert gpu_session.main(["--out", str(again), "--work", str(tmp_path / "work"), "--seconds", "5",
                             "--reserve", "2", "--count", "24", "--workers", "2", "--resolution", "16",
                             "--resume-kit", str(out), "--no-smoke", "--augment-p", "auto"]) == 0
    second = json.loads((again / "session.json").read_text())
    # a later session may switch augmentation on (a resumable setting) if the first one's D memorised
    assert (second["stages"]["resume"]["augment"], second["stages"]["resume"]["augment_p"]) == (ops, None)
    assert list(second["stages"]) == ["wheels", "avatars", "load", "resume", "train", "memorisation"]
    assert second["stages"]["resume"]["kimg"] == pytest.approx(meta.kimg, abs=0.1)
    assert second["stages"]["train"]["kimg"] > second["stages"]["resume"]["kimg"]
    assert len((again / "stats.jsonl").read_text().splitlines()) > len(ticks)


def test_augment_choice_is_none_auto_or_a_probability():
    ops = m.TrainConfig().augment                                       # train's default operations
    assert gpu_session.augment_settings(None) == gpu_session.augment_settings("none") == {"augment": ""}
    assert gpu_session.augment_settings("auto") == {"augment": ops, "augment_p": None}  # adaptive p
    assert gpu_session.augment_settings("0.25") == {"augment": ops, "augment_p": 0.25}
    assert gpu_session.parse(["--out", "o", "--augment-p", "auto"]).augment_p == "auto"
    for bad in ("1.5", "sometimes", "nan"):
        with pytest.raises(SystemExit):
            gpu_session.parse(["--out", "o", "--augment-p", bad])


def test_rehearsal_of_a_stylegan2_session(tmp_path, monkeypatch):
    monkeypatch.setenv("STYLEGAN_STUDIO_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "out"
    args = ["--work", str(tmp_path / "work"), "--count", "24", "--workers", "2", "--resolution", "16",
            "--architecture", "stylegan2", "--augment-p", "auto"]   # and the adaptive augmentation, smoke included
    assert gpu_session.main(["--out", str(out), *args, "--seconds", "8", "--reserve", "3", "--widths", "8",
                             "--batches", "8", "--measure-seconds", "1", "--target-kimg", "1e9"]) == 0
    assert "smoke" in json.loads((out / "session.json").read_text())["stages"]   # the smoke run trained v2 too
    G, meta = load_model(out / "G_ema.safetensors")
    assert G.arch == "stylegan2" and G.img_resolution == 16 and meta.kimg > 0
    ticks = [json.loads(x) for x in (out / "stats.jsonl").read_text().splitlines()]
    assert ticks[-1]["augment_p"] >= 0 and "color" in json.loads((Path(json.loads(
        (out / "session.json").read_text())["stages"]["train"]["run_dir"]) / "config.json").read_text())["augment"]
    again = tmp_path / "again"
    assert gpu_session.main(["--out", str(again), *args, "--seconds", "5", "--reserve", "2", "--resume-kit",
                             str(out), "--no-smoke"]) == 0
    G2, meta2 = load_model(again / "G_ema.safetensors")
    assert G2.arch == "stylegan2" and meta2.kimg > meta.kimg
