"""Projection of a target image into W / W+ (and noise maps) on a tiny generator."""
import os

import numpy as np
import pytest
import torch
from PIL import Image

from helpers import tiny_generator
from stylegan_studio.engine.contract.errors import UserError
from stylegan_studio.engine.render.project import Projection, load_target, noise_regularizer, psnr, ssim
from stylegan_studio.engine.contract.projection import ProjectionOptions
from stylegan_studio.engine.contract.latents import Latent, NoiseSpec, RenderSettings, SpecError
from stylegan_studio.engine.render.synth import noise_maps, render_latents, synthesize, to_uint8


@pytest.fixture(scope="module")
def G():
    return tiny_generator(16)


def target_of(G, seed=3):
    """An image the model can make exactly: seed 3 with the stored noise."""
    return render_latents(G, [Latent(seed=seed)], RenderSettings())[0]


@pytest.mark.parametrize("mode,size", [("RGB", (40, 24)), ("RGBA", (17, 30)), ("L", (16, 16)), ("P", (50, 50)),
                                       ("I;16", (20, 20))])
def test_any_image_becomes_a_centre_crop_at_model_resolution(tmp_path, mode, size):
    path = tmp_path / "t.png"
    Image.new(mode, size).save(path)
    img = load_target(path, 16)
    assert img.shape == (16, 16, 3) and img.dtype == np.uint8


def test_centre_crop_keeps_the_middle(tmp_path):
    arr = np.zeros((10, 30, 3), np.uint8)
    arr[:, 10:20] = 255  # the centre square is white, the sides black
    Image.fromarray(arr).save(tmp_path / "wide.png")
    assert load_target(tmp_path / "wide.png", 8).min() > 200


@pytest.mark.parametrize("content", [b"", b"not an image", None])
def test_unreadable_files_give_one_line(tmp_path, content):
    path = tmp_path / "bad.png"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(UserError) as err:
        load_target(path, 16)
    assert "bad.png" in str(err.value) and "\n" not in str(err.value)


def test_options_reject_nonsense():
    for bad in ({"space": "z"}, {"steps": 0}, {"distance": "lpips"}, {"lr": 0}):
        with pytest.raises(SpecError):
            ProjectionOptions(**bad)


@pytest.mark.parametrize("space,shape", [("w", (16,)), ("w+", (6, 16))])
def test_projection_gets_closer_and_returns_the_latent(G, space, shape):
    target = target_of(G)
    p = Projection(G, target, ProjectionOptions(space=space, steps=40))
    start = psnr(p.result().image, target)
    steps = list(p.steps())
    r = p.result()
    assert [s.step for s in steps] == list(range(1, 41)) and steps[-1].total == 40
    assert r.w.shape == shape and r.noise is None
    assert psnr(r.image, target) > start + 3
    # the result renders again from its latent alone (stored noise, no truncation)
    ws = torch.from_numpy(r.w).reshape(1, -1, 16).expand(1, G.num_ws, 16)
    assert np.array_equal(to_uint8(synthesize(G, ws, noise_maps(G, NoiseSpec())))[0], r.image)


def test_projection_never_touches_the_model(G):
    G2 = tiny_generator(16).requires_grad_(True)
    before = {k: v.clone() for k, v in G2.state_dict().items()}
    p = Projection(G2, target_of(G2), ProjectionOptions(space="w+", steps=3, noise=True))
    list(p.steps())
    assert all(q.grad is None for q in G2.parameters())
    assert all(torch.equal(before[k], v) for k, v in G2.state_dict().items())


def test_noise_maps_stay_unit_normal_and_come_back(G):
    p = Projection(G, target_of(G, 4), ProjectionOptions(space="w", steps=5, noise=True))
    list(p.steps())
    r = p.result()
    assert len(r.noise) == G.num_ws
    for m in r.noise:
        assert abs(m.mean()) < 1e-4 and abs(m.std(ddof=1) - 1) < 1e-3


def test_noise_regularizer_punishes_smooth_maps():
    white = [torch.randn(1, 1, 32, 32, generator=torch.Generator().manual_seed(0))]
    smooth = [torch.ones(1, 1, 32, 32)]
    assert noise_regularizer(smooth) > 100 * noise_regularizer(white)


def test_projection_is_deterministic(G):
    runs = []
    for _ in range(2):
        p = Projection(G, target_of(G), ProjectionOptions(space="w", steps=5, seed=7))
        list(p.steps())
        runs.append(p.result().w)
    assert np.array_equal(*runs)


def test_wrong_size_target_is_one_line(G):
    with pytest.raises(UserError):
        Projection(G, np.zeros((8, 8, 3), np.uint8), ProjectionOptions())


def test_psnr_and_ssim():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)
    b = np.clip(a.astype(int) + rng.integers(-20, 21, a.shape), 0, 255).astype(np.uint8)
    assert psnr(a, a) == float("inf") and ssim(a, a) == pytest.approx(1.0)
    assert 15 < psnr(a, b) < 30 and ssim(a, b) < 0.99
    assert ssim(a, 255 - a) < 0


# ---------------------------------------------------------------- as an engine job


