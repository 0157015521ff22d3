"""StyleGAN2-ADA / StyleGAN3 pickles through the real CLI: `generate` gives NVIDIA's gen_images.py images (within 2
levels), the class and input transform reach the networks, and every misuse is one line."""
import json
from collections import defaultdict

import numpy as np
import pytest
from PIL import Image

import persist_fixtures as px
from stylegan_studio.engine.cli.main import main
from stylegan_studio.engine.files.imported import cache_dir
from stylegan_studio.engine.files.pngio import read_provenance

NOISE = {"const": "const", "none": "zero"}  # NVIDIA's noise_mode → ours


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("STYLEGAN_STUDIO_CACHE", str(tmp_path / "cache"))


def fixture_cases(name: str) -> dict:
    """Cases of a fixture rendered in fp32, grouped by the flags they share: flags → [(seed, key)]."""
    record = json.loads((px.NVIDIA_DATA / f"{name}.json").read_text())
    groups = defaultdict(list)
    for case in record["cases"]:
        if not case["force_fp32"] or case["noise_mode"] not in NOISE:
            continue
        flags = ["--psi", str(case["psi"]), "--noise", NOISE[case["noise_mode"]]]
        flags += ["--cutoff", str(case["truncation_cutoff"])] if case["truncation_cutoff"] is not None else []
        flags += ["--class", str(case["class"])] if case["class"] is not None else []
        tx, ty = case.get("translate") or (0, 0)
        if (tx, ty) != (0, 0) or case.get("rotate"):
            flags += [f"--translate={tx},{ty}", "--rotate", str(case.get("rotate") or 0)]
        groups[tuple(flags)].append((case["seed"], case["key"]))
    return groups


def generate(tmp_path, name: str, flags, seeds) -> dict[int, np.ndarray]:
    """Run `generate` on the fixture's pickle; seed → uint8 image."""
    out = tmp_path / "out"
    args = ["generate", "--model", str(px.NVIDIA_DATA / f"{name}.pkl"), "--seeds", ",".join(map(str, seeds)),
            "--out", str(out), *flags]
    assert main(args) == 0
    return {s: np.asarray(Image.open(out / f"seed{s:04d}.png")) for s in seeds}


V2 = ["sg2ada_uncond", "sg2ada_cond", "sg3_stylegan2", "sg2ada_resnet", "sg3_stylegan2_orig"]


@pytest.mark.parametrize("name", V2)
def test_generate_gives_nvidia_images(name, tmp_path):
    expected = np.load(px.NVIDIA_DATA / f"{name}.expected.npz")
    groups = fixture_cases(name)
    assert groups
    worst = 0
    for flags, cases in groups.items():
        images = generate(tmp_path, name, flags, sorted({s for s, _ in cases}))
        for seed, key in cases:
            diff = np.abs(images[seed].astype(int) - expected[key].astype(int)).max()
            worst = max(worst, diff)
            assert diff <= 2, f"{key}: {diff} levels off"
    assert worst <= 2


def test_a_pickle_is_converted_once_and_keeps_g_and_d(tmp_path, capsys):
    pkl = str(px.NVIDIA_DATA / "sg2ada_uncond.pkl")
    assert main(["generate", "--model", pkl, "--seeds", "0", "--out", str(tmp_path / "a")]) == 0
    assert "once; cached as" in capsys.readouterr().err
    files = sorted(p.name for p in cache_dir().iterdir())
    assert len(files) == 3 and any(f.endswith(".G.safetensors") for f in files) \
        and any(f.endswith(".D.safetensors") for f in files)
    assert main(["generate", "--model", pkl, "--seeds", "0", "--out", str(tmp_path / "b")]) == 0
    assert "from its cached conversion" in capsys.readouterr().err
    assert sorted(p.name for p in cache_dir().iterdir()) == files


@pytest.mark.parametrize("name, flags, words", [
    ("sg2ada_cond", [], "class-conditional (4 classes)"),
    ("sg2ada_cond", ["--class", "4"], "class 4 does not exist"),
    ("sg2ada_uncond", ["--class", "1"], "unconditional"),
    ("sg2ada_uncond", ["--translate=0.1,0"], "no input to translate or rotate"),
    ("sg2ada_uncond", ["--rotate", "10"], "no input to translate or rotate"),
])
def test_misuse_is_one_line(name, flags, words, tmp_path, capsys):
    args = ["generate", "--model", str(px.NVIDIA_DATA / f"{name}.pkl"), "--seeds", "0", "--out", str(tmp_path), *flags]
    assert main(args) == 1
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert words in err and err.startswith("stylegan-studio: error:")


