"""The GPU session script rehearsed on the CPU: same code, tiny counts, widths and budget."""
import json

import pytest

from stylegan_studio.engine.cli import gpu_session
from stylegan_studio.engine.files.modelfile import load_model


def test_choice_is_the_widest_reaching_the_target_else_the_fastest():
    rows = [{"width": 128, "batch": 64, "images_per_s": 5000}, {"width": 128, "batch": 128, "images_per_s": 6000},
            {"width": 256, "batch": 64, "images_per_s": 1900}, {"width": 256, "batch": 128, "images_per_s": 2400},
            {"width": 256, "batch": 256, "images_per_s": 2600}]
    pick, why = gpu_session.choose(rows, 480, 1000)
    assert (pick["width"], pick["batch"]) == (256, 128) and "widest" in why      # 2400 img/s · 480 s = 1152 kimg
    pick, why = gpu_session.choose(rows, 480, 5000)
    assert (pick["width"], pick["batch"]) == (128, 128) and "limited by throughput" in why


def test_rehearsal_on_the_cpu(tmp_path, monkeypatch):
    monkeypatch.setenv("STYLEGAN_STUDIO_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "out"
    assert gpu_session.main(["--out", str(out), "--work", str(tmp_path / "work"), "--seconds", "10",
                             "--reserve", "3", "--count", "24", "--workers", "2", "--resolution", "16",
                             "--widths", "8", "16", "--batches", "8", "--measure-seconds", "1",
                             "--target-kimg", "1e9"]) == 0
    summary = json.loads((out / "session.json").read_text())
    assert list(summary["stages"]) == ["wheels", "smoke", "avatars", "load", "measure", "train"]
    assert len(summary["candidates"]) == 2 and all(r["images_per_s"] > 0 for r in summary["candidates"])
    assert "limited by throughput" in summary["stages"]["measure"]["reason"]
    assert summary["stages"]["train"]["kimg"] > 0
    files = {p.name for p in out.iterdir()}
    assert {"G_ema.safetensors", "fakes.png", "stats.jsonl", "resume-0.safetensors", "session.json"} <= files
    assert len(files) <= 7  # the device returns at most 8 files; the command's log is the eighth
    assert all(p.stat().st_size <= 16 << 20 for p in out.iterdir())
    ticks = [json.loads(x) for x in (out / "stats.jsonl").read_text().splitlines()]
    assert ticks and all(t["diversity"] > 0 for t in ticks)
    G, meta = load_model(out / "G_ema.safetensors")
    assert G.cfg.resolution == 16 and meta.kimg == pytest.approx(summary["stages"]["train"]["kimg"], abs=0.1)
    # a second session resumes from what came back, its stats continuing the first's
    again = tmp_path / "again"
    assert gpu_session.main(["--out", str(again), "--work", str(tmp_path / "work"), "--seconds", "5",
                             "--reserve", "2", "--count", "24", "--workers", "2", "--resolution", "16",
                             "--resume-kit", str(out), "--no-smoke"]) == 0
    second = json.loads((again / "session.json").read_text())
    assert list(second["stages"]) == ["wheels", "avatars", "load", "resume", "train"]
    assert second["stages"]["resume"]["kimg"] == pytest.approx(meta.kimg, abs=0.1)
    assert second["stages"]["train"]["kimg"] > second["stages"]["resume"]["kimg"]
    assert len((again / "stats.jsonl").read_text().splitlines()) > len(ticks)
