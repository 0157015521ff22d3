"""FID as the window measures it: in steps with progress (one pipeline with the CLI), as a cancellable engine job."""
import json

import numpy as np
import pytest
import torch

from helpers import Recorder, make_folder, tiny_generator
from stylegan_studio.engine.cli.main import main
from stylegan_studio.engine.contract import messages as m
from stylegan_studio.engine.contract.errors import UserError
from stylegan_studio.engine.files.dataset import load_images
from stylegan_studio.engine.files.modelfile import save_model
from stylegan_studio.engine.metrics import fid
from stylegan_studio.engine.thread.engine import Engine


class _TinyNet(torch.nn.Module):
    """Stands in for InceptionV3: mean colour and a coarse layout as 'features'."""

    def forward(self, x):
        return torch.nn.functional.adaptive_avg_pool2d(x, 2).flatten(1)


@pytest.fixture
def tiny_inception(tmp_path, monkeypatch):
    monkeypatch.setenv("STYLEGAN_STUDIO_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(fid, "load_inception", lambda: _TinyNet())
    return _TinyNet()


def test_fid_steps_report_progress_and_agree_with_the_whole_measurement(tmp_path, tiny_inception):
    G = tiny_generator(16)
    data = make_folder(tmp_path / "held", n=30, size=16)
    torch.manual_seed(5)
    steps = list(fid.fid_steps(G, str(data), count=20, real=30, batch=10))
    assert [s[0] for s in steps] == ["held-out images"] * 3 + ["samples"] * 2 + ["done"]
    assert [s[1] for s in steps] == [10, 20, 30, 40, 50, 50] and {s[2] for s in steps} == {50}
    result = steps[-1][3]
    assert (result.n_fake, result.n_real) == (20, 30) and result.value > 0
    torch.manual_seed(5)   # the same seeds and noise draws, measured in one go
    reals = fid.cached_features(tiny_inception, load_images(str(data), 16)[0], load_images(str(data), 16)[1].key)
    want = fid.fid_from_features(fid.features(tiny_inception, fid.generated_images(G, 20, 100_000, batch=10)), reals)
    assert result.value == pytest.approx(want, rel=1e-9)
    again = list(fid.fid_steps(G, str(data), count=20, real=30, batch=10))
    assert [s[0] for s in again][0] == "samples"                 # the held-out features came from the cache
    with pytest.raises(UserError, match="at least 2"):
        list(fid.fid_steps(G, str(data), count=1))
    with pytest.raises(UserError, match="at least 2 real images, it has 1"):
        list(fid.fid_steps(G, str(make_folder(tmp_path / "one", n=1, size=16)), count=4))


def test_the_cli_prints_the_measurement(tmp_path, tiny_inception, capsys):
    model = tmp_path / "g.safetensors"
    save_model(tiny_generator(16), model)
    data = make_folder(tmp_path / "held", n=12, size=16)
    assert main(["metrics", "fid", "--model", str(model), "--data", str(data), "--count", "8"]) == 0
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (line["n_fake"], line["n_real"]) == (8, 12) and line["fid"] > 0
    assert line["note"] == (f"only 12 real images in {data} (asked for 5,000); with fewer than 1,000 images on a "
                            "side FID reads high: compare only figures of equal counts")


def test_a_figure_measured_on_less_than_asked_or_on_few_images_says_so():
    assert fid.fid_note("held", 5000, 5000, 5000) == ""
    assert fid.fid_note("held", 1000, 3000, 5000) == "only 3,000 real images in held (asked for 5,000)"
    assert fid.fid_note("held", 100, 5, 100).startswith("only 5 real images in held (asked for 100); with fewer")


def test_the_engine_measures_the_open_model_as_a_job_and_says_what_it_measured(tmp_path, tiny_inception):
    model = tmp_path / "g.safetensors"
    save_model(tiny_generator(16), model)
    data = make_folder(tmp_path / "held", n=12, size=16)
    rec = Recorder()
    eng = Engine(rec, threads=1)
    eng.start()
    try:
        eng.post(m.LoadModel(str(model)))
        rec.wait(m.ModelInfo)
        eng.post(m.MeasureFID(data="", count=8))
        assert "choose the held-out" in rec.wait(m.JobFinished, kind="fid", status="failed").message
        eng.post(m.MeasureFID(data=str(data), count=8, psi=0.7))
        res = rec.wait(m.MetricResult)
        assert (res.name, res.model, res.n_fake, res.n_real, res.psi, res.data) == ("fid", "g", 8, 12, 0.7, str(data))
        assert res.note.startswith("only 12 real images")
        done = rec.wait(m.JobFinished, kind="fid", status="ok")
        assert done.message == f"FID {res.value:.2f}: 8 samples against 12 real images" and np.isfinite(res.value)
        assert [p.done for p in rec.of(m.JobProgress) if p.kind == "fid"][-1] == 20
    finally:
        eng.close()