@pytest.mark.parametrize("name, words", [("sg2ada_cond", "is class-conditional (4 classes)"),
                                         ("sg3_t", "StyleGAN3 model: fine-tuning it with train --init is not supported")])
def test_fine_tuning_what_the_trainer_cannot_continue_is_one_line(name, words, tmp_path, capsys):
    from synthetic import make_folder
    data = make_folder(tmp_path / "data", n=4)
    assert main(["train", "--data", str(data), "--init", str(px.NVIDIA_DATA / f"{name}.pkl"), "--out",
                 str(tmp_path / "run"), "--kimg", "0.01"]) == 1
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and words in err and not (tmp_path / "run").exists()


def test_provenance_records_the_class_and_regenerates(tmp_path):
    pkl = str(px.NVIDIA_DATA / "sg2ada_cond.pkl")
    assert main(["generate", "--model", pkl, "--seeds", "3", "--class", "2", "--out", str(tmp_path / "a")]) == 0
    png = tmp_path / "a" / "seed0003.png"
    rec = read_provenance(png)
    assert rec["latent"] == {"seed": 3, "c": 2} and rec["model_path"] == pkl and "translate" not in rec
    assert main(["generate", "--from-png", str(png), "--out", str(tmp_path / "b")]) == 0
    again = tmp_path / "b" / "seed0003.png"
    assert np.array_equal(np.asarray(Image.open(again)), np.asarray(Image.open(png)))
    assert main(["generate", "--model", pkl, "--seeds", "3", "--class", "1", "--out", str(tmp_path / "c")]) == 0
    other = np.asarray(Image.open(tmp_path / "c" / "seed0003.png"))
    assert not np.array_equal(other, np.asarray(Image.open(png)))


def test_mix_grid_and_figure_follow_the_class(tmp_path):
    pkl = str(px.NVIDIA_DATA / "sg2ada_cond.pkl")
    assert main(["mix", "--model", pkl, "--rows", "0,1", "--cols", "2", "--layers", "coarse", "--class", "1",
                 "--out", str(tmp_path / "mix.png")]) == 0
    assert read_provenance(tmp_path / "mix.png")["rows"] == [{"seed": 0, "c": 1}, {"seed": 1, "c": 1}]
    assert main(["generate", "--model", pkl, "--seeds", "0-3", "--class", "3", "--grid", str(tmp_path / "g.png")]) == 0
    assert read_provenance(tmp_path / "g.png")["c"] == 3
    assert main(["figure", "truncation", "--model", pkl, "--class", "0", "--out", str(tmp_path / "f.png")]) == 0
    assert main(["generate", "--from-png", str(tmp_path / "g.png"), "--grid", str(tmp_path / "g2.png")]) == 0
    assert np.array_equal(np.asarray(Image.open(tmp_path / "g2.png")), np.asarray(Image.open(tmp_path / "g.png")))


