"""Every file the studio reads, damaged or hostile: a valid result or one clear line (corpus: bench/fuzzfiles.py).

The default run feeds a few dozen seeded cases per file type; `-m slow` feeds hundreds; bench/fuzz_files.py
feeds thousands under time and memory limits and prints the table in docs/robustness.md. The named tests
below are the cases fuzzing found (each failed before its fix)."""
import io
import json
import zipfile

import numpy as np
import pytest
from PIL import Image

import fuzzfiles as fz
import persist_fixtures as px
from stylegan_studio.engine.contract.errors import UserError
from stylegan_studio.engine.contract.latentfile import read_latents
from stylegan_studio.engine.files.modelfile import ModelFileError, load_model
from stylegan_studio.engine.files.pngio import read_provenance
from stylegan_studio.engine.files.provenance import spec_from
from stylegan_studio.engine.files.dataset import validate
from stylegan_studio.engine.train.run import TrainingRun

CI_CASES = {"model": 60, "state": 30, "png": 60, "latents": 30, "image": 15, "zip": 10, "nvidia-pkl": 60,
            "curve": 30}


@pytest.fixture(scope="module")
def fx(tmp_path_factory):
    root = tmp_path_factory.mktemp("fuzz")
    mp = pytest.MonkeyPatch()
    mp.setenv("STYLEGAN_STUDIO_CACHE", str(root / "cache"))
    yield fz.Fixtures(root / "fixtures", nvidia_pkl=px.NVIDIA_DATA / "sg2ada_uncond.pkl")
    mp.undo()


def _run(fx, kind, count, seed, tmp_path):
    stream = fz.cases(kind, fx.good(kind), seed)
    outcomes = {}
    for i in range(count):
        label, data = next(stream)
        outcome = fz.run_case(fx, kind, data, tmp_path / "work")
        assert outcome in ("ok", "line"), f"{kind} case {i} ({label}, seed {seed}): {outcome}"
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


