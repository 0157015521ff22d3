"""The headless CLI: new, info, generate, mix; one-line errors."""
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from stylegan_studio.engine.cli.main import main
from stylegan_studio.engine.files.pngio import read_provenance


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    path = tmp_path_factory.mktemp("m") / "tiny.safetensors"
    assert main(["new", "--resolution", "16", "--channels", "16", "--z-dim", "16", "--out", str(path)]) == 0
    return path


def test_new_is_seeded(tmp_path, model):
    other = tmp_path / "again.safetensors"
    main(["new", "--resolution", "16", "--channels", "16", "--z-dim", "16", "--out", str(other)])
    assert other.read_bytes()[-4096:] == model.read_bytes()[-4096:]


def test_info_prints_config_and_layers(model, capsys):
    assert main(["info", "--model", str(model)]) == 0
    out = capsys.readouterr().out
    assert "resolution      16" in out and "G total" in out
    assert "    5    16²" in out and "middle" in out


def test_info_names_the_model_card_beside_the_file(model, tmp_path, capsys):
    card = model.with_suffix(".md")
    assert main(["info", "--model", str(model)]) == 0 and "card " not in capsys.readouterr().out
    card.write_text("# tiny\nA test model.\n")
    try:
        assert main(["info", "--model", str(model)]) == 0
        assert capsys.readouterr().out.rstrip().endswith(f"card      {card}")
    finally:
        card.unlink()


