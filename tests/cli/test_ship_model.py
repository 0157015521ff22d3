"""docs/samples/ship_model.py rehearsed: a GPU session's folder (or a run's snapshot) becomes the bundled model."""
import dataclasses
import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from stylegan_studio.engine.files.modelfile import load_model, save_model
from stylegan_studio.engine.train.run import TrainingRun
from stylegan_studio.engine.train.state import import_kit, read_kit

from helpers import make_folder, tiny_cfg

SCRIPT = Path(__file__).resolve().parents[2] / "docs" / "samples" / "ship_model.py"


def _script():
    spec = importlib.util.spec_from_file_location("ship_model", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks its module up there
    spec.loader.exec_module(module)
    return module


ship_model = _script()


@pytest.fixture
def trained(tmp_path, monkeypatch):
    """A finished tiny run (snapshots and states of ticks 1 and 2) and its export folder, as a GPU session's."""
    monkeypatch.setenv("STYLEGAN_STUDIO_CACHE", str(tmp_path / "cache"))
    run = TrainingRun(tiny_cfg(make_folder(tmp_path / "data", n=16), resolution=16, growing=False),
                      tmp_path / "run", export=tmp_path / "out")
    for _ in run.steps():
        pass
    (tmp_path / "out" / "session.json").write_text(json.dumps({"stages": {"train": {"width": 16, "batch": 8}}}))
    return run


def _args(tmp_path, source, *more):
    return [str(source), "--model-out", str(tmp_path / "m.safetensors"), "--reference", str(tmp_path / "ref.png"),
            "--kit-dir", str(tmp_path / "kit"), *more]


def test_a_gpu_sessions_folder_ships_with_its_exact_kit(tmp_path, trained):
    out = tmp_path / "out"
    (tmp_path / "kit").mkdir()
    (tmp_path / "kit" / "resume-5.safetensors").write_bytes(b"an older kit's part")  # replaced, not mixed in
    assert ship_model.main(_args(tmp_path, out, "--kit")) == 0
    G, meta = load_model(tmp_path / "m.safetensors")
    assert meta.kimg == pytest.approx(trained.kimg) and meta.name == "avatars64"
    assert "lent GPU's session, width 16, batch 8, tick 2" in meta.source
    with torch.no_grad():
        G32, _ = load_model(out / "G_ema.safetensors")
        for a, b in zip(G.state_dict().values(), G32.state_dict().values()):
            assert (a - b).abs().max() <= 1e-3 * max(1.0, b.abs().max())   # stored as float16
    ref = np.asarray(Image.open(tmp_path / "ref.png").convert("RGB"))
    assert ref.shape == (16, 64, 3) and np.array_equal(ref, ship_model.render(G))
    assert sorted(p.name for p in (tmp_path / "kit").iterdir()) == ["resume-0.safetensors", "stats.jsonl"]
    assert (tmp_path / "kit" / "resume-0.safetensors").read_bytes() == (out / "resume-0.safetensors").read_bytes()
    import_kit(tmp_path / "kit", tmp_path / "again")                      # a later session resumes from it
    resumed = TrainingRun(None, tmp_path / "again", resume=True)
    assert resumed.tick == trained.tick and resumed.kimg == pytest.approx(trained.kimg)


def test_a_snapshot_ships_with_a_weights_kit_from_its_state(tmp_path, trained):
    snapshot = tmp_path / "run" / "snapshot-000001.safetensors"
    assert ship_model.main(_args(tmp_path, snapshot, "--kit", "--base-kimg", "100")) == 0
    meta = load_model(tmp_path / "m.safetensors")[1]
    assert meta.kimg == pytest.approx(100 + load_model(snapshot)[1].kimg) and "tick 1" in meta.source
    kit_meta, _ = read_kit(tmp_path / "kit")
    assert kit_meta["kit"] == "weights-fp16" and json.loads(kit_meta["counters"])["tick"] == 1


def test_a_folder_without_a_kit_ships_its_model_and_refuses_only_the_kit(tmp_path, trained, capsys):
    out = tmp_path / "out"
    (out / "resume-0.safetensors").unlink()                              # a run too wide for a kit
    assert ship_model.main(_args(tmp_path, out, "--kit")) == 1            # asked for the kit: one line, nothing
    assert "no resume kit" in capsys.readouterr().out and not (tmp_path / "m.safetensors").exists()
    assert ship_model.main(_args(tmp_path, out)) == 0
    assert "tick 2" in load_model(tmp_path / "m.safetensors")[1].source   # the tick of G_ema's kimg in the stats


def test_a_source_that_cannot_ship_is_one_line_and_writes_nothing(tmp_path, trained, capsys):
    out = tmp_path / "out"
    G, meta = load_model(out / "G_ema.safetensors")
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    for p in out.iterdir():
        (mixed / p.name).write_bytes(p.read_bytes())
    save_model(G, mixed / "G_ema.safetensors", dataclasses.replace(meta, kimg=meta.kimg + 1))  # a later model
    (tmp_path / "run" / "state-000001.safetensors").unlink()
    cases = {mixed: "G_ema is at", tmp_path / "nothing": "no such file or folder",
             tmp_path / "run": "no G_ema.safetensors", out / "fakes.png": "not a snapshot-NNNNNN file",
             tmp_path / "run" / "snapshot-000001.safetensors": "no state-000001.safetensors next to the snapshot"}
    for source, message in cases.items():
        assert ship_model.main(_args(tmp_path, source, "--kit")) == 1
        lines = capsys.readouterr().out.strip().splitlines()
        assert len(lines) == 1 and message in lines[0], (source, lines)
    assert not (tmp_path / "m.safetensors").exists() and not (tmp_path / "kit").exists()
