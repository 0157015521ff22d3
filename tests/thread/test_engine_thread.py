"""The engine thread without Qt: latest-wins renders, FIFO commands, jobs, errors, close, training."""
import os
import threading
import time
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from PIL import Image

from helpers import Recorder
from stylegan_studio.engine.contract import messages as m
from stylegan_studio.engine.thread.engine import Engine
from stylegan_studio.engine.render import synth as ex
from stylegan_studio.engine.render.synth import latents_to_w, variation_map
from stylegan_studio.engine.contract.requests import RenderImage, RenderMixGrid
from stylegan_studio.engine.thread.jobs import Outcome, Unit
from stylegan_studio.engine.files.pngio import read_provenance
from stylegan_studio.engine.contract.latents import Latent, NoiseSpec, RenderSettings, ResNoise
from stylegan_studio.engine.thread.model_slot import ModelSlot
from stylegan_studio.engine.train.run import TrainingRun
from synthetic import make_folder, tiny_cfg


def job(units, log, fail_at=None, post=None):
    """A factory for a custom job of `units` units that logs each unit and its cleanup."""
    def factory(j):
        try:
            for i in range(units):
                log.append(i)
                if i == fail_at:
                    raise RuntimeError("boom in unit")
                if post is not None:
                    post(i, j)
                yield Unit(i + 1, units, f"unit {i}")
            return Outcome("all done", "")
        finally:
            log.append("closed")
    return factory


def test_all_torch_work_happens_on_the_engine_thread(eng, tmp_path):
    threads = set()
    hook = torch.nn.modules.module.register_module_forward_pre_hook(
        lambda mod, args: threads.add(threading.get_ident()))
    try:
        lat = Latent(seed=1)
        eng.submit(m.RenderImage("a", 1, lat, size=32))
        eng.submit(m.RenderSeedGrid("b", 2, seeds=tuple(range(6)), thumb=8))
        eng.submit(m.RenderMixGrid("c", 3, rows=(lat,), cols=(Latent(seed=2),), layers=(0,)))
        eng.submit(m.RenderVariation("d", 4, latent=lat, draws=4))
        eng.submit(m.RenderTruncationStrip("e", 5, latent=lat))
        eng.post(m.ExportStill(str(tmp_path / "x.png"), RenderImage(latent=lat)))
        for kind in (m.FrameReady, m.MixGridReady, m.VariationReady, m.StripReady, m.Saved):
            eng.rec.wait(kind)
        eng.rec.wait(m.GridChunk, start=2)
    finally:
        hook.remove()
    assert threads == {eng.thread.ident}


def test_fifty_rapid_submits_render_far_fewer_and_the_last(eng):
    for stamp in range(1, 51):
        eng.submit(m.RenderImage("main", stamp, Latent(seed=stamp), settings=RenderSettings(psi=0.7)))
    last = eng.rec.wait(m.FrameReady, stamp=50)
    frames = eng.rec.of(m.FrameReady, target="main")
    assert len(frames) <= 10 and frames[-1] is last
    assert [f.stamp for f in frames] == sorted(f.stamp for f in frames)


def test_a_stale_stamp_is_dropped(eng):
    assert eng.submit(m.RenderImage("main", 10, Latent(seed=1)))
    assert not eng.submit(m.RenderImage("main", 9, Latent(seed=2)))
    eng.rec.wait(m.FrameReady, stamp=10)
    eng.submit(m.RenderImage("other", 11, Latent(seed=3)))
    eng.rec.wait(m.FrameReady, stamp=11)
    assert [f.stamp for f in eng.rec.of(m.FrameReady)] == [10, 11]


def test_commands_are_never_dropped_and_keep_their_order(eng, tmp_path):
    paths = [str(tmp_path / f"l{i}.npz") for i in range(30)]
    for i, p in enumerate(paths):
        eng.post(m.SaveLatents(p, (Latent(seed=i),)))
        eng.submit(m.RenderImage("main", i + 1, Latent(seed=i)))
    eng.rec.wait(m.Saved, path=paths[-1])
    assert [e.path for e in eng.rec.of(m.Saved)] == paths
    data = np.load(paths[3])
    assert data["w"].shape == (1, 16) and list(data["labels"]) == ["seed 3"]


