"""Small pickles in the structure of NVIDIA's torch_utils.persistence snapshots, written by the tests.

A stand-in `Persistent` pickles exactly as persistence's decorator does: a call of
`torch_utils.persistence._reconstruct_persistent_obj(meta)` with meta = dict(type='class',
version=6, module_src, class_name, state) and state = the module's __dict__ (parameters,
buffers, submodules, hooks, `_init_args`, `_init_kwargs`). Tensors are real torch tensors, pickled
by torch itself. Nothing here comes from NVIDIA's code; the values are random. The NVIDIA-made
fixtures are in tests/data/nvidia (see bench/tools/make_nvidia_fixtures.py).
"""
from __future__ import annotations

import contextlib
import io
import pickle
import sys
import types
import warnings
from collections import OrderedDict
from pathlib import Path

import torch

NVIDIA_DATA = Path(__file__).parent / "data" / "nvidia"
NVIDIA_FIXTURES = ("sg2ada_uncond", "sg2ada_cond", "sg2ada_resnet", "sg3_stylegan2", "sg3_stylegan2_orig",
                   "sg3_t", "sg3_r")
# What a real file embeds is the network module's source; the reader must never run it, so the
# tests put code there that would leave a trace if it ever ran.
HOSTILE_SOURCE = "import pathlib\npathlib.Path({marker!r}).write_text('ran')\nclass Generator: pass\n"
PLAIN_SOURCE = "# a module source the reader never runs\n"


def _reconstruct_persistent_obj(meta):  # pickled by reference only; the reader never calls it
    raise AssertionError("the reader must not call the real reconstructor")


class EasyDict(dict):
    """Pickles like dnnlib.util.EasyDict (a dict subclass)."""


class Persistent:
    """Pickles like an object of a torch_utils.persistence class."""

    def __init__(self, class_name: str, state: dict, src: str = PLAIN_SOURCE, version: int = 6) -> None:
        self.meta = dict(type="class", version=version, module_src=src, class_name=class_name, state=state)

    def __reduce__(self):
        return _reconstruct_persistent_obj, (self.meta,)


class Calls:
    """Pickles as a call of `fn(*args)`: what a malicious file does."""

    def __init__(self, fn, *args) -> None:
        self.fn, self.args = fn, args

    def __reduce__(self):
        return self.fn, self.args


def module_state(params: dict | None = None, buffers: dict | None = None, modules: dict | None = None,
                 init_kwargs: dict | None = None, **attrs) -> dict:
    """A torch.nn.Module's __dict__ as torch 2.x pickles it."""
    state = {"training": False,
             "_parameters": {k: torch.nn.Parameter(v, requires_grad=False) for k, v in (params or {}).items()},
             "_buffers": dict(buffers or {}), "_non_persistent_buffers_set": set(),
             "_backward_pre_hooks": OrderedDict(), "_backward_hooks": OrderedDict(), "_is_full_backward_hook": None,
             "_forward_hooks": OrderedDict(), "_forward_pre_hooks": OrderedDict(), "_state_dict_hooks": OrderedDict(),
             "_load_state_dict_pre_hooks": OrderedDict(), "_modules": dict(modules or {})}
    state.update(attrs)
    state["_init_args"], state["_init_kwargs"] = (), dict(init_kwargs or {})
    return state


def tiny_generator(src: str = PLAIN_SOURCE, seed: int = 0, class_name: str = "Generator") -> Persistent:
    """A two-part generator-shaped network (mapping.fc0, synthesis.b4) with assorted tensor kinds."""
    g = torch.Generator().manual_seed(seed)
    fc = Persistent("FullyConnectedLayer", module_state(
        {"weight": torch.randn(8, 4, generator=g), "bias": torch.randn(8, generator=g)},
        in_features=4, out_features=8, activation="lrelu", weight_gain=0.5, bias_gain=1.0), src)
    mapping = Persistent("MappingNetwork", module_state(
        modules={"fc0": fc}, buffers={"w_avg": torch.randn(8, generator=g)}, z_dim=4, w_dim=8, num_ws=3), src)
    big = torch.randn(3, 16, generator=g)
    layer = Persistent("SynthesisLayer", module_state(
        {"weight": torch.randn(6, 5, 3, 3, generator=g).transpose(0, 1),  # strided (not contiguous)
         "noise_strength": torch.tensor(0.25)},                               # 0-d
        buffers={"noise_const": big[1, 4:12].reshape(2, 4),                   # an offset into a larger storage
                 "resample_filter": torch.tensor([[1.0, 3.0], [3.0, 1.0]], dtype=torch.float16),
                 "counter": torch.tensor([3, 4], dtype=torch.int64), "mask": torch.tensor([True, False])}), src)
    synthesis = Persistent("SynthesisNetwork", module_state(
        modules={"b4": layer}, img_resolution=4, block_resolutions=[4]), src)
    return Persistent(class_name, module_state(modules={"synthesis": synthesis, "mapping": mapping},
                                               init_kwargs={"z_dim": 4, "w_dim": 8, "c_dim": 0, "img_resolution": 4,
                                                            "img_channels": 3,
                                                            "mapping_kwargs": EasyDict(num_layers=1)},
                                               z_dim=4, w_dim=8), src)


