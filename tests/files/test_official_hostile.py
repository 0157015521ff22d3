"""Hostile pickles are refused with one line, and nothing in them runs (a marker file must not appear)."""
import os
import pickle
import subprocess

import numpy as np
import pytest

import official_fixtures as fx
from stylegan_studio.engine.files.official import load_official
from stylegan_studio.engine.files.tfpickle import PickleRefused, read_pickle


class Calls:
    """Pickles as a call of `fn(*args)`: what a malicious file does."""

    def __init__(self, fn, *args) -> None:
        self.fn, self.args = fn, args

    def __reduce__(self):
        return self.fn, self.args


def attacks(marker) -> dict:
    """Name → an object whose unpickling would create `marker` if the reader ran it."""
    return {"os.system": Calls(os.system, f"touch {marker}"),
            "builtins.eval": Calls(eval, f"__import__('pathlib').Path({str(marker)!r}).write_text('x')"),
            "subprocess": Calls(subprocess.Popen, ["touch", str(marker)]),
            "builtins.exec": Calls(exec, f"open({str(marker)!r}, 'w').close()")}


def refused(path, match: str = "") -> str:
    with pytest.raises(PickleRefused) as info:
        load_official(path)
    text = str(info.value)
    assert "\n" not in text and path.name in text and "nothing in it was run" in text
    assert match in text
    return text


@pytest.mark.parametrize("name", ["os.system", "builtins.eval", "subprocess", "builtins.exec"])
def test_calls_are_refused_at_top_level_and_inside_a_snapshot(tmp_path, name):
    marker = tmp_path / "marker"
    evil = attacks(marker)[name]
    refused(fx.write(tmp_path / "top.pkl", evil))
    G, D, Gs = fx.snapshot(fx.tiny_kwargs(8))
    Gs.state["static_kwargs"]["resolution"] = evil  # hidden deep inside an otherwise valid file
    text = refused(fx.write(tmp_path / "inside.pkl", (G, D, Gs), protocol=2))
    assert "never contains" in text
    assert not marker.exists()


def test_protocol0_global_is_refused(tmp_path):
    marker = tmp_path / "marker"
    path = tmp_path / "p0.pkl"
    path.write_bytes(f"cos\nsystem\n(S'touch {marker}'\ntR.".encode())
    refused(path, "os.system")
    assert not marker.exists()


def test_embedded_build_source_is_never_executed(tmp_path):
    marker = tmp_path / "marker"
    nets = fx.snapshot(fx.tiny_kwargs(8), src=fx.HOSTILE_SOURCE.format(marker=str(marker)))
    models = load_official(fx.write(tmp_path / "src.pkl", nets))
    assert models.cfg.resolution == 8 and not marker.exists()


def test_unknown_classes_and_object_arrays_are_refused(tmp_path):
    cases = {"unknown.pkl": (b"\x80\x02cdnnlib.util\nFoo\n)\x81}b.", "dnnlib.util.Foo"),
             "torch.pkl": (b"\x80\x02ctorch._utils\n_rebuild_tensor_v2\n)R.", "PyTorch pickle"),
             "modify.pkl": (b"\x80\x02cnumpy\ndtype\n}b.", "modify a reader function"),
             "notarray.pkl": (b"\x80\x02cnumpy.core.multiarray\n_reconstruct\ncdnnlib.tflib.network\nNetwork\n"
                              b"K\x00\x85C\x01b\x87R.", "something other than an array")}
    for name, (data, match) in cases.items():
        (tmp_path / name).write_bytes(data)
        refused(tmp_path / name, match)
    objects = np.array(["x", None], dtype=object)
    refused(fx.write(tmp_path / "object.pkl", fx.Network("Gs", "G_style", {}, [("a", objects)])), "array type")


def test_self_referencing_containers_are_refused(tmp_path):
    loop = []
    loop.append(loop)
    (tmp_path / "loop.pkl").write_bytes(pickle.dumps(loop))
    with pytest.raises(PickleRefused, match="nested too deeply"):
        read_pickle(tmp_path / "loop.pkl")


def test_a_lying_array_header_is_refused(tmp_path):
    data = fx.dumps(fx.Network("Gs", "G_style", {}, [("a", np.zeros(4, np.float32))]), protocol=2)
    data = data.replace(b"K\x04\x85", b"K\x05\x85", 1)  # claim 5 elements for 16 bytes of data
    (tmp_path / "lie.pkl").write_bytes(data)
    refused(tmp_path / "lie.pkl", "does not fit its shape")


@pytest.mark.parametrize("protocol", [2, 4])
def test_randomly_damaged_files_only_ever_get_a_refusal(tmp_path, protocol):
    """Flipped bytes and truncations: the reader answers with one line or a model, never a traceback."""
    rng = np.random.default_rng(protocol)
    good = fx.dumps(fx.snapshot(fx.tiny_kwargs(8), seed=protocol), protocol=protocol)
    path = tmp_path / "damaged.pkl"
    for _ in range(80):
        data = bytearray(good)
        for pos in rng.integers(0, len(data), rng.choice([1, 3, 12])):
            data[pos] = rng.integers(0, 256)
        path.write_bytes(bytes(data[: rng.integers(1, len(data))] if rng.random() < 0.2 else data))
        try:
            load_official(path)
        except PickleRefused as exc:
            assert "\n" not in str(exc)