def test_cancel_stops_a_job_at_its_next_unit(eng):
    log = []
    eng.start_job("demo", job(100, log, post=lambda i, j: i == 2 and eng.post(m.CancelJob(j.job_id))))
    done = eng.rec.wait(m.JobFinished)
    assert done.status == "cancelled" and done.kind == "demo"
    assert log == [0, 1, 2, "closed"]
    assert eng.rec.of(m.JobStarted) and eng.rec.of(m.JobProgress, job_id=done.job_id)


def test_a_failing_job_becomes_an_error_and_the_engine_keeps_serving(eng):
    log = []
    eng.start_job("demo", job(10, log, fail_at=2))
    done = eng.rec.wait(m.JobFinished)
    err = eng.rec.wait(m.ErrorEvent)
    assert done.status == "failed" and "boom in unit" in done.message and "\n" not in err.message
    eng.submit(m.RenderImage("main", 1, Latent(seed=1)))
    assert eng.rec.wait(m.FrameReady).image.shape == (16, 16, 3)


@pytest.mark.parametrize("bug", [ValueError("bad index"), FileNotFoundError(2, "No such file")])
def test_a_bug_raising_value_or_os_error_is_logged_with_its_traceback(eng, caplog, bug):
    """EXPECTED held ValueError and OSError, so a genuine bug became a bare one-liner with no traceback."""
    from stylegan_studio.engine.contract.errors import EXPECTED, UserError
    assert not isinstance(bug, EXPECTED) and isinstance(UserError("x"), EXPECTED)
    def factory(j):
        raise bug
        yield
    with caplog.at_level("ERROR"):
        eng.start_job("demo", factory)
        err = eng.rec.wait(m.ErrorEvent)
    assert err.message.startswith(f"internal error: {type(bug).__name__}") and "\n" not in err.message
    assert any(r.exc_info and r.exc_info[1] is bug for r in caplog.records)


def test_jobs_run_side_by_side_and_renders_are_served_between_units(eng):
    log_a, log_b, seen = [], [], []
    def post(i, j):
        if i == 1:
            eng.submit(m.RenderImage("main", 1, Latent(seed=1)))
        if i == 3:
            seen.append(bool(eng.rec.of(m.FrameReady)))
    eng.start_job("a", job(5, log_a, post=post))
    eng.start_job("b", job(5, log_b))
    eng.rec.wait(m.JobFinished, kind="a")
    eng.rec.wait(m.JobFinished, kind="b")
    assert seen == [True]                     # the render came between units, not after the job
    assert all(f.status == "ok" and f.message == "all done" for f in eng.rec.of(m.JobFinished))


def test_close_mid_job_returns_quickly():
    rec, log = Recorder(), []

    def endless(j):
        try:
            while True:
                log.append(1)
                time.sleep(0.05)
                yield Unit(len(log), 0)
        finally:
            log.append("closed")
    engine = Engine(rec, threads=1)
    engine.start()
    engine.start_job("endless", endless)
    rec.wait(m.JobProgress)
    t = time.monotonic()
    assert engine.close()
    assert time.monotonic() - t < 1.0 and not engine.thread.is_alive()
    assert log[-1] == "closed"


def test_bad_requests_and_commands_become_one_line_errors(eng):
    bad = m.RenderImage("main", 1, Latent(seed=1), mix_with=Latent(seed=2), mix_layers=(99,))
    eng.submit(bad)
    err = eng.rec.wait(m.ErrorEvent)
    assert err.source == bad and "layer 99" in err.message
    eng.post(m.LoadModel("/no/such/file.safetensors"))
    err = eng.rec.wait(m.ErrorEvent, source=m.LoadModel("/no/such/file.safetensors"))
    assert "no such model file" in err.message and "\n" not in err.message
    eng.post(m.CancelJob(999))
    assert "no running job 999" in eng.rec.wait(m.ErrorEvent, source=m.CancelJob(999)).message
    eng.submit(m.RenderImage("main", 2, Latent(seed=1)))
    assert eng.rec.wait(m.FrameReady, stamp=2)


