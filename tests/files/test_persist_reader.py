"""The StyleGAN2-ADA / StyleGAN3 pickle reader: NVIDIA-made snapshots read exactly, as data."""
import io
import json
import tokenize
from pathlib import Path

import numpy as np
import pytest

import official_fixtures as ofx
import persist_fixtures as px
from stylegan_studio.engine.files import nvidia_sources
from stylegan_studio.engine.files.persist import describe_snapshot, pickle_kind, read_snapshot

CHECKOUTS = Path(__file__).resolve().parents[2] / "work" / "nv"


@pytest.mark.parametrize("name", px.NVIDIA_FIXTURES)
def test_nvidia_snapshots_read_to_their_state_dicts(name):
    """Every tensor of G_ema and D, under NVIDIA's state_dict key, in its order, bit for bit."""
    snap = read_snapshot(px.NVIDIA_DATA / f"{name}.pkl")
    record = json.loads((px.NVIDIA_DATA / f"{name}.json").read_text())
    saved = np.load(px.NVIDIA_DATA / f"{name}.state.npz")
    assert set(snap.networks) == {"G", "D", "G_ema"}
    for key in ("G_ema", "D"):
        net = snap.networks[key]
        want = {k.split("/", 1)[1]: saved[k] for k in saved.files if k.startswith(f"{key}/")}
        assert list(net.state) == list(want)
        for k, v in want.items():
            assert net.state[k].dtype == v.dtype and net.state[k].shape == v.shape and np.array_equal(net.state[k], v), k
    for key, part in (("G_ema", "G"), ("D", "D")):
        net = snap.networks[key]
        assert net.name == record[part]["class_name"] and net.init_kwargs == record[part]["init_kwargs"]
    assert snap.extras == {"training_set_kwargs": snap.extras["training_set_kwargs"], "augment_pipe": None}
    assert snap.extras["training_set_kwargs"]["resolution"] == record["G"]["init_kwargs"]["img_resolution"]
    assert snap.generator is snap.networks["G_ema"]
    # G drifted from G_ema (as in training): the reader keeps them apart
    some = next(k for k in snap.networks["G"].state if k.endswith("weight"))
    assert not np.array_equal(snap.networks["G"].state[some], snap.networks["G_ema"].state[some])


@pytest.mark.parametrize("name", px.NVIDIA_FIXTURES)
def test_placeholder_source_is_flagged_in_one_line(name):
    snap = read_snapshot(px.NVIDIA_DATA / f"{name}.pkl")
    record = json.loads((px.NVIDIA_DATA / f"{name}.json").read_text())
    assert b"NVIDIA CORPORATION" not in (px.NVIDIA_DATA / f"{name}.pkl").read_bytes()  # the project carries no source
    for net in snap.networks.values():
        assert not net.source_known
        assert net.source_sha256 == record["source"]["placeholder_sha256"][net.module]
    note = snap.source_note
    assert note and "\n" not in note and "differs from NVIDIA's released code" in note and "not run" in note
    lines = describe_snapshot(snap)
    assert all("\n" not in line for line in lines) and any(line.startswith("note: ") for line in lines)
    assert any(record["G"]["class_name"] in line for line in lines)


def test_a_released_source_is_recognised(monkeypatch):
    """A file whose embedded source hashes to a release is 'known' (here: the placeholder, for the test)."""
    record = json.loads((px.NVIDIA_DATA / "sg3_t.json").read_text())
    table = {sha: (module, "test release") for module, sha in record["source"]["placeholder_sha256"].items()}
    monkeypatch.setattr(nvidia_sources, "KNOWN_SOURCES", table)
    snap = read_snapshot(px.NVIDIA_DATA / "sg3_t.pkl")
    assert all(n.source_release == "test release" for n in snap.networks.values())
    assert snap.source_note is None
    assert any("NVIDIA's release (test release)" in line for line in describe_snapshot(snap))


def test_module_is_told_from_structure_when_the_source_is_unknown():
    modules = {read_snapshot(px.NVIDIA_DATA / f"{n}.pkl").generator.module for n in ("sg2ada_cond",)}
    assert modules == {"training.networks"}
    assert read_snapshot(px.NVIDIA_DATA / "sg2ada_resnet.pkl").generator.module == "training.networks"
    for name in ("sg3_stylegan2", "sg3_stylegan2_orig"):
        assert read_snapshot(px.NVIDIA_DATA / f"{name}.pkl").generator.module == "training.networks_stylegan2"
    assert read_snapshot(px.NVIDIA_DATA / "sg3_r.pkl").generator.module == "training.networks_stylegan3"
    assert read_snapshot(px.NVIDIA_DATA / "sg3_r.pkl").networks["D"].module == "training.networks_stylegan2"