def tiny_discriminator(src: str = PLAIN_SOURCE) -> Persistent:
    """A discriminator-shaped network with one layer."""
    out = Persistent("FullyConnectedLayer", module_state({"weight": torch.ones(1, 4), "bias": torch.zeros(1)}), src)
    return Persistent("Discriminator", module_state(modules={"out": out}, init_kwargs={"c_dim": 0}), src)


def tiny_snapshot(src: str = PLAIN_SOURCE, seed: int = 0) -> dict:
    """A training snapshot as NVIDIA's training loop pickles it."""
    return {"training_set_kwargs": {"class_name": "training.dataset.ImageFolderDataset", "resolution": 4},
            "G": tiny_generator(src, seed + 1), "D": tiny_discriminator(src), "G_ema": tiny_generator(src, seed),
            "augment_pipe": None}


def expected_state(net: Persistent, prefix: str = "") -> dict:
    """The state_dict torch would give for a Persistent tree, as numpy arrays."""
    st, out = net.meta["state"], {}
    for k, v in [*st["_parameters"].items(), *st["_buffers"].items()]:
        out[prefix + k] = v.detach().numpy()
    for k, sub in st["_modules"].items():
        out.update(expected_state(sub, f"{prefix}{k}."))
    return out


@contextlib.contextmanager
def official_module_path():
    """While active, the stand-ins pickle under NVIDIA's names (torch_utils.persistence, dnnlib.util)."""
    names = ("torch_utils", "torch_utils.persistence", "dnnlib", "dnnlib.util")
    saved = {n: sys.modules.get(n) for n in names}
    mods = {n: types.ModuleType(n) for n in names}
    mods["torch_utils.persistence"]._reconstruct_persistent_obj = _reconstruct_persistent_obj
    mods["dnnlib.util"].EasyDict = EasyDict
    moved = ((_reconstruct_persistent_obj, "torch_utils.persistence"), (EasyDict, "dnnlib.util"))
    for obj, module in moved:
        obj.__module__ = module
    sys.modules.update(mods)
    try:
        yield
    finally:
        for obj, _ in moved:
            obj.__module__ = __name__
        for n, m in saved.items():
            if m is None:
                sys.modules.pop(n, None)
            else:
                sys.modules[n] = m


def dumps(obj, protocol: int = 4) -> bytes:
    """The pickle bytes of `obj` with the stand-ins under NVIDIA's names."""
    buf = io.BytesIO()
    with official_module_path():
        pickle.Pickler(buf, protocol=protocol).dump(obj)
    return buf.getvalue()


def write(path: Path, obj, protocol: int = 4) -> Path:
    """Write `obj` as a pickle with the stand-ins under NVIDIA's names."""
    path.write_bytes(dumps(obj, protocol))
    return path


def storage_bytes(tensor: torch.Tensor) -> bytes:
    """What torch embeds for a tensor's storage in a plain pickle: a legacy torch.save of it."""
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # TypedStorage is deprecated, but it is what tensors pickle
        torch.save(tensor.storage(), buf, _use_new_zipfile_serialization=False)
    return buf.getvalue()


class RawTensor:
    """Pickles as torch does a float32 tensor, around storage bytes the test may have edited."""

    def __init__(self, blob: bytes, size: tuple, stride: tuple, offset: int = 0) -> None:
        self.blob, self.size, self.stride, self.offset = blob, size, stride, offset

    def __reduce__(self):
        return torch._utils._rebuild_tensor_v2, (Calls(torch.storage._load_from_bytes, self.blob), self.offset,
                                                 self.size, self.stride, False, OrderedDict())