def test_failed_load_keeps_the_previous_model(eng, tmp_path):
    eng.submit(m.RenderImage("main", 1, Latent(seed=4)))
    before = eng.rec.wait(m.FrameReady, stamp=1).image
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not a model")
    eng.post(m.LoadModel(str(bad)))
    eng.rec.wait(m.ErrorEvent)
    eng.submit(m.RenderImage("main", 2, Latent(seed=4)))
    assert np.array_equal(eng.rec.wait(m.FrameReady, stamp=2).image, before)
    assert len(eng.rec.of(m.ModelInfo)) == 1


def test_save_and_load_round_trip_emit_model_info(eng, tmp_path):
    path = str(tmp_path / "g.safetensors")
    eng.submit(m.RenderImage("main", 1, Latent(seed=4)))
    before = eng.rec.wait(m.FrameReady, stamp=1).image
    eng.post(m.SaveModel(path))
    eng.post(m.NewModel(resolution=16, channels=16, z_dim=16, seed=7))
    eng.post(m.LoadModel(path))
    info = eng.rec.wait(m.ModelInfo, path=path, name="g")
    while len(eng.rec.of(m.ModelInfo)) < 4:    # first, after save, after new, after load
        time.sleep(0.01)
    assert eng.rec.of(m.ModelInfo)[-1] == info
    assert info.model_id and info.num_ws == 6 and info.layer_resolutions == (4, 4, 8, 8, 16, 16)
    eng.submit(m.RenderImage("main", 2, Latent(seed=4)))
    assert np.array_equal(eng.rec.wait(m.FrameReady, stamp=2).image, before)


def test_render_kinds_have_the_requested_sizes(eng):
    lat, noise = Latent(seed=3), NoiseSpec(ResNoise("random", 5))
    # A fresh model's noise strengths are 0; give them a value so the variation map is not all zero.
    eng.call_soon(lambda: [b.epi1.noise_strength.fill_(0.5) for b in eng.model.render_G.synthesis.blocks])
    eng.submit(m.RenderImage("i", 1, lat, size=8))
    eng.submit(m.RenderMixGrid("x", 2, rows=(lat, Latent(seed=4)), cols=(Latent(seed=5),), layers=(0, 1), thumb=12))
    eng.submit(m.RenderTruncationStrip("s", 3, latent=lat, psis=(1.0, 0.0), thumb=10))
    eng.submit(m.RenderVariation("v", 4, latent=lat, settings=RenderSettings(noise=noise), draws=6, seed=2))
    assert eng.rec.wait(m.FrameReady).image.shape == (8, 8, 3)
    mix = eng.rec.wait(m.MixGridReady)
    assert mix.cells.shape == (2, 1, 12, 12, 3) and mix.row_images.shape == (2, 12, 12, 3)
    strip = eng.rec.wait(m.StripReady)
    assert strip.images.shape == (2, 10, 10, 3) and strip.psis == (1.0, 0.0)
    assert not np.array_equal(strip.images[0], strip.images[1])
    var = eng.rec.wait(m.VariationReady)
    assert var.std_map.shape == (16, 16) and var.std_map.dtype == np.float32 and var.std_map.max() > 0


def test_variation_matches_the_exploration_op(eng):
    """The engine's variation map is explore.variation_map for an unmixed latent."""
    settings = RenderSettings(psi=0.8, noise=NoiseSpec(ResNoise("random", 1)))
    eng.submit(m.RenderVariation("v", 1, latent=Latent(seed=3), settings=settings, draws=5, seed=9))
    got = eng.rec.wait(m.VariationReady).std_map
    box = {}
    eng.call_soon(lambda: box.update(
        want=variation_map(eng.model.render_G, latents_to_w(eng.model.render_G, [Latent(seed=3)])[0], settings, 5, 9)))
    eng.submit(m.RenderImage("sync", 2, Latent(seed=0)))
    eng.rec.wait(m.FrameReady, stamp=2)
    np.testing.assert_allclose(got, box["want"], atol=1e-5)


