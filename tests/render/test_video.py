"""Video export: frame counts, sizes and durations per format; first frame; cancel; errors; figures; --from-png."""
import av
import numpy as np
import pytest
from PIL import Image

from helpers import tiny_generator
from stylegan_studio.engine.cli.main import main
from stylegan_studio.engine.render.synth import render_latents
from stylegan_studio.engine.files.modelfile import ModelMeta, save_model
from stylegan_studio.engine.contract.latentfile import encode_latents
from stylegan_studio.engine.contract.errors import UserError
from stylegan_studio.engine.contract.latents import Edit, Latent, NoiseSpec, RenderSettings, ResNoise, SpecError
from stylegan_studio.engine.render.video import FRAMES, frame_count, video_job
from stylegan_studio.engine.contract.video import KINDS, READ_BY, VideoSpec, reads

META = ModelMeta(model_id="test")


def decode(path):
    """(frames [N, H, W, 3], seconds) by decoding the whole file."""
    if path.suffix in (".mp4", ".webm"):
        with av.open(str(path)) as c:
            frames = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
            rate = c.streams.video[0].average_rate
        return np.stack(frames), len(frames) / float(rate)
    im = Image.open(path)
    frames, ms = [], 0
    for k in range(im.n_frames):
        im.seek(k)
        frames.append(np.asarray(im.convert("RGB")))
        ms += im.info.get("duration", 0)
    return np.stack(frames), ms / 1000


def run(G, spec, path):
    for _ in video_job(G, META, "m", spec, path):
        pass


@pytest.mark.parametrize("ext", [".mp4", ".webm", ".gif", ".webp"])
def test_formats_have_the_right_frames_size_and_duration(tmp_path, ext):
    G = tiny_generator(16)
    spec = VideoSpec(kind="walk", seeds=(0, 1), frames_per_step=5, fps=10, size=32, psi=1.0)
    out = tmp_path / f"v{ext}"
    run(G, spec, out)
    frames, seconds = decode(out)
    assert frames.shape == (10, 32, 32, 3) and frame_count(G, spec) == 10
    assert seconds == pytest.approx(1.0, abs=0.05)


