"""Directions in W: PCA and SeFa, their file, edits on chosen layers after truncation, the `edit` CLI round trip."""
import io

import numpy as np
import pytest
import torch
from PIL import Image

from helpers import tiny_generator
from stylegan_studio.engine.cli.main import main
from stylegan_studio.engine.directions import compute
from stylegan_studio.engine.contract.directions import DirectionSet, encode, read
from stylegan_studio.engine.contract.errors import UserError
from stylegan_studio.engine.files.modelfile import save_model
from stylegan_studio.engine.files.pngio import read_provenance
from stylegan_studio.engine.contract.latents import Edit, Latent, RenderSettings
from stylegan_studio.engine.render.synth import latents_ws


@pytest.fixture(scope="module")
def G():
    return tiny_generator(16)


@pytest.fixture(scope="module")
def pca_set(G):
    return compute.run(compute.pca(G, "tiny", count=6, samples=4000))


def test_pca_components_are_orthonormal_ordered_and_sigma_is_their_spread(G, pca_set):
    v = pca_set.vectors
    np.testing.assert_allclose(v @ v.T, np.eye(len(v)), atol=1e-5)
    assert np.all(np.diff(pca_set.scores) <= 0) and 0 < pca_set.scores.sum() <= 1
    w = next(w for _, w in compute.sample_w(G, 4000, seed=7) if w is not None).numpy()  # other samples
    np.testing.assert_allclose((w @ v.T).std(axis=0), pca_set.sigmas, rtol=0.08)


def test_sefa_vectors_are_eigenvectors_of_the_chosen_layers_styles(G):
    ds = compute.run(compute.sefa(G, "tiny", count=4, layers=(2, 3), samples=500))
    A = compute.style_weights(G, (2, 3)).float().numpy()
    top = ds.vectors[0]
    lam = np.linalg.norm(A @ top) ** 2
    np.testing.assert_allclose(A.T @ A @ top, lam * top, rtol=1e-3, atol=1e-4)
    gen = np.random.default_rng(0).normal(size=(50, ds.w_dim))
    others = gen / np.linalg.norm(gen, axis=1, keepdims=True)
    assert np.linalg.norm(A @ others.T, axis=0).max() < np.linalg.norm(A @ top)  # moves these styles most
    assert ds.layers == (2, 3) and ds.kind == "sefa"
    other = compute.run(compute.sefa(G, "tiny", count=1, layers=(4, 5), samples=500))
    assert abs(float(other.vectors[0] @ top)) < 0.99


def test_direction_file_round_trip_and_guards(pca_set, tmp_path):
    path = tmp_path / "d.npz"
    compute.save(path, pca_set)
    back = read(path)
    np.testing.assert_array_equal(back.vectors, pca_set.vectors)
    assert (back.names, back.kind, back.layers, back.model_id, back.score_name) == \
        (pca_set.names, "pca", pca_set.layers, "tiny", "explained variance")
    np.testing.assert_array_equal(back.sigmas, pca_set.sigmas)
    hostile = tmp_path / "hostile.npz"
    np.savez(hostile, **{k: np.array([object()], dtype=object) for k in ("format_version", "vectors", "names",
                                                                          "kind", "layers", "model_id", "sigmas",
                                                                          "scores", "score_name")})
    for bad in (hostile, tmp_path / "missing.npz"):
        with pytest.raises(UserError):
            read(bad)
    plain = tmp_path / "latents.npz"
    np.savez(plain, w=np.zeros((2, 16), np.float32))
    with pytest.raises(UserError, match="not a directions file"):
        read(plain)


def test_a_set_turns_slider_amounts_into_one_edit(pca_set):
    assert pca_set.edit({0: 0.0, 2: 0.0}, (0, 1)) is None
    e = pca_set.edit({0: 2.0, 2: -1.0}, (0, 1))
    want = 2 * pca_set.sigmas[0] * pca_set.vectors[0] - pca_set.sigmas[2] * pca_set.vectors[2]
    np.testing.assert_allclose(e.offset, want, rtol=1e-5, atol=1e-6)
    assert e.layers == (0, 1) and e.label == "pc0 +2σ, pc2 -1σ"
    assert pca_set.index("pc3") == 3 == pca_set.index("3")
    with pytest.raises(UserError, match="no direction"):
        pca_set.index("glasses")


@pytest.mark.parametrize("psi", [1.0, 0.5, 0.0])
def test_an_edit_moves_only_its_layers_by_its_offset_after_truncation(G, psi):
    offset = np.linspace(-1, 1, G.cfg.w_dim).astype(np.float32)
    edit = Edit(tuple(offset.tolist()), (1, 4))
    settings = RenderSettings(psi=psi)
    plain, edited = latents_ws(G, [Latent(seed=3)], settings), latents_ws(G, [Latent(seed=3, edit=edit)], settings)
    diff = (edited - plain)[0].numpy()
    np.testing.assert_allclose(diff[[1, 4]], np.stack([offset, offset]), atol=1e-6)
    assert not np.any(diff[[0, 2, 3, 5]])