def test_the_job_previews_and_ends_with_the_latent(eng, tmp_path):
    from stylegan_studio.engine.contract import messages as m
    Image.new("RGB", (30, 20), (200, 40, 40)).save(tmp_path / "red.png")
    eng.post(m.ProjectImage(str(tmp_path / "red.png"), ProjectionOptions(space="w", steps=12)))
    done = eng.rec.wait(m.ProjectionDone)
    finished = eng.rec.wait(m.JobFinished, kind="project")
    previews = eng.rec.of(m.ProjectionPreview)
    assert finished.status == "ok" and "red.png" in finished.message and "PSNR" in finished.message
    assert previews[-1].step == 12 and previews[-1].image.shape == (16, 16, 3)
    assert previews[0].target.shape == (16, 16, 3) and previews[0].target[0, 0].tolist() == [200, 40, 40]
    assert done.latent.w.shape == (16,) and done.path.endswith("red.png") and done.psnr > 0
    progress = eng.rec.of(m.JobProgress, kind="project")
    assert progress[-1].done == progress[-1].total == 12


def test_the_job_cancels_and_a_bad_file_is_one_line(eng, tmp_path):
    from stylegan_studio.engine.contract import messages as m
    Image.new("RGB", (16, 16)).save(tmp_path / "t.png")
    eng.post(m.ProjectImage(str(tmp_path / "t.png"), ProjectionOptions(steps=100_000)))
    started = eng.rec.wait(m.JobStarted, kind="project")
    eng.rec.wait(m.ProjectionPreview)
    eng.post(m.CancelJob(started.job_id))
    assert eng.rec.wait(m.JobFinished, job_id=started.job_id).status == "cancelled"
    assert not eng.rec.of(m.ProjectionDone)
    (tmp_path / "bad.png").write_bytes(b"nope")
    eng.post(m.ProjectImage(str(tmp_path / "bad.png")))
    failed = eng.rec.wait(m.JobFinished, kind="project", status="failed")
    err = eng.rec.wait(m.ErrorEvent)
    assert "bad.png" in err.message and "\n" not in err.message and "bad.png" in failed.message


# ---------------------------------------------------------------- per-layer latents (W+) everywhere a latent goes
def test_a_per_layer_latent_renders_mixes_and_survives_provenance(G, tmp_path):
    from stylegan_studio.engine.files.modelfile import read_header, save_model
    from stylegan_studio.engine.files.provenance import model_record, record, spec_from
    from stylegan_studio.engine.render import exports
    from stylegan_studio.engine.render.renderer import latent_ws, mix_ws
    from stylegan_studio.engine.contract.requests import RenderImage
    from stylegan_studio.engine.cli.main import main
    rng = np.random.default_rng(0)
    ws = rng.normal(size=(G.num_ws, 16)).astype(np.float32)
    plus = Latent(w=ws)
    assert plus.per_layer and plus.label() == "custom w+" and not Latent(w=ws[0]).per_layer
    got = latent_ws(G, plus, RenderSettings())
    assert torch.equal(got[0], torch.from_numpy(ws))
    # the same ws on every layer is the same image as the plain w
    same = Latent(w=np.repeat(ws[:1], G.num_ws, 0))
    assert np.array_equal(render_latents(G, [same], RenderSettings(psi=0.5))[0],
                          render_latents(G, [Latent(w=ws[0])], RenderSettings(psi=0.5))[0])
    cells = mix_ws(G, [plus], [Latent(seed=1)], (0, 1), RenderSettings())
    assert torch.equal(cells[2, 2:], torch.from_numpy(ws[2:]))
    spec = RenderImage(latent=plus, settings=RenderSettings(psi=0.7))
    assert spec_from(record(spec, model_record("id", "n", "m"))) == spec
    path = tmp_path / "tiny.safetensors"
    save_model(G, path)
    exports.save(tmp_path / "p.png", G, spec, model_record(read_header(path)[1].model_id, "tiny", path))
    assert main(["generate", "--from-png", str(tmp_path / "p.png"), "--out", str(tmp_path / "again")]) == 0
    assert np.array_equal(np.asarray(Image.open(tmp_path / "again" / "p.png")), np.asarray(Image.open(tmp_path / "p.png")))


def test_a_per_layer_latent_of_the_wrong_shape_is_one_line(G):
    from stylegan_studio.engine.render.renderer import latent_ws
    with pytest.raises(UserError, match="per-layer latent is 3×16"):
        latent_ws(G, Latent(w=np.zeros((3, 16), np.float32)), RenderSettings())