def test_seed_grid_streams_in_chunks_covering_every_seed(eng):
    seeds = tuple(range(100, 111))
    eng.submit(m.RenderSeedGrid("g", 1, seeds=seeds, thumb=8, chunk=4))
    chunks = []
    while sum(len(c.images) for c in chunks) < len(seeds):
        chunks = eng.rec.of(m.GridChunk, stamp=1) or [eng.rec.wait(m.GridChunk)]
        time.sleep(0.01)
    assert [c.start for c in chunks] == [0, 2, 6, 10]     # a small first chunk, then `chunk` at a time
    assert all(c.total == len(seeds) and c.images.shape[1:] == (8, 8, 3) for c in chunks)
    eng.submit(m.RenderImage("one", 2, Latent(seed=106), size=8))
    assert np.array_equal(eng.rec.wait(m.FrameReady).image, chunks[2].images[0])


def test_a_newer_grid_replaces_one_being_streamed(eng):
    eng.submit(m.RenderSeedGrid("g", 1, seeds=tuple(range(200)), thumb=8, chunk=2))
    eng.rec.wait(m.GridChunk, stamp=1)
    eng.submit(m.RenderSeedGrid("g", 2, seeds=(1, 2, 3), thumb=8))
    eng.rec.wait(m.GridChunk, stamp=2, start=2)
    time.sleep(0.1)
    stamps = [c.stamp for c in eng.rec.of(m.GridChunk)]
    assert stamps[-1] == 2 and 1 not in stamps[stamps.index(2):]
    assert sum(len(c.images) for c in eng.rec.of(m.GridChunk, stamp=1)) < 200


def test_export_image_writes_a_png_with_provenance(eng, tmp_path):
    path = tmp_path / "img.png"
    eng.post(m.ExportStill(str(path), RenderImage(latent=Latent(seed=5), settings=RenderSettings(psi=0.5),
                                                  mix_with=Latent(seed=6), mix_layers=(0, 1), size=32)))
    eng.rec.wait(m.Saved, path=str(path))
    rec = read_provenance(path)
    assert rec["latent"] == {"seed": 5} and rec["psi"] == 0.5 and rec["mix_layers"] == [0, 1] and rec["size"] == 32
    assert rec["mix_with"] == {"seed": 6} and rec["kind"] == "image"
    assert Image.open(path).size == (32, 32)
    eng.post(m.ExportStill(str(tmp_path / "mix.png"), RenderMixGrid(rows=(Latent(seed=1),), cols=(Latent(seed=2),),
                                                                   layers=(0,), thumb=None)))
    eng.rec.wait(m.Saved, what="mix")
    assert Image.open(tmp_path / "mix.png").size == (32, 32)   # sources on top and left, one cell


def test_validate_dataset_answers_with_a_summary(eng, tmp_path):
    rng = np.random.default_rng(0)
    for i in range(3):
        Image.fromarray(rng.integers(0, 255, (16, 16, 3), dtype=np.uint8)).save(tmp_path / f"{i}.png")
    (tmp_path / "broken.png").write_bytes(b"\x89PNG broken")
    eng.post(m.ValidateDataset(str(tmp_path)))
    summary = eng.rec.wait(m.DatasetSummary)
    assert summary.count == 3 and summary.resolution == 16 and [n for n, _ in summary.skipped] == ["broken.png"]


@pytest.fixture
def dataset(tmp_path, monkeypatch):
    monkeypatch.setenv("STYLEGAN_STUDIO_CACHE", str(tmp_path / "cache"))
    folder = tmp_path / "data"
    folder.mkdir()
    rng = np.random.default_rng(1)
    for i in range(8):
        Image.fromarray(rng.integers(0, 255, (16, 16, 3), dtype=np.uint8)).save(folder / f"{i}.png")
    return str(folder)