def test_edits_are_part_of_a_latent():
    e = Edit((1.0, 2.0), (0,), "pc0 +1σ")
    assert Latent(seed=1, edit=e) != Latent(seed=1) and Latent(seed=1, edit=e).unedited() == Latent(seed=1)
    assert Latent(seed=1, edit=e).label() == "seed 1 (pc0 +1σ)"
    assert len({Latent(seed=1, edit=e), Latent(seed=1, edit=Edit((1.0, 2.0), (0,), "pc0 +1σ"))}) == 1
    with pytest.raises(ValueError):
        Edit((float("nan"),), (0,))


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    path = tmp_path_factory.mktemp("m") / "tiny.safetensors"
    save_model(tiny_generator(16), path)
    return path


@pytest.mark.parametrize("method", ["pca", "sefa"])
def test_cli_directions_then_edit_then_from_png(method, model, tmp_path, capsys):
    dirs, grid = tmp_path / "d.npz", tmp_path / "grid.png"
    assert main(["directions", method, "--model", str(model), "--count", "4", "--samples", "800",
                 "--layers", "coarse", "--out", str(dirs)]) == 0
    assert read(dirs).layers == (0, 1, 2, 3)
    assert main(["edit", "--model", str(model), "--seeds", "3,5", "--directions", str(dirs), "--pick", "1",
                 "--amounts=-3,0,3", "--out", str(grid)]) == 0
    rec = read_provenance(grid)
    assert rec["kind"] == "edit" and rec["amounts"] == [-3.0, 0.0, 3.0] and rec["layers"] == [0, 1, 2, 3]
    again = tmp_path / "again.png"
    assert main(["generate", "--from-png", str(grid), "--out", str(again)]) == 0
    img = np.asarray(Image.open(grid))
    np.testing.assert_array_equal(img, np.asarray(Image.open(again)))
    assert img.shape == (32, 48, 3)
    seeds = tmp_path / "plain"
    assert main(["generate", "--model", str(model), "--seeds", "5", "--out", str(seeds)]) == 0
    np.testing.assert_array_equal(img[16:, 16:32], np.asarray(Image.open(seeds / "seed0005.png")))  # 0σ = the face
    assert not np.array_equal(img[16:, :16], img[16:, 16:32])


def test_cli_edit_errors_are_one_line(model, tmp_path, capsys):
    dirs = tmp_path / "d.npz"
    ds = DirectionSet(np.eye(3, dtype=np.float32), ("a", "b", "c"), "pca", (0,), "x", np.ones(3, np.float32),
                      np.ones(3, np.float32))
    dirs.write_bytes(encode(ds))
    for argv, text in ((["--pick", "7"], "no direction"), (["--pick", "a"], "w of 3 values"),
                       (["--pick", "0", "--amounts=x"], "--amounts")):
        assert main(["edit", "--model", str(model), "--seeds", "1", "--directions", str(dirs), *argv,
                     "--out", str(tmp_path / "g.png")]) == 1
        err = capsys.readouterr().err.strip()
        assert text in err and "\n" not in err


def test_direction_video_sweeps_each_seed(G, pca_set):
    from stylegan_studio.engine.render.video import FRAMES, direction_amounts, frame_count
    from stylegan_studio.engine.contract.video import VideoSpec
    spec = VideoSpec(kind="direction", seeds=(1, 2), frames_per_step=5, loop=False, amount_range=(-2.0, 2.0), easing="linear",
                     direction=tuple(pca_set.vectors[0].tolist()), sigma=float(pca_set.sigmas[0]), layers=(0, 1))
    np.testing.assert_allclose(direction_amounts(spec), [-2, -1, 0, 1, 2])
    looped = direction_amounts(VideoSpec(**{**spec.__dict__, "loop": True}))
    assert looped[0] == -2 and looped.max() <= 2 and len(looped) == 5
    frames = np.concatenate(list(FRAMES["direction"](G, spec)))
    assert len(frames) == frame_count(G, spec) == 10
    assert not np.array_equal(frames[0], frames[4]) and not np.array_equal(frames[2], frames[7])
    with pytest.raises(ValueError, match="needs a direction"):
        VideoSpec(kind="direction", seeds=(1,))