@pytest.mark.parametrize("kind", ["truncation", "noise", "morph", "grid"])
def test_every_kind_renders(tmp_path, kind):
    G = tiny_generator(16)
    spec = VideoSpec(kind=kind, seeds=(0, 1, 2, 3), frames_per_step=3, fps=10, layers=(0, 1))
    out = tmp_path / "k.webm"
    run(G, spec, out)
    frames, _ = decode(out)
    assert len(frames) == frame_count(G, spec)
    assert frames.shape[1] == (32 if kind == "grid" else 16)
    assert not np.array_equal(frames[0], frames[len(frames) // 2])


def test_first_frame_of_a_walk_is_the_still_image(tmp_path):
    G = tiny_generator(16)
    out = tmp_path / "w.webp"
    spec = VideoSpec(kind="walk", seeds=(3, 4), frames_per_step=4, fps=10, psi=0.7, quality=100)
    frames = []
    from stylegan_studio.engine.render.video import frames_walk
    frames = np.concatenate(list(frames_walk(G, spec)))
    still = render_latents(G, [Latent(seed=3)], RenderSettings(psi=0.7))[0]
    assert np.abs(frames[0].astype(int) - still.astype(int)).max() <= 1
    run(G, VideoSpec(kind="walk", seeds=(3, 4), frames_per_step=4, fps=10, psi=0.7), tmp_path / "w.gif")
    gif, _ = decode(tmp_path / "w.gif")
    assert np.abs(gif[0].astype(int) - still.astype(int)).mean() < 8  # palette quantisation only


def test_cancel_leaves_no_file(tmp_path):
    G = tiny_generator(16)
    out = tmp_path / "c.mp4"
    job = video_job(G, META, "m", VideoSpec(seeds=(0, 1, 2), frames_per_step=20), out)
    next(job)
    job.close()
    assert list(tmp_path.iterdir()) == []


def test_bad_settings_and_unwritable_path_give_one_line(tmp_path, capsys):
    with pytest.raises(SpecError):
        VideoSpec(kind="walk", seeds=(1,))
    model = tmp_path / "m.safetensors"
    save_model(tiny_generator(16), model)
    assert main(["video", "--model", str(model), "--out", "/proc/nope/v.mp4", "--frames-per-step", "2"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("stylegan-studio: error: cannot write") and "\n" not in err
    assert main(["video", "--model", str(model), "--out", str(tmp_path / "v.avi")]) == 1


def test_figures_and_from_png_roundtrip(tmp_path):
    model = tmp_path / "m.safetensors"
    save_model(tiny_generator(16), model)
    for name in ("uncurated", "mixing", "noise", "truncation"):
        out = tmp_path / f"{name}.png"
        assert main(["figure", name, "--model", str(model), "--seeds", "0-11", "--out", str(out)]) == 0
        assert Image.open(out).size[0] > 16
    assert Image.open(tmp_path / "mixing.png").size == (6 * 16, 7 * 16)
    assert main(["generate", "--model", str(model), "--seeds", "5", "--psi", "0.6", "--noise",
                 "const; 16:random#3", "--out", str(tmp_path / "a")]) == 0
    assert main(["generate", "--from-png", str(tmp_path / "a" / "seed0005.png"), "--out", str(tmp_path / "b")]) == 0
    a = np.asarray(Image.open(tmp_path / "a" / "seed0005.png"))
    b = np.asarray(Image.open(tmp_path / "b" / "seed0005.png"))
    np.testing.assert_array_equal(a, b)
    save_model(tiny_generator(16, seed=9), model)
    assert main(["generate", "--from-png", str(tmp_path / "a" / "seed0005.png"), "--out", str(tmp_path / "c")]) == 1


@pytest.mark.parametrize("kind", KINDS)
def test_the_fields_a_kind_reads_are_the_ones_that_change_its_frames(kind):
    # READ_BY is what the export dialog greys out by: changing a field changes a video exactly when it is read.
    G = tiny_generator(16)
    direction = tuple(np.eye(G.w_dim, dtype=np.float64)[0])
    base = VideoSpec(kind=kind, seeds=(0, 1, 2), frames_per_step=3, psi=1.0, layers=(0, 1), direction=direction,
                     sigma=2.0)
    changed = {"space": {"space": "z"}, "layers": {"layers": (2, 3)}, "loop": {"loop": False},
               "noise": {"noise": NoiseSpec(ResNoise("zero"))}}

    def frames(spec):
        return np.concatenate(list(FRAMES[spec.kind](G, spec)))
    plain = frames(base)
    for field, change in changed.items():
        other = frames(VideoSpec(**{**base.__dict__, **change}))
        assert (other.shape != plain.shape or not np.array_equal(other, plain)) == reads(kind, field), field
    if not reads(kind, "path"):
        with pytest.raises(SpecError):
            VideoSpec(**{**base.__dict__, "path": ((0.0, 0.0), (1.0, 0.0))})
    if not reads(kind, "latents"):
        with pytest.raises(SpecError):
            VideoSpec(**{**base.__dict__, "latents": (Latent(seed=1), Latent(seed=2))})
    assert set(READ_BY) == set(changed) | {"path", "latents"}


def test_a_walk_through_faces_passes_through_each_of_them(tmp_path):
    """Favourites in a video: seeds, a w, a W+ face (a projection's) and an edited face, each a key frame."""
    G = tiny_generator(16)
    w_plus = np.random.RandomState(0).randn(G.num_ws, G.w_dim).astype(np.float32)
    faces = (Latent(seed=3), Latent(w=np.linspace(-1, 1, G.w_dim).astype(np.float32)), Latent(w=w_plus),
             Latent(seed=8, edit=Edit(tuple([0.8] * G.w_dim), (0, 1, 2), "x")))
    spec = VideoSpec(kind="walk", latents=faces, frames_per_step=4, psi=0.6, loop=False, easing="linear")
    from stylegan_studio.engine.render.video import frames_walk
    frames = np.concatenate(list(frames_walk(G, spec)))
    stills = render_latents(G, list(faces), RenderSettings(psi=0.6))
    assert len(frames) == frame_count(G, spec) == 4 * 3 + 1
    for k, still in enumerate(stills):                      # every 4th frame is a face, the last one the last face
        assert np.abs(frames[4 * k].astype(int) - still.astype(int)).max() <= 1, k
    assert not np.array_equal(frames[1], frames[0]) and not np.array_equal(frames[1], frames[4])
    for bad in (dict(latents=faces[:1]), dict(latents=faces, path=((0.0, 0.0), (1.0, 0.0)))):
        with pytest.raises(SpecError):
            VideoSpec(kind="walk", **bad)
    run(G, VideoSpec(kind="walk", latents=faces, frames_per_step=2), tmp_path / "faces.webm")   # its comment: the faces
    with av.open(str(tmp_path / "faces.webm")) as c:
        assert "\"latents\": [{\"seed\": 3}" in {k.lower(): v for k, v in c.metadata.items()}["comment"]


def test_the_cli_walks_through_a_latents_file(tmp_path, capsys):
    model = tmp_path / "m.safetensors"
    save_model(tiny_generator(16), model)
    (tmp_path / "favs.npz").write_bytes(encode_latents(np.random.RandomState(1).randn(3, 16), ["a", "b", "c"]))
    out = tmp_path / "favs.gif"
    assert main(["video", "--model", str(model), "--latents", str(tmp_path / "favs.npz"), "--frames-per-step", "3",
                 "--no-loop", "--out", str(out)]) == 0
    assert len(decode(out)[0]) == 7
    (tmp_path / "one.npz").write_bytes(encode_latents(np.ones((1, 16)), ["a"]))
    (tmp_path / "other.npz").write_bytes(encode_latents(np.ones((2, 7)), ["a", "b"]))   # another model's w
    for argv in (["--latents", str(tmp_path / "one.npz")], ["--latents", str(tmp_path / "other.npz")],
                 ["--latents", str(tmp_path / "favs.npz"), "--kind", "noise"],
                 ["--latents", str(tmp_path / "missing.npz")]):
        capsys.readouterr()
        assert main(["video", "--model", str(model), "--out", str(out), *argv]) == 1
        err = capsys.readouterr().err.strip()
        assert err.startswith("stylegan-studio: error:") and "\n" not in err, err


def test_a_direction_of_another_models_w_is_one_line():
    G = tiny_generator(16)
    spec = VideoSpec(kind="direction", seeds=(0,), frames_per_step=2, direction=tuple(np.ones(32)), sigma=1.0)
    with pytest.raises(UserError, match="an edit has 32 values; this model's w has 16"):
        FRAMES["direction"](G, spec)


def test_the_cli_renders_frames_with_the_noise_asked_for(tmp_path, capsys):
    model = tmp_path / "m.safetensors"
    save_model(tiny_generator(16), model)
    first = {}
    for noise in ("const", "zero"):
        out = tmp_path / f"{noise}.webm"
        assert main(["video", "--model", str(model), "--seeds", "0,1", "--frames-per-step", "2", "--noise", noise,
                     "--quality", "100", "--out", str(out)]) == 0
        first[noise] = decode(out)[0][0].astype(int)
        with av.open(str(out)) as c:
            assert f'"noise": "{noise}"' in {k.lower(): v for k, v in c.metadata.items()}["comment"]
    still = tmp_path / "still"
    assert main(["generate", "--model", str(model), "--seeds", "0", "--noise", "zero", "--out", str(still)]) == 0
    want = np.asarray(Image.open(still / "seed0000.png")).astype(int)
    assert np.abs(first["zero"] - want).mean() < np.abs(first["const"] - want).mean()   # (lossy: nearer, not equal)
    assert main(["video", "--model", str(model), "--noise", "loud", "--out", str(tmp_path / "x.gif")]) == 1