def test_a_reader_that_leaves_early_ends_the_command_quietly(model):
    # `stylegan-studio info | head -1`: a closed pipe is the reader's choice, not an error with a traceback
    proc = subprocess.Popen([sys.executable, "-c", "import sys; from stylegan_studio.engine.cli.main import main; "
                             "sys.exit(main(sys.argv[1:]))", "info", "--model", str(model)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()   # before the command has written a line
    err = proc.communicate(timeout=120)[1].decode()
    assert proc.returncode == 1 and err == ""


def test_generate_files_and_grid(tmp_path, model):
    out = tmp_path / "imgs"
    assert main(["generate", "--model", str(model), "--seeds", "0-2,9", "--psi", "0.7", "--out", str(out)]) == 0
    files = sorted(p.name for p in out.iterdir())
    assert files == ["seed0000.png", "seed0001.png", "seed0002.png", "seed0009.png"]
    prov = read_provenance(out / "seed0009.png")
    assert prov["latent"] == {"seed": 9} and prov["psi"] == 0.7 and prov["model_id"]
    grid = tmp_path / "g.png"
    assert main(["generate", "--model", str(model), "--seeds", "0-2,9", "--psi", "0.7", "--grid", str(grid)]) == 0
    g = np.asarray(Image.open(grid))
    assert g.shape == (32, 32, 3)
    np.testing.assert_array_equal(g[16:, 16:], np.asarray(Image.open(out / "seed0009.png")))


def test_mix_sources_equal_generate(tmp_path, model):
    out = tmp_path / "mix.png"
    assert main(["mix", "--model", str(model), "--rows", "1,2,3", "--cols", "10,11", "--layers", "coarse",
                 "--noise", "random", "--noise-seed", "4", "--out", str(out)]) == 0
    img = np.asarray(Image.open(out))
    assert img.shape == (4 * 16, 3 * 16, 3)
    main(["generate", "--model", str(model), "--seeds", "2,11", "--noise", "random", "--noise-seed", "4",
          "--out", str(tmp_path / "s")])
    np.testing.assert_array_equal(img[32:48, :16], np.asarray(Image.open(tmp_path / "s" / "seed0002.png")))
    np.testing.assert_array_equal(img[:16, 32:48], np.asarray(Image.open(tmp_path / "s" / "seed0011.png")))
    prov = read_provenance(out)
    assert prov["layers"] == [0, 1, 2, 3] and prov["noise"] == "random#4"


@pytest.mark.parametrize("args, text", [
    (["generate", "--seeds", "x", "--out", "o"], "cannot read seed"),
    (["generate", "--seeds", "1", "--cutoff", "99", "--out", "o"], "beyond"),
    (["mix", "--rows", "1", "--cols", "2", "--layers", "40", "--out", "o.png"], "does not exist"),
    (["generate", "--seeds", "1", "--noise", "loud", "--out", "o"], "noise"),
    (["generate", "--seeds", "1", "--psi", "1e9", "--out", "o"], "ψ must be a number within ±100"),
    (["video", "--psi", "1e9", "--out", "o.gif"], "ψ must be a number within ±100"),
    (["generate", "--seeds", "1", "--out", "/proc/nope/o"], "cannot create /proc/nope/o"),
    # as a user wrote them: the library's words and a doubled path read badly
    (["generate", "--seeds", "1", "--out", "notes.txt"], "a file of that name is in the way"),
    (["video", "--latents", "notes.txt", "--out", "o.gif"], "notes.txt: not an .npz file"),
    (["video", "--latents", "missing.npz", "--out", "o.gif"], "missing.npz: no such file"),
    (["generate", "--from-png", "notes.txt", "--out", "o"], "notes.txt: not an image file"),
    # PNG data under a .jpg name (or none) looked saved, and was not what its name said
    (["generate", "--seeds", "1", "--grid", "o.jpg"], "cannot write o.jpg: images are PNG files"),
    (["mix", "--rows", "1", "--cols", "2", "--out", "o"], "name it o.png"),
    (["layers", "--seeds", "1", "--layer", "8x8/conv1", "--mode", "rgb", "--out", "o.png"],
     "--mode rgb takes 3 channel numbers in --channels, got 0 (e.g. --channels 0,5,7)"),
])
def test_user_errors_are_one_line(tmp_path, model, capsys, args, text):
    (tmp_path / "notes.txt").write_text("notes")
    args = [str(tmp_path / a) if a in ("o", "o.png", "o.jpg", "o.gif", "notes.txt", "missing.npz") else a
            for a in args] + \
        ["--model", str(model)]
    assert main(args) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("stylegan-studio: error:") and text in err
    assert "\n" not in err and "Traceback" not in err


def test_impossible_config_and_usage_errors(tmp_path, capsys):
    assert main(["new", "--resolution", "48", "--out", str(tmp_path / "m")]) == 1
    assert "power of two" in capsys.readouterr().err
    assert main(["new", "--resolution", "16", "--out", str(tmp_path / "m.png")]) == 1
    assert "models are .safetensors files; name it m.safetensors" in capsys.readouterr().err
    assert not (tmp_path / "m.png").exists()
    assert main(["generate", "--seeds", "1"]) == 1
    assert "needs --seeds (or --latents) and --out" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["generate", "--seeds", "1", "--psi", "abc"])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert "invalid float" in err and "\n" not in err
    with pytest.raises(SystemExit):
        main(["generate", "--seeds", "1", "--translate", "1"])
    err = capsys.readouterr().err.strip()
    assert "argument --translate: cannot read translate '1'; use X,Y" in err and "parse_translate" not in err


def test_bad_model_file_is_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not a model")
    assert main(["info", "--model", str(bad)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("stylegan-studio: error:") and "\n" not in err


def test_console_script_runs_without_traceback(tmp_path):
    result = subprocess.run([sys.executable, "-m", "stylegan_studio.app", "generate", "--model",
                             str(tmp_path / "missing.safetensors"), "--seeds", "1", "--out", str(tmp_path)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert result.stderr.strip() == f"stylegan-studio: error: {tmp_path / 'missing.safetensors'}: no such model file"


def test_one_error_base_and_one_list_of_expected_errors():
    from stylegan_studio.engine.cli import main as cli
    from stylegan_studio.engine.thread import engine
    from stylegan_studio.engine.contract import errors
    from stylegan_studio.engine.contract.modelconfig import ConfigError
    from stylegan_studio.engine.files.fileio import WriteError
    from stylegan_studio.engine.files.modelfile import ModelFileError
    from stylegan_studio.engine.contract.latents import SpecError
    from stylegan_studio.engine.files.tfpickle import PickleRefused
    for cls in (errors.UserError, SpecError, ConfigError, WriteError, ModelFileError, PickleRefused):
        assert issubclass(cls, errors.StudioError)
    assert engine.EXPECTED is errors.EXPECTED and cli.EXPECTED is errors.EXPECTED


@pytest.mark.parametrize("args", [
    ["info", "--model", "{missing}.safetensors"],
    ["generate", "--seeds", "1", "--model", "{missing}.safetensors", "--out", "{tmp}/o"],
    ["generate", "--seeds", "1", "--model", "{missing}.pkl", "--out", "{tmp}/o"],
    ["import", "{missing}.pkl", "--out", "{tmp}/m.safetensors"],
    ["generate", "--from-png", "{missing}.png"],
    ["generate", "--from-png", "{folder}"],
    ["edit", "--seeds", "1", "--directions", "{missing}.npz", "--model", "{model}", "--out", "{tmp}/g.png"],
    ["video", "--kind", "direction", "--directions", "{folder}", "--model", "{model}", "--out", "{tmp}/v.gif"],
    ["project", "{missing}.png", "--model", "{model}", "--out", "{tmp}/p"],
    ["train", "--data", "{missing}", "--out", "{tmp}/run"],
    ["train", "--resume", "{missing}"],
    ["train", "--resume", "{badrun}"],
    ["dataset", "check", "{missing}"],
    ["video", "--psi-range=a,b", "--model", "{model}", "--out", "{tmp}/v.gif"],
    ["video", "--kind", "noise", "--noise-res", "x", "--model", "{model}", "--out", "{tmp}/v.gif"],
    ["directions", "attributes", "--classifier", "{missing}.safetensors", "--model", "{model}", "--out", "{tmp}/d.npz"],
])
def test_missing_and_unreadable_inputs_are_one_line(args, model, tmp_path, capsys):
    """EXPECTED holds only the studio's own errors: every user-facing OSError/ValueError is wrapped where it arises."""
    (tmp_path / "folder").mkdir()
    (tmp_path / "badrun").mkdir()
    (tmp_path / "badrun" / "config.json").write_bytes(b"\xff{not json")
    fill = {"missing": str(tmp_path / "missing"), "tmp": str(tmp_path), "model": str(model),
            "folder": str(tmp_path / "folder"), "badrun": str(tmp_path / "badrun")}
    assert main([a.format(**fill) for a in args]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("stylegan-studio: error:") and "\n" not in err and "Traceback" not in err, err


def test_layers_writes_one_grid_per_seed_and_regenerates(tmp_path, model, capsys):
    out = tmp_path / "maps.png"
    assert main(["layers", "--model", str(model), "--seeds", "0-3", "--layer", "16x16/conv1", "--out", str(out)]) == 0
    img = np.asarray(Image.open(out))
    assert img.shape[1] > 4 * img.shape[0]                 # four channel grids side by side
    again = tmp_path / "again.png"
    assert main(["generate", "--model", str(model), "--from-png", str(out), "--out", str(again)]) == 0
    assert np.array_equal(np.asarray(Image.open(again)), img)
    assert main(["layers", "--model", str(model), "--seeds", "0"]) == 0
    assert "16x16/conv1    16x16  16" in capsys.readouterr().out
    assert main(["layers", "--model", str(model), "--seeds", "0", "--layer", "64x64/conv1", "--out", str(out)]) == 1
    assert "error: no layer '64x64/conv1'; this model has 4x4/const" in capsys.readouterr().err


def test_importing_a_model_file_says_it_needs_no_import(tmp_path, model, capsys):
    assert main(["import", str(model), "--out", str(tmp_path / "again.safetensors")]) == 1
    err = capsys.readouterr().err.strip()
    assert err == ("stylegan-studio: error: tiny.safetensors is a studio model file already: open it as it is "
                   "(--model, or in the window); import converts NVIDIA's .pkl files")
    assert not (tmp_path / "again.safetensors").exists()