@pytest.mark.parametrize("kind", fz.KINDS)
def test_damaged_files_end_in_a_result_or_one_line(fx, kind, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("STYLEGAN_STUDIO_CACHE", str(tmp_path / "cache"))
    outcomes = _run(fx, kind, CI_CASES[kind], 1000, tmp_path)
    assert outcomes.get("line" if kind not in ("image", "zip") else "ok", 0) > 0  # the corpus reaches the refusals


@pytest.mark.slow
@pytest.mark.parametrize("kind", fz.KINDS)
def test_many_damaged_files(fx, kind, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("STYLEGAN_STUDIO_CACHE", str(tmp_path / "cache"))
    _run(fx, kind, 400, 7, tmp_path)


def test_the_good_files_are_read(fx, tmp_path):
    for kind in fz.KINDS:
        assert fz.run_case(fx, kind, fx.good(kind), tmp_path / kind) == "ok", kind


# ------------------------------------------------------------------ regressions found by fuzzing
def test_absurd_config_in_a_model_header_is_refused_before_allocating(fx, tmp_path):
    header, body = fz.split_safetensors(fx.good("model"))
    meta = header["__metadata__"]
    for key, value in [("w_dim", 1 << 40), ("mapping_layers", 10 ** 6), ("z_dim", float("inf")), ("fmap_max", 5000),
                       ("mapping_lr_mul", 0), ("w_avg_beta", float("nan")), ("list", 0)]:
        cfg = json.loads(meta["config"])
        cfg[key] = value
        header["__metadata__"] = {**meta, "config": json.dumps(cfg if key != "list" else [cfg])}
        path = tmp_path / f"{key}.safetensors"
        path.write_bytes(fz.join_safetensors(header, body))
        with pytest.raises(ModelFileError) as info:
            load_model(path)
        assert "\n" not in str(info.value)


def test_deeply_nested_json_in_a_model_header_is_one_line(fx, tmp_path):
    header, body = fz.split_safetensors(fx.good("model"))
    header["__metadata__"]["meta"] = "{\"a\": " * 5000 + "1" + "}" * 5000
    path = tmp_path / "deep.safetensors"
    path.write_bytes(fz.join_safetensors(header, body))
    with pytest.raises(ModelFileError, match="damaged model header"):
        load_model(path)


def test_declared_shapes_that_do_not_fit_the_config_are_refused_unread(fx, tmp_path):
    header, body = fz.split_safetensors(fx.good("model"))
    key = next(k for k in header if k != "__metadata__")
    header[key]["shape"] = [1 << 20, 1 << 20]
    path = tmp_path / "m.safetensors"
    path.write_bytes(fz.join_safetensors(header, body))
    with pytest.raises(ModelFileError, match="not a readable|damaged|do not match"):
        load_model(path)


def test_a_state_whose_parts_do_not_fit_is_one_line(fx, tmp_path):
    header, body = fz.split_safetensors(fx.good("state"))
    for key, value in [("counters", "[]"), ("rng", json.dumps({"state": {"state": 1e999}})), ("opt", "true")]:
        run = tmp_path / key
        run.mkdir()
        (run / "config.json").write_bytes((fx.run / "config.json").read_bytes())
        (run / fx.state.name).write_bytes(fz.join_safetensors(
            {**header, "__metadata__": {**header["__metadata__"], key: value}}, body))
        with pytest.raises(UserError, match="damaged training state"):
            TrainingRun(None, run, resume=True)


@pytest.mark.parametrize("field, value", [("seeds", 5), ("seeds", list(range(5000))), ("cols", -3), ("psi", 1e308),
                                          ("cutoff", 2.5), ("kind", ["grid"]), ("provenance_version", "2")])
def test_hostile_provenance_fields_are_one_line(field, value):
    rec = {"app": "stylegan-studio", "provenance_version": 2, "kind": "grid", "seeds": [1, 2], "cols": 2,
           "psi": 0.7, "cutoff": None, "noise": "const"}
    with pytest.raises(UserError) as info:
        spec_from({**rec, field: value})
    assert len(str(info.value)) < 200


def test_huge_sizes_and_draws_in_a_provenance_are_refused():
    base = {"app": "stylegan-studio", "provenance_version": 2, "latent": {"seed": 1}, "psi": 0.7, "noise": "const"}
    for extra in [{"kind": "image", "size": 10 ** 6}, {"kind": "noise-map", "draws": 10 ** 9},
                  {"kind": "image", "latent": {"w": [1e39] * 16}}, {"kind": "image", "mix_with": "x"}]:
        with pytest.raises(UserError):
            spec_from({**base, **extra})


def test_deeply_nested_provenance_is_one_line(fx, tmp_path):
    with Image.open(fx.png) as im:
        img = np.asarray(im.convert("RGB"))
    path = tmp_path / "deep.png"
    path.write_bytes(fz.png_with_text(img, [("stylegan-studio", "[" * 100000 + "]" * 100000)]))
    with pytest.raises(ValueError, match="nested too deeply"):
        read_provenance(path)
    assert fz.run_case(fx, "png", path.read_bytes(), tmp_path) == "line"


def test_a_png_whose_image_data_is_cut_short_is_one_line(fx, tmp_path):
    """Fuzzing (seed 33, PNG case 1346): a flipped IDAT length made Pillow raise SyntaxError while reading the text
    chunks, and `generate --from-png` printed a traceback."""
    data = bytearray(fx.png.read_bytes())
    at = data.index(b"IDAT") - 4
    size = int.from_bytes(data[at:at + 4], "big")
    data[at:at + 4] = (size // 2).to_bytes(4, "big")   # the chunk now ends in the middle of its data
    path = tmp_path / "cut.png"
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="broken PNG"):
        read_provenance(path)
    assert fz.run_case(fx, "png", bytes(data), tmp_path) == "line"


def test_latents_refuse_pickles_bombs_and_damage(tmp_path):
    cases = {"object.npz": fz.npz_of(w=np.array([{"a": 1}], dtype=object)),
             "bomb.npz": fz.zip_bomb("w.npy", 256 << 20),
             "crc.npz": _bad_crc(fz.npz_of(w=np.zeros((1, 16), np.float32))),
             "nan.npz": fz.npz_of(w=np.full((1, 16), np.nan, np.float32)),
             "now.npz": fz.npz_of(x=np.zeros(3))}
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(UserError) as info:
            read_latents(tmp_path / name)
        assert "\n" not in str(info.value), name


def test_an_npz_header_claiming_a_billion_rows_is_one_line_before_allocating(tmp_path):
    """A user run: a 1 KB .npz whose array header claims 10⁹ vectors made numpy raise MemoryError (a traceback)."""
    good = fz.npz_of(w=np.zeros((2, 512), np.float32), labels=np.array(["a", "b"]))
    for member, shape in (("w", (10 ** 9, 512)), ("w", (3, 512)), ("labels", (10 ** 12,))):
        path = tmp_path / f"{member}-{shape[0]}.npz"
        path.write_bytes(fz.lying_header(good, member, shape))
        with pytest.raises(UserError, match=f"'{member}' claims") as info:
            read_latents(path)
        assert "\n" not in str(info.value)


def _bad_crc(data: bytes) -> bytes:
    """Flip one byte of the stored (uncompressed) member so zipfile raises BadZipFile on its CRC."""
    out = bytearray(data)
    out[data.index(b"\x93NUMPY") + 100] ^= 0xFF
    return bytes(out)


def test_dataset_bombs_and_damaged_zip_members_are_skipped_files(fx, tmp_path):
    folder = tmp_path / "imgs"
    folder.mkdir()
    for p in sorted(fx.data.iterdir())[:4]:
        (folder / p.name).write_bytes(p.read_bytes())
    (folder / "bomb.png").write_bytes(fz.png_bomb(20000))
    report, usable = validate(folder)
    reasons = dict(report.skipped)
    assert len(usable) == 4 and "decompression bomb" in reasons["bomb.png"]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for p in sorted(fx.data.iterdir())[:4]:
            z.writestr(p.name, p.read_bytes())
    data = bytearray(buf.getvalue())
    data[data.index(b"IDAT") + 8] ^= 0xFF  # first member's stored bytes: its CRC no longer matches
    (tmp_path / "d.zip").write_bytes(bytes(data))
    (tmp_path / "bomb.zip").write_bytes(fz.zip_bomb("big.png", 160 << 20))
    report, usable = validate(tmp_path / "d.zip")
    assert len(usable) == 3 and "damaged zip member" in report.skipped[0][1]
    with pytest.raises(UserError):  # its one file is skipped unread (too large), so nothing is usable
        validate(tmp_path / "bomb.zip")


def test_zips_flagged_encrypted_or_of_an_unknown_version_are_one_line_or_skipped(fx, tmp_path):
    good = fx.good("zip")
    central = good.index(b"PK\x01\x02")  # first central directory record: +6 version needed, +8 flags
    version = bytearray(good)
    version[central + 6] = 99  # "zip file version 9.9": zipfile refuses the whole archive
    encrypted = bytearray(good)
    encrypted[central + 8] |= 1  # the first member claims to be encrypted
    (tmp_path / "v.zip").write_bytes(bytes(version))
    (tmp_path / "e.zip").write_bytes(bytes(encrypted))
    with pytest.raises(UserError, match="not a readable zip"):
        validate(tmp_path / "v.zip")
    report, usable = validate(tmp_path / "e.zip")
    assert len(usable) == 7 and "damaged zip member" in report.skipped[0][1]