def test_directions_edit_project_and_video_work_on_a_conditional_v2_pickle(tmp_path, capsys):
    pkl = str(px.NVIDIA_DATA / "sg2ada_cond.pkl")
    for method in ("pca", "sefa"):
        assert main(["directions", method, "--model", pkl, "--samples", "400", "--count", "4",
                     "--out", str(tmp_path / f"{method}.npz")]) == 0
        assert main(["edit", "--model", pkl, "--seeds", "0,1", "--class", "2", "--directions",
                     str(tmp_path / f"{method}.npz"), "--amounts=-2,0,2", "--out", str(tmp_path / f"{method}.png")]) == 0
        rec = read_provenance(tmp_path / f"{method}.png")
        assert rec["latents"] == [{"seed": 0, "c": 2}, {"seed": 1, "c": 2}]
        # the middle column (amount 0) is the face `generate` renders for that seed and class
        grid = np.asarray(Image.open(tmp_path / f"{method}.png"))
        assert main(["generate", "--model", pkl, "--seeds", "0", "--class", "2", "--out", str(tmp_path / "g")]) == 0
        face = np.asarray(Image.open(tmp_path / "g" / "seed0000.png"))
        assert np.array_equal(grid[:64, 64:128], face)
    target = np.asarray(Image.open(tmp_path / "g" / "seed0000.png"))
    Image.fromarray(target).save(tmp_path / "face.png")
    assert main(["project", str(tmp_path / "face.png"), "--model", pkl, "--class", "2", "--steps", "30",
                 "--out", str(tmp_path / "proj")]) == 0
    assert "PSNR" in capsys.readouterr().out
    assert main(["generate", "--from-png", str(tmp_path / "proj" / "face-projected.png"),
                 "--out", str(tmp_path / "again")]) == 0
    assert main(["project", str(tmp_path / "face.png"), "--model", pkl, "--class", "9", "--steps", "1",
                 "--out", str(tmp_path / "proj")]) == 1
    for kind in ("walk", "truncation", "noise"):
        assert main(["video", "--model", pkl, "--kind", kind, "--seeds", "0,1", "--class", "1",
                     "--frames-per-step", "2", "--out", str(tmp_path / f"{kind}.gif")]) == 0
        assert (tmp_path / f"{kind}.gif").stat().st_size > 0


def test_mixing_by_ws_index_with_labels_on_v2(tmp_path, capsys):
    pkl = str(px.NVIDIA_DATA / "sg2ada_cond.pkl")  # 64²: layers at 4²-8² coarse, 16²-32² middle, 64² fine
    assert main(["info", "--model", pkl]) == 0
    out = capsys.readouterr().out
    assert "d_channel_base          1024" in out and "d_channel_max           32" in out   # the pickle's own D
    table = out.split("layer    res")[1].splitlines()[1:11]
    assert [row.split()[1] for row in table] == ["4²", "4²", "8²", "8²", "16²", "16²", "32²", "32²", "64²", "64²"]
    assert [row.split()[3] for row in table] == ["coarse"] * 4 + ["middle"] * 4 + ["fine"] * 2
    assert main(["mix", "--model", pkl, "--rows", "0", "--cols", "1", "--layers", "0-1", "--class", "0",
                 "--out", str(tmp_path / "m.png")]) == 0
    assert read_provenance(tmp_path / "m.png")["layers"] == [0, 1]


def test_import_writes_the_model_generate_renders(tmp_path):
    pkl = str(px.NVIDIA_DATA / "sg3_stylegan2.pkl")
    assert main(["import", pkl, "--out", str(tmp_path / "m.safetensors")]) == 0
    for model, out in ((pkl, "a"), (str(tmp_path / "m.safetensors"), "b")):
        assert main(["generate", "--model", model, "--seeds", "5", "--out", str(tmp_path / out)]) == 0
    a, b = (np.asarray(Image.open(tmp_path / d / "seed0005.png")) for d in "ab")
    assert np.array_equal(a, b)


def test_a_hostile_pytorch_pickle_runs_nothing_through_generate(tmp_path, capsys):
    marker = tmp_path / "marker"
    path = px.write(tmp_path / "evil.pkl", {"G_ema": px.Calls(print, f"ran {marker}")})
    assert main(["generate", "--model", str(path), "--seeds", "0", "--out", str(tmp_path / "o")]) == 1
    captured = capsys.readouterr()
    assert "\n" not in captured.err.strip() and "nothing in it was run" in captured.err
    assert "ran" not in captured.out and not marker.exists()


@pytest.mark.parametrize("name", ["sg3_t", "sg3_r"])
def test_generate_gives_nvidia_images_of_stylegan3_moved_and_turned(name, tmp_path):
    expected = np.load(px.NVIDIA_DATA / f"{name}.expected.npz")
    groups = fixture_cases(name)
    assert any("--rotate" in flags for flags in groups)  # the translate/rotate cases are among them
    for flags, cases in groups.items():
        images = generate(tmp_path, name, flags, sorted({s for s, _ in cases}))
        for seed, key in cases:
            diff = np.abs(images[seed].astype(int) - expected[key].astype(int)).max()
            assert diff <= 2, f"{key}: {diff} levels off"