def test_training_job_ticks_pauses_explores_live_and_stops_with_a_snapshot(eng, dataset, tmp_path):
    run_dir = str(tmp_path / "run")
    cfg = m.TrainConfig(data=dataset, resolution=16, channels=8, z_dim=8, total_kimg=100.0, batch=4, growing=False,
                        tick_kimg=0.008, snapshot_ticks=1000)
    eng.post(m.StartTraining(config=cfg, run_dir=run_dir))
    eng.rec.wait(m.TrainingState, state="running")
    eng.post(m.ExploreTraining(live=True, refresh_s=0.2))
    info = eng.rec.wait(m.ModelInfo, live=True)
    assert info.resolution == 16 and info.z_dim == 8
    tick = eng.rec.wait(m.TrainingTick)
    assert tick.run_dir == run_dir and tick.resolution == 16 and tick.batch == 4
    assert eng.rec.wait(m.TrainingFakes).image.ndim == 3
    eng.submit(m.RenderImage("main", 1, Latent(seed=1)))
    assert eng.rec.wait(m.FrameReady).image.shape == (16, 16, 3)     # served while training runs
    eng.submit(m.RenderSeedGrid("grid", 2, seeds=tuple(range(12)), thumb=8, chunk=2))
    eng.rec.wait(m.GridChunk, start=10)
    ticks = len(eng.rec.of(m.TrainingTick))
    eng.rec.wait(m.TrainingTick, tick=ticks + 2)                     # training goes on between grid chunks
    assert not eng.rec.of(m.ErrorEvent)
    eng.post(m.PauseTraining())
    eng.rec.wait(m.TrainingState, state="paused")
    time.sleep(0.1)
    count = len(eng.rec.of(m.JobProgress))
    time.sleep(0.3)
    assert len(eng.rec.of(m.JobProgress)) == count                   # a paused job does not advance
    eng.post(m.ResumeTraining())
    eng.post(m.StopTraining())
    snap = eng.rec.wait(m.TrainingSnapshot)
    done = eng.rec.wait(m.JobFinished, kind="train")
    assert done.status == "ok" and done.path == snap.path and snap.path.startswith(run_dir)
    eng.rec.wait(m.TrainingState, state="stopped")
    final = eng.rec.wait(m.ModelInfo, live=False, path=snap.path)   # the explored run's G_ema stays as the model
    assert final.z_dim == 8
    assert final.name == f"run at {snap.kimg:.2f} kimg"               # named for the title bar, not a long path


def test_a_run_that_ends_reads_finished_and_a_resumed_run_replays_its_curves_from_its_moved_images(eng, dataset, tmp_path):
    run_dir = str(tmp_path / "run")
    cfg = m.TrainConfig(data=dataset, resolution=16, channels=8, z_dim=8, total_kimg=0.032, batch=4, growing=False,
                        tick_kimg=0.008, snapshot_ticks=1000)
    eng.post(m.StartTraining(config=cfg, run_dir=run_dir))
    assert eng.rec.wait(m.JobFinished, kind="train").status == "ok"
    first = eng.rec.wait(m.TrainingState, state="finished").job_id
    assert not [e for e in eng.rec.events if isinstance(e, m.TrainingState) and e.state == "stopped"]
    before = [e.kimg for e in eng.rec.events if isinstance(e, m.TrainingTick)]
    assert len(before) == 4
    moved = str(tmp_path / "moved")
    os.rename(dataset, moved)                      # the run's images moved: the resume says where they are now
    eng.post(m.StartTraining(resume_dir=run_dir, kimg=0.048, data=moved))
    eng.rec.wait(m.TrainingState, state="finished", timeout=30, job_id=first + 1)
    started = eng.rec.wait(m.TrainingState, state="running", job_id=first + 1)   # the run's own settings
    cfg = started.config
    assert (cfg.total_kimg, cfg.data, cfg.resolution, cfg.channels) == (0.048, moved, 16, 8)
    assert started.dataset == "8 images at 16², 0 skipped" and started.notes == ()
    grids = [e for e in eng.rec.events if isinstance(e, m.TrainingFakes) and e.job_id == first + 1]
    assert grids[0].kimg == pytest.approx(0.032) and grids[0].image.ndim == 3   # the run's last grid, replayed first
    snaps = [e for e in eng.rec.events if isinstance(e, m.TrainingSnapshot) and e.job_id == first + 1]
    assert [os.path.basename(e.path) for e in snaps[:1]] == ["snapshot-000004.safetensors"]   # listed again
    assert snaps[0].kimg == pytest.approx(0.032)
    resumed = [e.kimg for e in eng.rec.events if isinstance(e, m.TrainingTick) and e.job_id != first]
    assert resumed[:4] == pytest.approx(before) and len(resumed) == 6   # 4 replayed, then 2 new ticks
    spread = {j: [e for e in eng.rec.events if isinstance(e, m.TrainingMetric) and e.job_id == j
                  and e.name == "diversity"] for j in (first, first + 1)}
    assert [e.kimg for e in spread[first]] == pytest.approx(before)      # one diversity figure a tick
    assert [e.value for e in spread[first + 1][:4]] == pytest.approx([e.value for e in spread[first]], abs=1e-4)
    assert len(spread[first + 1]) == 6 and all(e.value > 0 for e in spread[first + 1])
    assert resumed[4] > before[-1]


