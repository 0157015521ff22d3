"""Hostile and broken StyleGAN2-ADA / StyleGAN3 pickles: one line each, and nothing in them runs (marker files)."""
import os
import pickle
import resource
import subprocess
import time
from collections import OrderedDict

import numpy as np
import pytest
import torch

import official_fixtures as ofx
import persist_fixtures as px
from stylegan_studio.engine.files.official import load_official
from stylegan_studio.engine.files.persist import TORCH_MAGIC, TORCH_PROTOCOL, read_snapshot
from stylegan_studio.engine.files.tfpickle import PickleRefused

ATTACKS = ["os.system", "builtins.eval", "subprocess", "builtins.exec"]


def attack(name: str, marker) -> px.Calls:
    """An object whose unpickling would create `marker` if the reader ran it."""
    return {"os.system": px.Calls(os.system, f"touch {marker}"),
            "builtins.eval": px.Calls(eval, f"__import__('pathlib').Path({str(marker)!r}).write_text('x')"),
            "subprocess": px.Calls(subprocess.Popen, ["touch", str(marker)]),
            "builtins.exec": px.Calls(exec, f"open({str(marker)!r}, 'w').close()")}[name]


def refused(path, match: str = "") -> str:
    with pytest.raises(PickleRefused) as info:
        read_snapshot(path)
    text = str(info.value)
    assert "\n" not in text and path.name in text, text
    assert match in text, text
    return text


def storage_blob(*pickles) -> bytes:
    """An embedded 'torch.save' made of the given objects after a genuine header."""
    head = [TORCH_MAGIC, TORCH_PROTOCOL, {"protocol_version": TORCH_PROTOCOL, "little_endian": True,
                                          "type_sizes": {"short": 2, "int": 4, "long": 4}}]
    return b"".join(pickle.dumps(p, protocol=2) for p in head + list(pickles))


@pytest.mark.parametrize("name", ATTACKS)
def test_calls_are_refused_wherever_they_hide(tmp_path, name):
    marker = tmp_path / "marker"
    evil = attack(name, marker)
    assert "nothing in it was run" in refused(px.write(tmp_path / "top.pkl", evil), name.split(".")[-1])
    snap = px.tiny_snapshot()
    snap["G_ema"].meta["state"]["_init_kwargs"]["z_dim"] = evil          # inside a network's kwargs
    refused(px.write(tmp_path / "kwargs.pkl", snap, protocol=2), "never contains")
    snap = px.tiny_snapshot()
    snap["G"].meta["state"]["_buffers"]["w"] = px.RawTensor(b"", (1,), (1,))
    snap["G"].meta["state"]["_buffers"]["w"].blob = storage_blob(evil)   # inside an embedded storage
    refused(px.write(tmp_path / "storage.pkl", snap), "storage never contains")
    snap = px.tiny_snapshot()
    snap["training_set_kwargs"] = evil                                    # beside the networks
    refused(px.write(tmp_path / "extra.pkl", snap, protocol=3))
    assert not marker.exists()


def test_embedded_source_is_never_executed(tmp_path):
    marker = tmp_path / "marker"
    snap = read_snapshot(px.write(tmp_path / "src.pkl", px.tiny_snapshot(px.HOSTILE_SOURCE.format(marker=str(marker)))))
    assert snap.generator.state and not snap.generator.source_known and snap.source_note
    assert not marker.exists()


def test_protocol0_global_is_refused(tmp_path):
    marker = tmp_path / "marker"
    path = tmp_path / "p0.pkl"
    path.write_bytes(f"cos\nsystem\n(S'touch {marker}'\ntR.".encode())
    refused(path, "os.system")
    assert not marker.exists()


