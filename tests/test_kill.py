"""SIGKILL mid-write loses nothing: a killed run resumes from its newest complete state, exports leave no partial
file under the final name (tests/killtrials.py; bench/kill_trials.py runs 20 trials of each)."""
import numpy as np
import pytest

import killtrials as kt
from helpers import tiny_generator
from stylegan_studio.engine.files.modelfile import save_model
from stylegan_studio.engine.train.run import TrainingRun
from test_training import make_folder, tiny_cfg


@pytest.fixture()
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("STYLEGAN_STUDIO_CACHE", str(tmp_path / "cache"))
    monkeypatch.setitem(kt.ENV, "STYLEGAN_STUDIO_CACHE", str(tmp_path / "cache"))
    return tmp_path


def test_training_killed_inside_a_write_resumes_from_the_newest_complete_state(env):
    data = make_folder(env / "data", n=16, size=16)
    trial = kt.train_trial(data, env / "w", np.random.default_rng(3), "write", kimg=0.08)
    assert trial.ok, trial.detail


@pytest.mark.parametrize("kind", ["generate", "video"])
def test_exports_killed_inside_their_write_leave_nothing_under_the_final_name(env, kind):
    model = env / "m.safetensors"
    save_model(tiny_generator(res=16), model)
    (env / "w").mkdir()
    trial = kt.output_trial(kind, model, env / "w", np.random.default_rng(0), "write")
    assert trial.ok, trial.detail


@pytest.mark.slow
def test_twenty_kill_trials_of_training(env):
    data = make_folder(env / "data", n=16, size=16)
    rng = np.random.default_rng(0)
    for i in range(20):
        trial = kt.train_trial(data, env / f"w{i}", rng, ("random", "write")[i % 2])
        assert trial.ok, (i, trial.detail)


# ------------------------------------------------------------------ regressions the trials found
def _run(env, kimg=0.032):
    data = make_folder(env / "data", n=16, size=16)
    run = TrainingRun(tiny_cfg(data, total_kimg=kimg, tick_kimg=0.016), env / "r")
    for _ in run.steps():
        pass
    return run


def test_resume_removes_temporary_files_of_interrupted_writes(env):
    run = _run(env)
    stale = [run.files.root / ".state-000003.safetensors.abcd1234.tmp", run.files.root / "fakes" / ".fakes-000003.png.x1y2z3w4.tmp"]
    for p in stale:
        p.write_bytes(b"half a file")
    (run.files.root / ".keep-me").write_text("not ours")
    again = TrainingRun(None, env / "r", resume=True)
    assert not any(p.exists() for p in stale) and (run.files.root / ".keep-me").exists()
    assert any("temporary" in n for n in again.notes)


def test_resume_passes_over_an_unreadable_newest_state(env):
    run = _run(env)
    newest = run.files.latest_state()
    newest.write_bytes(newest.read_bytes()[:1000])  # e.g. a disk that lost the end of the file
    again = TrainingRun(None, env / "r", resume=True)
    assert again.resumed_from != newest and again.tick == 1
    assert any("trying the previous state" in n for n in again.notes)