def test_stylegan3_transform_is_recorded_and_every_render_starts_from_the_trained_input(tmp_path):
    pkl = str(px.NVIDIA_DATA / "sg3_t.pkl")
    assert main(["generate", "--model", pkl, "--seeds", "0", "--psi", "1", "--translate=0.25,0.1", "--rotate", "-30",
                 "--grid", str(tmp_path / "moved.png")]) == 0
    rec = read_provenance(tmp_path / "moved.png")
    assert rec["translate"] == [0.25, 0.1] and rec["rotate"] == -30.0
    assert main(["generate", "--from-png", str(tmp_path / "moved.png"), "--grid", str(tmp_path / "again.png")]) == 0
    moved, again = (np.asarray(Image.open(tmp_path / f)) for f in ("moved.png", "again.png"))
    assert np.array_equal(moved, again)
    expected = np.load(px.NVIDIA_DATA / "sg3_t.expected.npz")
    assert np.abs(moved.astype(int) - expected["seed0_psi1_tx0.25_ty0.1_rot-30"].astype(int)).max() <= 2


def test_stylegan3_has_layer_groups_and_no_noise(tmp_path, capsys):
    pkl = str(px.NVIDIA_DATA / "sg3_r.pkl")
    assert main(["info", "--model", pkl]) == 0
    table = capsys.readouterr().out.split("layer    res")[1].splitlines()[1:]
    groups = [row.split()[-1] for row in table if row.strip() and row.split()[0].isdigit()]
    assert groups[0] == "coarse" and "middle" in groups  # a 32² model: nothing finer than 32², as for v2
    assert groups == sorted(groups, key=["coarse", "middle", "fine"].index)
    assert main(["figure", "noise", "--model", pkl, "--out", str(tmp_path / "n.png")]) == 1
    assert "no noise inputs" in capsys.readouterr().err
    assert main(["mix", "--model", pkl, "--rows", "0", "--cols", "1", "--layers", "coarse",
                 "--out", str(tmp_path / "m.png")]) == 0
    assert main(["video", "--model", pkl, "--kind", "walk", "--seeds", "0,1", "--frames-per-step", "2",
                 "--rotate", "10", "--out", str(tmp_path / "w.gif")]) == 0


def test_projection_and_directions_work_on_stylegan3(tmp_path, capsys):
    pkl = str(px.NVIDIA_DATA / "sg3_t.pkl")
    assert main(["generate", "--model", pkl, "--seeds", "4", "--psi", "1", "--out", str(tmp_path / "g")]) == 0
    assert main(["project", str(tmp_path / "g" / "seed0004.png"), "--model", pkl, "--steps", "10",
                 "--out", str(tmp_path / "p")]) == 0  # gradients flow through the filtered leaky ReLU
    assert "PSNR" in capsys.readouterr().out
    assert main(["directions", "sefa", "--model", pkl, "--count", "3", "--out", str(tmp_path / "d.npz")]) == 0
    assert main(["edit", "--model", pkl, "--seeds", "0", "--directions", str(tmp_path / "d.npz"), "--rotate", "20",
                 "--out", str(tmp_path / "e.png")]) == 0
    assert read_provenance(tmp_path / "e.png")["rotate"] == 20.0


@pytest.mark.parametrize("change, words", [
    ({"fancy_new_option": 1}, "fancy_new_option"),       # kwargs we do not implement are named
    ({}, "do not fit its architecture"),                  # weights that do not fit the kwargs
])
def test_unknown_kwargs_or_mismatched_weights_are_one_line(change, words, tmp_path, capsys):
    snap = px.tiny_snapshot()
    snap["G_ema"].meta["state"]["_init_kwargs"].update(change)
    path = px.write(tmp_path / "odd.pkl", snap)
    assert main(["generate", "--model", str(path), "--seeds", "0", "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and err.startswith("stylegan-studio: error: G_ema (training.networks_stylegan2.Generator): ")
    assert words in err
    assert not any((tmp_path / "o").glob("*.png"))


@pytest.mark.parametrize("name", ["sg2ada_cond", "sg3_t"])
def test_metrics_take_a_pytorch_pickle(name, tmp_path, capsys):
    # `metrics` opened model files only (load_model), so a .pkl was "not a readable model file".
    assert main(["metrics", "ppl", "--model", str(px.NVIDIA_DATA / f"{name}.pkl"), "--count", "10"]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["model"] == name and set(out["ppl"]) == {"z_full", "z_end", "w_full", "w_end"}
    assert all(np.isfinite(v) and v >= 0 for v in out["ppl"].values())