@pytest.mark.parametrize("how", ["returns", "cancelled", "fails"])
def test_an_ended_job_is_freed_without_the_garbage_collector(how):
    """A job's generator and stop hook refer back to the job; ending it must cut both (no cycle left behind)."""
    import gc
    import weakref
    from stylegan_studio.engine.thread.jobs import JobSet

    def factory(job):
        def units():
            yield Unit(1, 2)
            if how == "fails":
                raise ValueError("boom")
            yield Unit(2, 2)
        job.stop = lambda: setattr(job, "asked", True)  # as TrainingJob does: the hook refers to its job
        return units()

    gc.collect()
    gc.disable()
    try:
        jobs = JobSet(emit=lambda e: None, fail=lambda exc, src: str(exc))
        ref = weakref.ref(jobs.add("k", "a job", factory))
        jobs.advance()
        if how == "cancelled":
            jobs.cancel(0)
            ref().stop = None  # a cancelled job without a graceful stop ends at its next unit
        while jobs.advance():
            pass
        assert ref() is None and not jobs.jobs
    finally:
        gc.enable()


@pytest.mark.parametrize("ending", ["stopped", "finished"])
def test_a_run_that_ended_is_freed_at_once(eng, dataset, tmp_path, ending):
    """A finished or stopped run's networks and optimizers go when the job ends, not at a rare full collection.

    With automatic collection off, only the engine's own release frees cycles: a job whose generator and stop
    hook referred back to it kept every run alive (the window soak grew by a run each time)."""
    import gc
    import weakref
    cfg = m.TrainConfig(data=dataset, resolution=16, channels=8, z_dim=8, batch=4, growing=False, tick_kimg=0.008,
                        total_kimg=0.016 if ending == "finished" else 100.0, snapshot_ticks=1000)
    gc.collect()
    gc.disable()
    try:
        eng.post(m.StartTraining(config=cfg, run_dir=str(tmp_path / "run")))
        job_id = eng.rec.wait(m.TrainingTick).job_id
        run = eng.training[job_id].run
        refs = [weakref.ref(x) for x in (run, run.G, run.D, run.opt_G)]
        del run
        if ending == "stopped":
            eng.post(m.StopTraining())
        eng.rec.wait(m.JobFinished, kind="train")
        eng.rec.wait(m.TrainingState, state=ending)
        assert [r() is None for r in refs] == [True] * 4
    finally:
        gc.enable()