# ---------------------------------------------------------------- the `project` command
@pytest.mark.parametrize("space", ["w", "w+"])
def test_cli_writes_latent_image_and_video_that_regenerate(G, tmp_path, space, capsys):
    from stylegan_studio.engine.cli.main import main
    from stylegan_studio.engine.files.modelfile import save_model
    model = tmp_path / "tiny.safetensors"
    save_model(G, model)
    Image.fromarray(target_of(G)).resize((40, 30)).save(tmp_path / "face.jpg")
    out = tmp_path / "out"
    assert main(["project", str(tmp_path / "face.jpg"), "--model", str(model), "--space", space, "--steps", "6",
                 "--noise", "--video", str(tmp_path / "opt.gif"), "--out", str(out)]) == 0
    assert "PSNR" in capsys.readouterr().out
    with np.load(out / "face.npz", allow_pickle=False) as data:
        key = "w" if space == "w" else "ws"
        assert data[key].shape == ((1, 16) if space == "w" else (1, G.num_ws, 16))
        assert data["noise_0"].shape == (4, 4) and str(data["labels"][0]) == "projected face"
        w = data[key][0]
    shown = np.asarray(Image.open(out / "face-projected.png"))
    assert np.array_equal(shown, render_latents(G, [Latent(w=w)], RenderSettings())[0])
    assert np.asarray(Image.open(out / "face-target.png")).shape == (16, 16, 3)
    assert (out / "face-projected-noise.png").exists() and Image.open(tmp_path / "opt.gif").n_frames == 6
    assert main(["generate", "--from-png", str(out / "face-projected.png"), "--out", str(tmp_path / "again")]) == 0
    assert np.array_equal(np.asarray(Image.open(tmp_path / "again" / "face-projected.png")), shown)


@pytest.mark.parametrize("argv, threads", [([], 1), (["--threads", "2"], 2), (["--threads", "0"], os.cpu_count())])
def test_cli_projects_on_one_torch_thread_unless_told(G, tmp_path, monkeypatch, argv, threads):
    """Two threads were 10× slower than one on the busy 2-core machine (docs/projection.md): one is the default."""
    from stylegan_studio.engine.cli.main import main
    from stylegan_studio.engine.files.modelfile import save_model
    save_model(G, tmp_path / "tiny.safetensors")
    Image.fromarray(target_of(G)).save(tmp_path / "t.png")
    asked = []
    monkeypatch.setattr(torch, "set_num_threads", asked.append)
    assert main(["project", str(tmp_path / "t.png"), "--model", str(tmp_path / "tiny.safetensors"), "--steps", "2",
                 *argv, "--out", str(tmp_path / "o")]) == 0
    assert asked == [threads]


def test_cli_bad_inputs_are_one_line(tmp_path, capsys):
    from stylegan_studio.engine.cli.main import main
    (tmp_path / "notes.txt").write_text("hello")
    assert main(["project", str(tmp_path / "notes.txt"), "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert "notes.txt" in err and err.count("\n") == 1
    Image.new("RGB", (8, 8)).save(tmp_path / "t.png")
    assert main(["project", str(tmp_path / "t.png"), "--video", str(tmp_path / "v.avi"), "--out", str(tmp_path)]) == 1
    assert err.count("\n") == 1 and not (tmp_path / "t.npz").exists()


def test_a_per_layer_latent_takes_a_direction_edit(G):
    from stylegan_studio.engine.render.renderer import latent_ws
    from stylegan_studio.engine.contract.latents import Edit
    ws = np.random.default_rng(1).normal(size=(G.num_ws, 16)).astype(np.float32)
    offset = tuple(float(x) for x in np.linspace(-1, 1, 16))
    edited = latent_ws(G, Latent(w=ws, edit=Edit(offset, (0, 1))), RenderSettings())[0].numpy()
    assert np.allclose(edited[:2], ws[:2] + np.float32(offset)) and np.array_equal(edited[2:], ws[2:])
    assert Latent(w=ws, edit=Edit(offset, (0,))).unedited().per_layer


def test_favourites_with_a_per_layer_latent_save_and_load(eng, tmp_path):
    from stylegan_studio.engine.contract import messages as m
    from stylegan_studio.engine.contract.latentfile import read_latents
    ws = np.random.default_rng(2).normal(size=(6, 16)).astype(np.float32)
    eng.post(m.SaveLatents(str(tmp_path / "favs.npz"), (Latent(seed=3), Latent(w=ws))))
    eng.rec.wait(m.Saved, what="latents")
    back, labels = read_latents(tmp_path / "favs.npz")
    assert back.shape == (2, 6, 16) and np.array_equal(back[1], ws) and labels == ["seed 3", "custom w+"]
    assert np.array_equal(back[0][0], back[0][5])  # a seed's w on every layer
    with np.load(tmp_path / "favs.npz", allow_pickle=False) as data:
        assert set(data.files) == {"ws", "labels"}


def test_the_cli_npz_of_a_w_plus_projection_loads_as_favourites(G, tmp_path):
    from stylegan_studio.engine.cli.main import main
    from stylegan_studio.engine.contract.latentfile import read_latents
    from stylegan_studio.engine.files.modelfile import save_model
    save_model(G, tmp_path / "tiny.safetensors")
    Image.fromarray(target_of(G)).save(tmp_path / "f.png")
    assert main(["project", str(tmp_path / "f.png"), "--model", str(tmp_path / "tiny.safetensors"), "--space", "w+",
                 "--steps", "3", "--out", str(tmp_path)]) == 0
    ws, labels = read_latents(tmp_path / "f.npz")
    assert ws.shape == (1, G.num_ws, 16) and labels == ["projected f"]