def test_unknown_classes_are_named(tmp_path):
    snap = px.tiny_snapshot()
    snap["G_ema"] = px.tiny_generator(class_name="Mapper")
    refused(px.write(tmp_path / "mapper.pkl", snap), "its G_ema is a Mapper")
    snap = px.tiny_snapshot()
    snap["D"] = px.tiny_generator()
    refused(px.write(tmp_path / "d.pkl", snap), "its D is a Generator")
    snap = px.tiny_snapshot()
    snap["G"].meta["state"]["_modules"]["extra"] = torch.nn.Linear(2, 2)  # a plain torch module, not NVIDIA's
    refused(px.write(tmp_path / "linear.pkl", snap), "torch.nn.modules.linear.Linear")
    refused(px.write(tmp_path / "list.pkl", [px.tiny_generator()]), "found list")
    refused(ofx.write(tmp_path / "v1.pkl", ofx.snapshot(ofx.tiny_kwargs(8))), "TensorFlow pickle")


def test_files_without_weights_are_refused(tmp_path):
    refused(px.write(tmp_path / "kwargs.pkl", {"training_set_kwargs": {"resolution": 4}, "augment_pipe": None}),
            "holds no generator (G or G_ema); it holds training_set_kwargs, augment_pipe")
    empty = px.Persistent("Generator", px.module_state(init_kwargs={"z_dim": 4}))
    refused(px.write(tmp_path / "empty.pkl", {"G_ema": empty}), "its G_ema (training.networks.Generator) holds no weights")
    refused(px.write(tmp_path / "none.pkl", None), "found NoneType")