def test_training_with_a_bad_dataset_fails_alone(eng, tmp_path):
    eng.post(m.StartTraining(config=m.TrainConfig(data=str(tmp_path / "missing"), resolution=16),
                             run_dir=str(tmp_path / "run")))
    done = eng.rec.wait(m.JobFinished, kind="train")
    assert done.status == "failed" and "no such dataset" in done.message
    assert eng.rec.wait(m.ErrorEvent).source.__class__ is m.StartTraining
    eng.rec.wait(m.TrainingState, state="failed")
    eng.submit(m.RenderImage("main", 1, Latent(seed=1)))
    eng.rec.wait(m.FrameReady)


def test_export_video_runs_the_video_job_one_frame_per_unit(eng, tmp_path, monkeypatch):
    """The wiring of ExportVideo: render.video.video_job(G, meta, model_path, spec, out) runs as a job."""
    calls = []

    def video_job(G, meta, model_path, spec, out_path):
        calls.append((G.cfg.resolution, meta.name, model_path, spec, out_path, threading.get_ident()))
        try:
            for i in range(spec["frames"]):
                yield i + 1, spec["frames"]
            open(out_path, "wb").write(b"video")
        finally:
            calls.append("cleanup")
    from stylegan_studio.engine.thread import commands
    monkeypatch.setattr(commands, "video_job", video_job)
    out = str(tmp_path / "a.mp4")
    eng.post(m.ExportVideo(out, {"frames": 5}))
    done = eng.rec.wait(m.JobFinished, kind="video")
    assert done.status == "ok" and done.path == out and eng.rec.wait(m.Saved, path=out).what == "video"
    assert calls[0][:5] == (16, "new model", "", {"frames": 5}, out) and calls[0][5] == eng.thread.ident
    eng.post(m.ExportVideo(str(tmp_path / "b.mp4"), {"frames": 10 ** 6}))
    started = eng.rec.wait(m.JobStarted, kind="video", description="video b.mp4")
    eng.post(m.CancelJob(started.job_id))
    assert eng.rec.wait(m.JobFinished, job_id=started.job_id).status == "cancelled"
    assert calls[-1] == "cleanup" and not (tmp_path / "b.mp4").exists()


def test_the_process_exits_cleanly_when_close_returns_mid_unit(tmp_path):
    """close() returns after 1 s; the unit still running inside torch finishes before the interpreter exits."""
    import subprocess
    import sys
    script = tmp_path / "run.py"
    script.write_text(
        "import time, torch\n"
        "from stylegan_studio.engine.thread.engine import Engine\n"
        "from stylegan_studio.engine.thread.jobs import Unit\n"
        "def slow(job):\n"
        "    x = torch.randn(400, 400)\n"
        "    while True:\n"
        "        end = time.monotonic() + 1.6\n"
        "        while time.monotonic() < end:\n"
        "            x = torch.tanh(x @ x)\n"
        "        yield Unit(0, 0)\n"
        "e = Engine(lambda ev: None, threads=1)\n"
        "e.start()\n"
        "e.start_job('slow', slow)\n"
        "time.sleep(0.3)\n"
        "t = time.monotonic()\n"
        "print(e.close(), round(time.monotonic() - t, 1))\n")
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr[-300:]
    alive, seconds = out.stdout.split()
    assert alive == "False" and float(seconds) <= 1.2


def test_run_controls_that_cross_the_runs_end_are_no_error(eng):
    """The window's Pause/Resume/Stop/Explore live can race a run's end: nothing is left to do or report."""
    for cmd in (m.PauseTraining(), m.ResumeTraining(), m.StopTraining(), m.ExploreTraining(live=True)):
        eng.post(cmd)
    eng.post(m.CancelJob(999))                      # a real error, after them in the queue
    err = eng.rec.wait(m.ErrorEvent)
    assert isinstance(err.source, m.CancelJob)
    assert [e for e in eng.rec.events if isinstance(e, m.ErrorEvent)] == [err]


