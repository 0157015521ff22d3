"""A run's fakes grids as a video: frames, captions, bad folders and damaged grids, the CLI and the engine."""
import numpy as np
import pytest
from PIL import Image

from helpers import Recorder
from stylegan_studio.engine.cli.main import main
from stylegan_studio.engine.contract import messages as m
from stylegan_studio.engine.contract.errors import StudioError, UserError
from stylegan_studio.engine.thread.engine import Engine
from stylegan_studio.engine.train import timelapse as tl
from stylegan_studio.engine.train.run import TrainingRun
from stylegan_studio.engine.train.state import RunFiles
from synthetic import make_folder, tiny_cfg


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """A tiny 16² run with 4 ticks (and so 4 fakes grids of 8 × 4 faces)."""
    tmp = tmp_path_factory.mktemp("tl")
    run = TrainingRun(tiny_cfg(make_folder(tmp / "data", n=16), tick_kimg=0.032, total_kimg=0.128), tmp / "r")
    for _ in run.steps():
        pass
    return tmp / "r"


def test_each_grid_is_one_frame_enlarged_crisply_and_captioned_with_its_tick_and_kimg(run_dir):
    files = RunFiles(run_dir)
    assert files.fakes_ticks() == [1, 2, 3, 4]
    frames = list(tl._frames(files, files.fakes_ticks(), None))
    grid = files.read_fakes(1)
    assert grid.shape == (64, 128, 3) and len(frames) == 4
    k = 8  # 128 px enlarged a whole number of times to at least 1024
    assert frames[0].shape[1] == 1024 and frames[0].shape[0] > 64 * k
    np.testing.assert_array_equal(frames[0][:64 * k], np.repeat(np.repeat(grid, k, 0), k, 1))
    strip = frames[0][64 * k:]
    assert strip.min() < 40 < 200 < strip.max()          # text drawn on the dark strip
    assert tl.caption(3, 0.096) == "tick 3 · 0.10 kimg" and tl.caption(7, 1234.56) == "tick 7 · 1,234.6 kimg"
    assert tl.caption(2, None) == "tick 2"
    assert tl._kimg(files.fakes_path(2)) == pytest.approx(0.064)
    assert list(tl._frames(files, [1], 200))[0].shape[1] == 200


def test_gif_and_mp4_hold_one_frame_per_grid_and_damaged_grids_are_passed_over(run_dir, tmp_path):
    out = tmp_path / "t.gif"
    assert list(tl.timelapse_job(run_dir, out, fps=5, width=256))[-1] == (4, 4)
    with Image.open(out) as im:
        assert im.n_frames == 4 and im.size[0] == 256
    import av
    list(tl.timelapse_job(run_dir, tmp_path / "t.mp4"))
    with av.open(str(tmp_path / "t.mp4")) as c:
        assert c.streams.video[0].frames == 4 and c.streams.video[0].width == 1024
    broken = tmp_path / "broken"
    (broken / "fakes").mkdir(parents=True)
    (broken / "config.json").write_text((run_dir / "config.json").read_text())
    for t in (1, 2):
        (broken / "fakes" / f"fakes-{t:06d}.png").write_bytes((run_dir / "fakes" / f"fakes-{t:06d}.png").read_bytes())
    (broken / "fakes" / "fakes-000003.png").write_bytes(b"\x89PNG cut")
    list(tl.timelapse_job(broken, tmp_path / "b.gif"))
    with Image.open(tmp_path / "b.gif") as im:
        assert im.n_frames == 2
    for t in (1, 2):
        (broken / "fakes" / f"fakes-{t:06d}.png").write_bytes(b"")
    with pytest.raises(UserError, match="none of the run's 3 fakes grids could be read"):
        list(tl.timelapse_job(broken, tmp_path / "c.gif"))
    assert not (tmp_path / "c.gif").exists() and not list(tmp_path.glob(".c.gif*"))


@pytest.mark.parametrize("case, words", [("no run", "not a training run folder"), ("no grids", "no fakes grids yet"),
                                         ("avi", "must end in"), ("fps", "fps must be")])
def test_impossible_timelapses_are_one_line(run_dir, tmp_path, case, words):
    folder, out, fps = run_dir, tmp_path / "t.mp4", 10
    if case == "no run":
        folder = tmp_path
    elif case == "no grids":
        folder = tmp_path / "empty"
        folder.mkdir()
        (folder / "config.json").write_text("{}")
    elif case == "avi":
        out = tmp_path / "t.avi"
    else:
        fps = 0
    with pytest.raises(StudioError, match=words):   # one line: a UserError, or the video contract's SpecError
        list(tl.timelapse_job(folder, out, fps=fps))


def test_the_cli_and_the_engine_write_it(run_dir, tmp_path, capsys):
    assert main(["timelapse", str(run_dir), "--out", str(tmp_path / "cli.gif"), "--fps", "4", "--width", "128"]) == 0
    assert "wrote" in capsys.readouterr().out and (tmp_path / "cli.gif").is_file()
    rec = Recorder()
    eng = Engine(rec, threads=1)
    eng.start()
    try:
        eng.post(m.ExportTimelapse(run_dir=str(tmp_path), path=str(tmp_path / "x.mp4")))
        assert "not a training run folder" in rec.wait(m.ErrorEvent).message
        eng.post(m.ExportTimelapse(run_dir=str(run_dir), path=str(tmp_path / "eng.webp"), fps=4, width=256))
        saved = rec.wait(m.Saved, what="timelapse")
        assert saved.path == str(tmp_path / "eng.webp") and rec.wait(m.JobFinished, kind="timelapse").status == "ok"
        with Image.open(saved.path) as im:
            assert im.n_frames == 4
    finally:
        eng.close()