def test_submodule_settings_are_exposed():
    g = read_snapshot(px.NVIDIA_DATA / "sg3_t.pkl").generator
    cls, settings = g.modules["synthesis.input"]
    assert cls == "SynthesisInput" and settings["channels"] == 32 and list(settings["size"]) == [36, 36]
    assert g.modules[""][0] == "Generator" and g.modules["synthesis.L0_36_32"][0] == "SynthesisLayer"
    mods = read_snapshot(px.NVIDIA_DATA / "sg2ada_uncond.pkl").generator.modules
    assert mods["synthesis.b32"] == ("SynthesisBlock", mods["synthesis.b32"][1]) and mods["synthesis.b32"][1]["use_fp16"]
    assert mods["synthesis.b32.conv0"][1]["conv_clamp"] == 256 and not mods["synthesis.b4"][1]["use_fp16"]


@pytest.mark.parametrize("protocol", [2, 3, 4, 5])
def test_every_pickle_protocol_and_tensor_layout(tmp_path, protocol):
    """Strided, offset, 0-d, float16, int64 and bool tensors; Python 2/3 protocols (sets, bytes as latin1)."""
    snap_obj = px.tiny_snapshot(seed=protocol)
    snap = read_snapshot(px.write(tmp_path / "s.pkl", snap_obj, protocol))
    for key in ("G_ema", "G", "D"):
        want = px.expected_state(snap_obj[key])
        got = snap.networks[key].state
        assert list(got) == list(want)
        for k, v in want.items():
            assert got[k].dtype == v.dtype and got[k].shape == v.shape and np.array_equal(got[k], v), k
    assert snap.generator.init_kwargs["mapping_kwargs"] == {"num_layers": 1}


def test_a_file_holding_only_a_generator_opens(tmp_path):
    snap = read_snapshot(px.write(tmp_path / "g.pkl", px.tiny_generator()))
    assert set(snap.networks) == {"G_ema"} and snap.extras == {}


def test_non_persistent_buffers_are_not_in_the_state_dict(tmp_path):
    g = px.tiny_generator()
    layer = g.meta["state"]["_modules"]["synthesis"].meta["state"]["_modules"]["b4"]
    layer.meta["state"]["_non_persistent_buffers_set"] = {"counter"}
    state = read_snapshot(px.write(tmp_path / "g.pkl", g, 3)).generator.state
    assert "synthesis.b4.counter" not in state and "synthesis.b4.mask" in state


def test_pickle_kind_tells_the_formats_apart(tmp_path):
    assert pickle_kind(px.NVIDIA_DATA / "sg2ada_uncond.pkl") == "pytorch"
    assert pickle_kind(px.write(tmp_path / "p2.pkl", px.tiny_snapshot(), 2)) == "pytorch"
    assert pickle_kind(ofx.write(tmp_path / "v1.pkl", ofx.snapshot(ofx.tiny_kwargs(8)))) == "tensorflow"
    first_plain = {"a": {"b": px.EasyDict(c=1)}, "G_ema": px.tiny_generator()}  # EasyDict before any torch global
    assert pickle_kind(px.write(tmp_path / "easy.pkl", first_plain, 3)) == "pytorch"
    (tmp_path / "junk.pkl").write_bytes(b"not a pickle at all")
    assert pickle_kind(tmp_path / "junk.pkl") is None
    assert pickle_kind(tmp_path / "missing.pkl") is None


def _inspect_text(path: Path) -> str:
    """The text inspect.getsource returns for a module file (what persistence embeds)."""
    data = path.read_bytes()
    enc, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    return "".join(io.TextIOWrapper(io.BytesIO(data), enc).readlines())


@pytest.mark.parametrize("rel, module", [("stylegan2-ada-pytorch/training/networks.py", "training.networks"),
                                         ("stylegan3/training/networks_stylegan2.py", "training.networks_stylegan2"),
                                         ("stylegan3/training/networks_stylegan3.py", "training.networks_stylegan3")])
def test_known_source_table_matches_the_fetched_checkouts(rel, module):
    """The released sources hash to the table's rows, under the module persistence would record."""
    if not (CHECKOUTS / rel).is_file():  # each checkout is checked where it was fetched
        pytest.skip(f"NVIDIA's checkout is not fetched (work/nv/{rel.split('/')[0]})")
    sha = nvidia_sources.source_sha256(_inspect_text(CHECKOUTS / rel))
    assert nvidia_sources.known_release(sha, module), rel
    assert not nvidia_sources.known_release(sha, "training.other")