def test_a_growing_run_explored_live_or_by_snapshot_shows_its_phase(tmp_path):
    """Like the fakes grid (and the official lod): an 8² phase of a 16² run is shown as 8², twice enlarged."""
    run = TrainingRun(tiny_cfg(make_folder(tmp_path / "data", n=16), tick_kimg=0.016, total_kimg=0.016),
                      tmp_path / "r")
    snaps = [u.snapshot_path for u in run.steps() if u.snapshot_path]
    slot = ModelSlot(torch.device("cpu"))
    assert slot.start_live(SimpleNamespace(run=run, run_dir=str(tmp_path / "r")), 0.2)
    assert slot.live_G.grown == (8, 1.0) and run.G_ema.grown is None   # the trainer's own G_ema is untouched
    assert slot.info().grown_res == 0                                  # a live phase moves on: the pane says it
    img = ex.render_latents(slot.render_G, [Latent(seed=1)], RenderSettings())[0]
    assert (img == np.repeat(np.repeat(img[::2, ::2], 2, 0), 2, 1)).all()
    slot.load(snaps[-1])
    info = slot.info()
    assert (info.resolution, info.grown_res, info.grown_alpha) == (16, 8, 1.0)


def test_make_avatars_is_a_job_that_writes_a_dataset_or_nothing_when_cancelled(eng, tmp_path):
    import zipfile
    from stylegan_studio.engine.files.dataset import validate
    out = tmp_path / "new folder" / "faces.zip"           # a folder to make, as ~/stylegan-data on first use
    eng.post(m.MakeAvatars(str(out), count=300, resolution=16, seed=5))
    done = eng.rec.wait(m.JobFinished, kind="avatars", timeout=120)
    assert done.status == "ok" and done.path == str(out) and "300 faces at 16²" in done.message
    assert eng.rec.wait(m.Saved, path=str(out)).what == "dataset"
    assert [p.done for p in eng.rec.of(m.JobProgress) if p.job_id == done.job_id][-1] == 300  # a unit per chunk
    report, _ = validate(out, 0)
    assert (report.count, report.resolution) == (300, 16)
    with zipfile.ZipFile(out) as zf:
        assert zf.namelist()[0] == "img/00000005.png"    # face i from seed 5 + i
    big = tmp_path / "big.zip"
    eng.post(m.MakeAvatars(str(big), count=20_000, resolution=16))
    started = eng.rec.wait(m.JobStarted, kind="avatars", description="faces big.zip")
    eng.rec.wait(m.JobProgress, job_id=started.job_id, timeout=120)
    eng.post(m.CancelJob(started.job_id))
    assert eng.rec.wait(m.JobFinished, job_id=started.job_id, timeout=120).status == "cancelled"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new folder"]   # no zip, no temporary file
    with pytest.raises(m.UserError):
        m.MakeAvatars(str(big), count=0)
    with pytest.raises(m.UserError):
        m.MakeAvatars(str(big), resolution=48)


def test_a_run_that_cannot_start_ends_failed_with_its_reason(eng, tmp_path):
    eng.post(m.StartTraining(config=m.TrainConfig(data=str(tmp_path / "missing.zip")), run_dir=str(tmp_path / "r")))
    state = eng.rec.wait(m.TrainingState, state="failed")
    done = eng.rec.wait(m.JobFinished, kind="train")
    assert done.job_id == state.job_id and done.status == "failed" and "missing.zip" in done.message
    assert not [e for e in eng.rec.events if isinstance(e, m.TrainingState) and e.state == "stopped"]


def test_snapshot_events_name_the_snapshots_pruning_kept(eng, dataset, tmp_path):
    cfg = m.TrainConfig(data=dataset, resolution=16, channels=8, z_dim=8, total_kimg=0.032, batch=4, growing=False,
                        tick_kimg=0.008, snapshot_ticks=1, keep_snapshots=2)
    eng.post(m.StartTraining(config=cfg, run_dir=str(tmp_path / "run")))
    eng.rec.wait(m.TrainingState, state="finished", timeout=60)
    snaps = [e for e in eng.rec.events if isinstance(e, m.TrainingSnapshot)]
    assert len(snaps) >= 3 and all(e.path in e.kept and len(e.kept) <= 2 for e in snaps)
    assert list(snaps[-1].kept) == sorted(str(p) for p in (tmp_path / "run").glob("snapshot-*.safetensors"))