def test_truncated_files_are_refused(tmp_path):
    data = (px.NVIDIA_DATA / "sg3_t.pkl").read_bytes()
    path = tmp_path / "cut.pkl"
    for end in (0, 1, 11, 300, 5000, len(data) // 2, len(data) - 1):
        path.write_bytes(data[:end])
        refused(path)
    path.write_bytes(data[:len(data) // 3])
    assert "truncated" in refused(path)


def test_huge_declared_sizes_allocate_nothing(tmp_path):
    """Sizes the file declares but does not hold are refused before anything that size exists."""
    real = px.storage_bytes(torch.arange(4, dtype=torch.float32))
    numel = (4).to_bytes(8, "little")
    huge = (1 << 40).to_bytes(8, "little")
    cases = {  # header and reference both claim 2^40 elements; reference alone; a tensor larger than its storage
        "header.pkl": (px.RawTensor(real.replace(b"K\x04Nt", b"\x8a\x06\x00\x00\x00\x00\x00\x01Nt", 1)
                                    .replace(numel, huge), (4,), (1,)), "damaged storage reference"),
        "numel.pkl": (px.RawTensor(real.replace(numel, huge), (4,), (1,)), "declares 1,099,511,627,776 elements"),
        "view.pkl": (px.RawTensor(real, (1 << 20, 1 << 20), (1 << 20, 1)), "is too large"),
        "repeat.pkl": (px.RawTensor(real, (1 << 30,), (0,)), "over a storage of 4"),
        "wide.pkl": (px.RawTensor(real, (2, 2), (4, 1)), "reaches past its storage"),
        "stride.pkl": (px.RawTensor(real, (2, 2), (3, 1)), "reaches past its storage"),
        "offset.pkl": (px.RawTensor(real, (4,), (1,), offset=1), "reaches past its storage"),
    }
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for name, (tensor, match) in cases.items():
        snap = px.tiny_snapshot()
        snap["G_ema"].meta["state"]["_buffers"]["big"] = tensor
        refused(px.write(tmp_path / name, snap), match)
    # the outer pickle declaring an 8 GiB / 8 TiB byte string (BINBYTES8) in a 15-byte file: the unpickler
    # reserves the length (untouched pages) or cannot; either way the read past the end is refused
    for size in (1 << 33, 1 << 43):
        (tmp_path / "bytes8.pkl").write_bytes(b"\x80\x04\x8e" + size.to_bytes(8, "little") + b"abc.")
        t0 = time.perf_counter()
        refused(tmp_path / "bytes8.pkl", "declares")
        assert time.perf_counter() - t0 < 1.0
    # a memo index of 2^31 (LONG_BINPUT): the C unpickler would size an array of 16 GiB for it
    (tmp_path / "memo.pkl").write_bytes(b"\x80\x02Nr" + (1 << 31).to_bytes(4, "little") + b".")
    refused(tmp_path / "memo.pkl", "found NoneType")
    with pytest.raises(PickleRefused, match="not a StyleGAN snapshot"):  # the v1 reader shares the unpickler
        load_official(tmp_path / "memo.pkl")
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200_000  # KiB: nothing huge was made


def test_the_reader_functions_and_networks_cannot_be_modified(tmp_path):
    (tmp_path / "fn.pkl").write_bytes(b"\x80\x02ctorch._utils\n_rebuild_parameter\n}b.")
    refused(tmp_path / "fn.pkl", "modify a reader function")

    class Rebuilt(px.Persistent):
        def __reduce__(self):
            return (*super().__reduce__(), {"__class__": "evil"})

    net = Rebuilt("Generator", px.tiny_generator().meta["state"])
    refused(px.write(tmp_path / "build.pkl", {"G_ema": net}), "modify a network")


def test_persistent_ids_and_odd_tensors_are_refused(tmp_path):
    (tmp_path / "pid.pkl").write_bytes(b"\x80\x02X\x01\x00\x00\x00kQ.")
    refused(tmp_path / "pid.pkl", "persistent ids")
    torch.save({"w": torch.ones(2)}, tmp_path / "zip.pkl")
    refused(tmp_path / "zip.pkl", "a zip archive (a torch.save .pt file?)")
    snap = px.tiny_snapshot()
    snap["G_ema"].meta["state"]["_parameters"]["w"] = px.Calls(torch._utils._rebuild_parameter, "not a tensor",
                                                               False, OrderedDict())
    refused(px.write(tmp_path / "param.pkl", snap), "not a plain tensor")
    snap = px.tiny_snapshot()
    snap["G_ema"].meta["state"]["_buffers"]["h"] = px.Calls(torch._utils._rebuild_tensor_v2, None, 0, (1,), (1,),
                                                            False, OrderedDict())
    refused(px.write(tmp_path / "nostorage.pkl", snap), "without a storage")
    objects = np.array(["x", None], dtype=object)
    snap = px.tiny_snapshot()
    snap["G_ema"].meta["state"]["table"] = objects
    refused(px.write(tmp_path / "object.pkl", snap), "array type")


def test_self_referencing_containers_are_refused(tmp_path):
    loop = []
    loop.append(loop)
    refused(px.write(tmp_path / "loop.pkl", {"G_ema": px.tiny_generator(), "extra": loop}), "nested too deeply")


@pytest.mark.parametrize("protocol", [2, 4])
def test_randomly_damaged_files_only_ever_get_a_refusal(tmp_path, protocol):
    """Flipped bytes and truncations: one line or a snapshot, never a traceback, never a run."""
    rng = np.random.default_rng(protocol)
    good = px.dumps(px.tiny_snapshot(seed=protocol), protocol=protocol)
    path = tmp_path / "damaged.pkl"
    for _ in range(150):
        data = bytearray(good)
        for pos in rng.integers(0, len(data), rng.choice([1, 3, 12])):
            data[pos] = rng.integers(0, 256)
        path.write_bytes(bytes(data[: rng.integers(1, len(data))] if rng.random() < 0.2 else data))
        try:
            read_snapshot(path)
        except PickleRefused as exc:
            assert "\n" not in str(exc)


def test_damaged_nvidia_fixture_only_ever_gets_a_refusal(tmp_path):
    rng = np.random.default_rng(7)
    good = (px.NVIDIA_DATA / "sg2ada_cond.pkl").read_bytes()
    path = tmp_path / "damaged.pkl"
    for _ in range(25):
        data = bytearray(good)
        for pos in rng.integers(0, 20_000, 4):  # the first bytes hold the structure; the rest is mostly numbers
            data[pos] = rng.integers(0, 256)
        path.write_bytes(bytes(data))
        try:
            read_snapshot(path)
        except PickleRefused as exc:
            assert "\n" not in str(exc)
