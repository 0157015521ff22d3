"""SIGKILL mid-write loses nothing: a killed run resumes from its newest complete state, exports leave no partial
file under the final name (bench/killtrials.py; bench/kill_trials.py runs 20 trials of each)."""
import os

import numpy as np
import pytest

import killtrials as kt
from helpers import tiny_generator
from stylegan_studio.engine.files.modelfile import save_model
from stylegan_studio.engine.train.run import TrainingRun
from helpers import make_folder, tiny_cfg


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


def test_the_next_write_removes_a_killed_writers_temporary_file(tmp_path):
    import subprocess
    import sys
    from stylegan_studio.engine.files.fileio import atomic_write_bytes, commit_temp, temp_path_for
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = int(gone.stdout)  # a process that has ended: its temporary files are orphans
    out = tmp_path / "walk.gif"
    orphans = [tmp_path / f".walk.gif.{dead}-abcd1234.gif", tmp_path / f".walk.gif.{dead}-x1y2z3w4.tmp"]
    kept = [tmp_path / f".walk.gif.{os.getpid()}-abcd1234.gif",  # a write of this process still going on
            tmp_path / ".walk.gif.1-abcd1234.gif",                 # a running process's (pid 1 always runs)
            tmp_path / ".walk.gif.abcd1234.gif",                   # no pid: cannot tell, left alone
            tmp_path / f".other.gif.{dead}-abcd1234.gif"]          # another file's
    for p in orphans + kept:
        p.write_bytes(b"half a file")
    tmp = temp_path_for(out)
    tmp.write_bytes(b"GIF89a")
    commit_temp(tmp, out)
    assert not any(p.exists() for p in orphans) and all(p.exists() for p in kept)
    orphans[0].write_bytes(b"half a file")
    atomic_write_bytes(out, b"GIF89a")  # the in-memory writer cleans up too
    assert not orphans[0].exists() and out.read_bytes() == b"GIF89a"
