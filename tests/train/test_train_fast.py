"""The trainer's accelerator paths, run on the CPU: data on the device, tick-level reads, --minutes, --export."""
import json
import sys
from pathlib import Path

import pytest
import torch

from stylegan_studio.engine.cli.main import main
from stylegan_studio.engine.contract.errors import UserError
from stylegan_studio.engine.files.modelfile import load_model
from stylegan_studio.engine.files import dataset
from stylegan_studio.engine.train import state as state_mod
from stylegan_studio.engine.train.run import TrainingRun
from stylegan_studio.engine.train.state import import_kit

from helpers import make_folder, tiny_cfg
from test_training import weights

ENGINE = str(Path(sys.modules[TrainingRun.__module__].__file__).parents[1])


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("STYLEGAN_STUDIO_CACHE", str(tmp_path / "cache"))


def test_dataset_lives_on_the_device_as_uint8_and_is_sampled_there(tmp_path):
    run = TrainingRun(tiny_cfg(make_folder(tmp_path / "data", n=16)), tmp_path / "r")
    assert isinstance(run.images, torch.Tensor) and run.images.dtype == torch.uint8
    assert run.images.device == run.device and tuple(run.images.shape) == (16, 16, 16, 3)
    assert run.gen.device == run.device
    reals = run._reals(8, 16, 1.0)
    assert reals.device == run.device and reals.shape == (8, 3, 16, 16) and -1.0 <= float(reals.min())


class HostReads:
    """Counts the engine's own reads of tensor values on the host (each one waits for a GPU)."""

    METHODS = ("item", "tolist", "__float__", "__int__", "__bool__", "cpu", "numpy")

    def __init__(self, monkeypatch) -> None:
        self.calls = []
        for name in self.METHODS:
            original = getattr(torch.Tensor, name)
            monkeypatch.setattr(torch.Tensor, name, self._wrap(name, original))

    def _wrap(self, name, original):
        def counted(t, *a, **kw):
            caller = sys._getframe(1).f_code.co_filename
            if caller.startswith(ENGINE):  # torch's own host scalars (Adam's step count) are not ours
                self.calls.append((name, caller, sys._getframe(1).f_lineno))
            return original(t, *a, **kw)
        return counted


@pytest.mark.parametrize("augment_p", [1.0, None])  # every op on every image; adapted as ADA adapts it
def test_minibatches_never_read_the_device_only_tick_ends_do(tmp_path, monkeypatch, augment_p):
    data = make_folder(tmp_path / "data", n=16)
    run = TrainingRun(tiny_cfg(data, growing=False, total_kimg=0.384, tick_kimg=0.128, snapshot_ticks=100,
                               augment="color,translation,cutout", augment_p=augment_p, r1_interval=2),
                      tmp_path / "r")
    reads = HostReads(monkeypatch)
    counts = {"minibatch": [], "tick": [], "snapshot": []}
    for update in run.steps():
        kind = "snapshot" if update.snapshot_path else "tick" if update.tick_stats else "minibatch"
        counts[kind].append(len(reads.calls))
        reads.calls.clear()
    assert len(counts["minibatch"]) > 60 and max(counts["minibatch"]) == 0
    assert len(counts["tick"]) == 2 and max(counts["tick"]) <= 4  # the stats, the grid, the diversity figure
    assert len(counts["snapshot"]) == 1  # a snapshot copies the state to the host, once per snapshot


