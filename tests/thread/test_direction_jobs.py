"""Directions on the engine thread: PCA/SeFa as jobs with progress, files read and written, one-line errors."""
import numpy as np

from stylegan_studio.engine.contract import messages as m
from stylegan_studio.engine.contract.directions import DirectionSet, read


def test_compute_reports_progress_and_answers_with_the_set(eng):  # noqa: F811
    eng.post(m.ComputeDirections("sefa", layers=(0, 1), count=3, samples=5000))
    ready = eng.rec.wait(m.DirectionsReady, timeout=60)
    ds = ready.directions
    assert len(ds) == 3 and ds.kind == "sefa" and ds.layers == (0, 1) and ready.path == ""
    progress = eng.rec.of(m.JobProgress, kind="directions")
    assert progress and progress[-1].done == progress[-1].total == 5000
    assert eng.rec.wait(m.JobFinished, kind="directions").status == "ok"


def test_directions_save_and_load(eng, tmp_path):  # noqa: F811
    ds = DirectionSet(np.eye(16, dtype=np.float32)[:2], ("a", "b"), "pca", (0,), "x", np.ones(2, np.float32),
                      np.ones(2, np.float32))
    path = tmp_path / "d.npz"
    eng.post(m.SaveDirections(str(path), ds))
    eng.rec.wait(m.Saved, what="directions")
    assert read(path).names == ("a", "b")
    eng.post(m.LoadDirections(str(path)))
    assert eng.rec.wait(m.DirectionsReady, path=str(path)).directions.names == ("a", "b")


def test_bad_requests_are_error_events(eng, tmp_path):  # noqa: F811
    wrong = tmp_path / "wrong.npz"
    wrong.write_bytes(b"not a zip")
    eng.post(m.LoadDirections(str(wrong)))
    assert "cannot read directions" in eng.rec.wait(m.ErrorEvent).message
    eng.post(m.ComputeDirections("sefa", layers=(99,)))
    assert "layer 99" in eng.rec.wait(m.ErrorEvent, timeout=10, source=m.ComputeDirections("sefa", layers=(99,))).message


def test_attribute_directions_of_the_bundled_model(eng):  # noqa: F811
    from stylegan_studio.engine.files.bundled import bundled_model_path
    eng.post(m.LoadModel(str(bundled_model_path())))
    eng.rec.wait(m.ModelInfo, name="avatars64")
    eng.post(m.ComputeDirections("attributes", samples=48))
    ds = eng.rec.wait(m.DirectionsReady, timeout=120).directions
    assert ds.kind == "attributes" and ds.score_name == "boundary accuracy"
    assert {"white background", "dark background"} <= set(ds.names)  # the backgrounds always vary
    assert any("classified" in p.message for p in eng.rec.of(m.JobProgress, kind="directions"))