def test_cli_direction_video(model, tmp_path):
    dirs, out = tmp_path / "d.npz", tmp_path / "sweep.gif"
    assert main(["directions", "pca", "--model", str(model), "--count", "2", "--samples", "500",
                 "--out", str(dirs)]) == 0
    assert main(["video", "--kind", "direction", "--model", str(model), "--seeds", "4,5", "--directions", str(dirs),
                 "--pick", "pc1", "--amount-range=-2,2", "--frames-per-step", "4", "--out", str(out)]) == 0
    with Image.open(out) as im:
        assert im.n_frames == 8


def _cli_line(argv, capsys) -> str:
    """Run the CLI, which must exit 1 with one line on stderr; that line."""
    assert main(argv) == 1
    err = capsys.readouterr().err.strip()
    assert err and "\n" not in err, err
    return err


def test_a_directions_header_claiming_a_billion_vectors_is_one_line_in_edit_and_video(model, tmp_path, capsys):
    """A user run: numpy's MemoryError (31 lines of traceback) in `edit` and `video --kind direction`."""
    import fuzzfiles as fz
    ds = DirectionSet(np.eye(16, dtype=np.float32)[:2], ("a", "b"), "pca", (0,), "x", np.ones(2, np.float32),
                      np.ones(2, np.float32))
    dirs = tmp_path / "big.npz"
    dirs.write_bytes(fz.lying_header(encode(ds), "vectors", (10 ** 9, 512)))
    edit = ["edit", "--model", str(model), "--seeds", "1", "--directions", str(dirs), "--out", str(tmp_path / "g.png")]
    video = ["video", "--kind", "direction", "--model", str(model), "--directions", str(dirs),
             "--out", str(tmp_path / "v.gif")]
    for argv in (edit, video):
        assert "'vectors' claims [1000000000, 512]" in _cli_line(argv, capsys)
    assert not (tmp_path / "g.png").exists() and not (tmp_path / "v.gif").exists()


@pytest.mark.parametrize("vectors, sigmas, text", [
    (np.eye(16, dtype=np.float32)[:2] * 5, [1.0, 1.0], "length 5, not 1"),
    (np.zeros((2, 16), np.float32), [1.0, 1.0], "length 0, not 1"),
    (np.eye(16, dtype=np.float32)[:2], [1.0, -2.0], "σ -2"),
    (np.eye(16, dtype=np.float32)[:2], [0.0, 1.0], "σ 0"),
    (np.eye(16, dtype=np.float32)[:2], [1.0, np.inf], "non-finite"),
])
def test_a_directions_file_whose_sigma_steps_are_not_sigma_is_refused(vectors, sigmas, text, model, tmp_path, capsys):
    """Non-unit vectors or a σ ≤ 0 were read silently, so '+3σ' rendered +15σ (or moved backwards)."""
    import io
    dirs = tmp_path / "d.npz"
    buf = io.BytesIO()
    np.savez(buf, format_version=np.int64(1), vectors=vectors, names=np.array(["a", "b"]), kind=np.array("pca"),
             layers=np.array([0], np.int64), model_id=np.array("x"), sigmas=np.array(sigmas, np.float32),
             scores=np.ones(2, np.float32), score_name=np.array(""))
    dirs.write_bytes(buf.getvalue())
    with pytest.raises(UserError, match=text):
        read(dirs)
    err = _cli_line(["edit", "--model", str(model), "--seeds", "1", "--directions", str(dirs),
                     "--out", str(tmp_path / "g.png")], capsys)
    assert text in err and str(dirs) in err


def test_computed_directions_are_unit_length_well_inside_the_tolerance(pca_set):
    from stylegan_studio.engine.contract.directions import UNIT_TOLERANCE
    assert np.abs(np.linalg.norm(pca_set.vectors, axis=1) - 1).max() < UNIT_TOLERANCE / 100


def test_edit_amounts_beyond_ten_sigma_are_refused_in_one_line(model, tmp_path, capsys):
    """A user run: `edit --amounts=1e30` exited 0 with an all-black grid."""
    dirs, out = tmp_path / "d.npz", tmp_path / "g.png"
    assert main(["directions", "pca", "--model", str(model), "--count", "2", "--samples", "500",
                 "--out", str(dirs)]) == 0
    base = ["--model", str(model), "--seeds", "1", "--directions", str(dirs)]
    for amounts in ("-3,0,1e30", "11", "-10.5", "nan", "inf"):
        err = _cli_line(["edit", *base, f"--amounts={amounts}", "--out", str(out)], capsys)
        assert "±10σ" in err or "finite" in err
        assert not out.exists()
    err = _cli_line(["video", "--kind", "direction", *base, "--amount-range=-20,20", "--out",
                     str(tmp_path / "v.gif")], capsys)
    assert "edit amount -20σ is out of range" in err and "±10σ" in err and "sliders span ±3σ" in err
    assert main(["edit", *base, "--amounts=-10,0,10", "--out", str(out)]) == 0