def test_minutes_budget_snapshots_and_exits_0(tmp_path, capsys):
    data = make_folder(tmp_path / "data", n=16)
    args = ["train", "--data", str(data), "--out", str(tmp_path / "run"), "--resolution", "16", "--kimg", "1000",
            "--channels", "16", "--z-dim", "16", "--batch", "8", "--tick-kimg", "1000", "--no-growing",
            "--minutes", "0.02"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "time budget reached" in out and "device: cpu" in out
    snaps = list((tmp_path / "run").glob("snapshot-*.safetensors"))
    states = list((tmp_path / "run").glob("state-*.safetensors"))
    assert len(snaps) == 1 and len(states) == 1 and 0 < load_model(snaps[0])[1].kimg < 1000
    assert main(["train", "--resume", str(tmp_path / "run"), "--minutes", "0.01"]) == 0
    assert "resumed at" in capsys.readouterr().out
    assert main(args[:-1] + ["-1"]) == 1
    assert "--minutes must be positive" in capsys.readouterr().err


def test_export_folder_gets_model_fakes_stats_and_an_exact_resume_kit(tmp_path):
    data = make_folder(tmp_path / "data", n=32)
    straight = TrainingRun(tiny_cfg(data), tmp_path / "a")
    for _ in straight.steps():
        pass
    first = TrainingRun(tiny_cfg(data, total_kimg=0.064), tmp_path / "b", export=tmp_path / "out")
    for _ in first.steps():
        pass
    out = tmp_path / "out"
    assert sorted(p.name for p in out.iterdir()) == ["G_ema.safetensors", "fakes.png", "resume-0.safetensors",
                                                    "stats.jsonl"]
    G, meta = load_model(out / "G_ema.safetensors")
    assert next(G.parameters()).dtype == torch.float32 and meta.kimg == pytest.approx(first.kimg)
    line = json.loads((out / "stats.jsonl").read_text().splitlines()[-1])
    assert line["tick"] == 1 and 0 < line["diversity"] < 10
    import_kit(out, tmp_path / "c")
    assert main(["train", "--resume", str(tmp_path / "c"), "--kimg", "0.128"]) == 0
    resumed = TrainingRun(None, tmp_path / "c", resume=True)
    assert resumed.tick == straight.tick == 2
    torch.testing.assert_close(weights(resumed), weights(straight), rtol=0, atol=1e-6)
    with pytest.raises(UserError, match="already holds a run"):
        import_kit(out, tmp_path / "c")
    with (out / "stats.jsonl").open("a") as f:  # a tick after the kit's snapshot (a run killed before the next)
        f.write(json.dumps({**line, "tick": 2, "kimg": 0.128}) + "\n")
    import_kit(out, tmp_path / "e")
    assert len((tmp_path / "e" / "stats.jsonl").read_text().splitlines()) == 1
    first.tick, first.nimg = 5, 320  # a later snapshot whose write stopped after its first part
    tensors, meta = first.state_parts()
    state_mod.write_state(out / "resume-1.safetensors", {}, {**meta, "kit": "full", "part": "1", "parts": "2"})
    with pytest.raises(UserError, match="different snapshots"):
        import_kit(out, tmp_path / "f")
    with pytest.raises(UserError, match="no resume kit"):
        import_kit(tmp_path / "a", tmp_path / "d")


def test_a_large_run_exports_fp16_and_a_weights_only_kit(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(state_mod, "EXPORT_FILE_BYTES", 64 << 10)   # as if G_ema were above 16 MiB
    data = make_folder(tmp_path / "data", n=16)
    probe = TrainingRun(tiny_cfg(data), tmp_path / "probe")
    tensors, _ = probe.state_parts()
    nets = sum(t.numel() * 2 for k, t in tensors.items() if k.split(".")[0] in ("G", "D", "G_ema"))
    monkeypatch.setattr(state_mod, "KIT_PART_BYTES", nets // 2 + (96 << 10))  # fp16 weights fit 3 parts, not all
    run = TrainingRun(tiny_cfg(data, total_kimg=0.064), tmp_path / "r", export=tmp_path / "out")
    for _ in run.steps():
        pass
    G, _ = load_model(tmp_path / "out" / "G_ema.safetensors")
    assert G.w_avg.dtype == torch.float32  # stored fp16, loaded as fp32
    from safetensors import safe_open
    with safe_open(str(tmp_path / "out" / "G_ema.safetensors"), "pt") as f:
        assert f.get_tensor("w_avg").dtype == torch.float16
    parts = sorted((tmp_path / "out").glob("resume-*.safetensors"))
    assert 1 <= len(parts) <= 3
    import_kit(tmp_path / "out", tmp_path / "c")
    resumed = TrainingRun(None, tmp_path / "c", resume=True, total_kimg=0.128)
    assert resumed.kimg == pytest.approx(run.kimg) and resumed.opt_G.state_dict()["state"] == {}
    torch.testing.assert_close(weights(resumed), weights(run).half().float(), rtol=0, atol=0)
    for _ in resumed.steps():
        pass
    assert resumed.kimg >= 0.128 and bool(torch.isfinite(weights(resumed)).all())


def test_a_compact_kit_from_a_run_state_resumes_with_d_and_its_stats(tmp_path):
    data = make_folder(tmp_path / "data", n=16)
    run = TrainingRun(tiny_cfg(data, total_kimg=0.064), tmp_path / "r")
    for _ in run.steps():
        pass
    state = run.files.latest_state()
    assert state_mod.kit_from_state(state, tmp_path / "kit") == "weights-fp16"
    assert sorted(p.name for p in (tmp_path / "kit").iterdir()) == ["resume-0.safetensors", "stats.jsonl"]
    assert (tmp_path / "kit" / "resume-0.safetensors").stat().st_size < state.stat().st_size / 2
    import_kit(tmp_path / "kit", tmp_path / "c")
    resumed = TrainingRun(None, tmp_path / "c", resume=True, total_kimg=0.128)
    assert resumed.kimg == pytest.approx(run.kimg) and resumed.opt_D.state_dict()["state"] == {}
    torch.testing.assert_close(weights(resumed), weights(run).half().float(), rtol=0, atol=0)
    assert len((tmp_path / "c" / "stats.jsonl").read_text().splitlines()) == 1
    assert state_mod.kit_from_state(state, tmp_path / "full", compact=False) == "full"


def test_diversity_is_near_zero_when_every_sample_is_the_same(tmp_path):
    run = TrainingRun(tiny_cfg(make_folder(tmp_path / "data", n=16), growing=False), tmp_path / "r")
    assert run.diversity() > 0.05
    with torch.no_grad():
        run.G_ema.mapping.fcs[-1].weight.zero_()   # w no longer depends on z; noise strength starts at 0
        run.G_ema.mapping.fcs[-1].bias.zero_()
    assert run.diversity() < 1e-4


def test_a_tick_of_only_non_finite_steps_rolls_back(tmp_path):
    run = TrainingRun(tiny_cfg(make_folder(tmp_path / "data", n=16), growing=False, total_kimg=0.192,
                               tick_kimg=0.064, snapshot_ticks=1), tmp_path / "r")
    steps = run.steps()
    while next(steps).tick_stats is None:
        pass
    with torch.no_grad():
        run.D.out.bias.fill_(float("nan"))
    messages = [u.message for u in steps if u.message]
    assert any("rolled back to state-000001" in m for m in messages), messages
    assert run.kimg >= 0.192 and bool(torch.isfinite(weights(run)).all())


def test_cuda_on_a_machine_without_it_is_one_line(tmp_path):
    data = make_folder(tmp_path / "data", n=8)
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(UserError, match="no CUDA device"):
        TrainingRun(tiny_cfg(data, device="cuda"), tmp_path / "r")
    with pytest.raises(UserError, match="device must be"):
        tiny_cfg(data, device="tpu")


def test_large_datasets_load_in_several_processes_with_the_same_result(tmp_path, monkeypatch):
    data = make_folder(tmp_path / "data", n=24)
    (data / "junk.png").write_bytes(b"not a png")
    report, serial = dataset.validate(data, 16)
    monkeypatch.setattr(dataset, "PARALLEL_MIN", 4)
    assert [len(c) for c in dataset._chunks(serial, 2)] == [3] * 8
    report2, parallel = dataset.validate(data, 16, workers=2)
    assert parallel == serial and (report2.count, report2.key) == (report.count, report.key)
    assert [n for n, _ in report2.skipped] == [n for n, _ in report.skipped] == ["junk.png"]
    arr, _ = dataset.load_images(data, 16, workers=2)
    monkeypatch.setenv("STYLEGAN_STUDIO_CACHE", str(tmp_path / "other-cache"))
    monkeypatch.setattr(dataset, "PARALLEL_MIN", 10 ** 9)
    one, _ = dataset.load_images(data, 16)
    assert arr.shape == (24, 16, 16, 3) and (arr == one).all()
