"""A reader for NVIDIA's StyleGAN2-ADA and StyleGAN3 PyTorch pickles that never runs anything in the file.

Their training loop pickles a dict (G, D, G_ema, augment_pipe, training_set_kwargs) through
`torch_utils.persistence`: each network pickles as `_reconstruct_persistent_obj(meta)`, where meta
holds the Python source of its module, the class name and the module's `__dict__` (parameters,
buffers, submodules, `_init_kwargs`). Loading it normally `exec`s that source. Here every global
is refused except stand-ins: the persistence reconstructor records (class, source hash, state),
torch's tensor rebuilders build numpy arrays from the storages, and a storage — pickled as
`torch.storage._load_from_bytes(<legacy torch.save bytes>)` — is parsed by a second restricted
unpickler that accepts only a storage reference, then read as raw little-endian numbers. The
embedded source is hashed and compared with NVIDIA's releases, never executed.
"""
from __future__ import annotations

import io
import math
import pickle
import pickletools
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .nvidia_sources import known_release, source_sha256
from .tfpickle import MAX_DEPTH, MAX_ELEMENTS, NUMPY_GLOBALS, ArrayStub, BoundedFile, EasyDictState, PickleRefused, \
    RestrictedUnpickler, Safe, file_sha256

FORMAT = "NVIDIA StyleGAN2-ADA / StyleGAN3 pickle (torch_utils.persistence)"
MODULES = ("training.networks", "training.networks_stylegan2", "training.networks_stylegan3")
GENERATOR, DISCRIMINATOR = "Generator", "Discriminator"
NETWORK_KEYS = ("G", "D", "G_ema")
TORCH_MAGIC = 0x1950A86A20F9469CFC6C  # torch.save's legacy format starts with this number
TORCH_PROTOCOL = 1001
STORAGE_DTYPES = {"FloatStorage": "<f4", "DoubleStorage": "<f8", "HalfStorage": "<f2", "BFloat16Storage": "<u2",
                  "LongStorage": "<i8", "IntStorage": "<i4", "ShortStorage": "<i2", "CharStorage": "i1",
                  "ByteStorage": "u1", "BoolStorage": "?"}


# ---------------------------------------------------------------- stand-ins the unpickler hands out
class PersistentObj:
    """Stand-in for a persistent network object: what `_reconstruct_persistent_obj` was given, as data."""

    def __init__(self, class_name: str, src_sha256: str, version: int, state: dict) -> None:
        self.class_name, self.src_sha256, self.version, self.state = class_name, src_sha256, version, state

    def __setstate__(self, state) -> None:
        raise PickleRefused("the file tries to modify a network after building it")


def _persistent(meta) -> PersistentObj:
    if not isinstance(meta, dict) or meta.get("type") != "class":
        raise PickleRefused("a persistent object that is not a class instance")
    src, name, state = meta.get("module_src"), meta.get("class_name"), meta.get("state")
    if not isinstance(src, str) or not isinstance(name, str) or not name.isidentifier():
        raise PickleRefused("a persistent object without its source text or class name")
    if not isinstance(state, dict):
        raise PickleRefused(f"the {name} object carries no state")
    version = meta.get("version")
    return PersistentObj(name, source_sha256(src), version if isinstance(version, int) else -1, state)


class Storage:
    """A torch storage as a flat numpy array (little-endian, the dtype its storage class names)."""

    def __init__(self, data: np.ndarray) -> None:
        self.data = data

    def __setstate__(self, state) -> None:
        raise PickleRefused("the file tries to modify a tensor storage")


class _StorageType:
    """What `torch.FloatStorage` and its kin resolve to inside an embedded storage."""

    __slots__ = ("dtype", "name")

    def __init__(self, name: str) -> None:
        self.name = name
        self.dtype = np.dtype(STORAGE_DTYPES[name])


class _StorageRef:
    def __init__(self, stype: _StorageType, key: str, numel: int, view) -> None:
        self.stype, self.key, self.numel, self.view = stype, key, numel, view

    def __setstate__(self, state) -> None:
        raise PickleRefused("an embedded tensor tries to modify its storage reference")


class _StorageUnpickler(pickle._Unpickler):
    """Reads the pickles inside one embedded legacy torch.save: numbers, text and one storage reference."""

    def find_class(self, module: str, name: str):
        if module == "torch" and name in STORAGE_DTYPES:
            return _StorageType(name)
        raise PickleRefused(f"an embedded tensor names {module}.{name}, which a storage never contains")

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) == 6 and pid[0] == "storage"):
            raise PickleRefused("an embedded tensor with an unknown persistent id")
        _, stype, key, location, numel, view = pid
        if not isinstance(stype, _StorageType) or not isinstance(key, str) or not isinstance(location, str) \
                or not isinstance(numel, int) or not 0 <= numel <= MAX_ELEMENTS:
            raise PickleRefused("an embedded tensor with a damaged storage reference")
        if view is not None and not (isinstance(view, tuple) and len(view) == 3
                                     and all(isinstance(v, int) for v in view[1:])):
            raise PickleRefused("an embedded tensor with a damaged storage view")
        return _StorageRef(stype, key, numel, view)


def _load_from_bytes(blob) -> Storage:
    """Parse the bytes of `torch.save(storage)` (legacy format) without torch.load: header, reference, raw data."""
    if not isinstance(blob, (bytes, bytearray)):
        raise PickleRefused("an embedded tensor that is not a byte string")
    blob = bytes(blob)  # the arrays keep views of it: an immutable copy, never a caller's bytearray
    f = io.BytesIO(blob)
    if _StorageUnpickler(f).load() != TORCH_MAGIC or _StorageUnpickler(f).load() != TORCH_PROTOCOL:
        raise PickleRefused("an embedded tensor that is not a torch.save of a storage")
    info = _StorageUnpickler(f).load()
    if not isinstance(info, dict) or info.get("little_endian") is not True:
        raise PickleRefused("an embedded tensor saved on a big-endian machine")
    ref = _StorageUnpickler(f).load()
    keys = _StorageUnpickler(f).load()
    if not isinstance(ref, _StorageRef) or keys != [ref.key]:
        raise PickleRefused("an embedded tensor that holds something other than one storage")
    head = f.read(8)
    numel = int.from_bytes(head, "little") if len(head) == 8 else -1
    nbytes = numel * ref.stype.dtype.itemsize
    if numel != ref.numel or nbytes > len(blob) - f.tell():
        raise PickleRefused(f"an embedded tensor declares {max(ref.numel, numel):,} elements but holds "
                            f"{len(blob) - f.tell():,} bytes")
    data = np.frombuffer(blob, dtype=ref.stype.dtype, count=numel, offset=f.tell())
    if ref.stype.name == "BFloat16Storage":  # numpy has no bfloat16: its bits are a float32's top half
        data = (data.astype(np.uint32) << 16).view(np.float32)
    if ref.view is not None:
        _, offset, size = ref.view
        if not (0 <= offset and 0 <= size and offset + size <= numel):
            raise PickleRefused("an embedded tensor's storage view lies outside its storage")
        data = data[offset:offset + size]
    return Storage(data)


def _rebuild_tensor_v2(storage, offset, size, stride, requires_grad=False, backward_hooks=None, metadata=None):
    if backward_hooks or metadata:
        raise PickleRefused("a tensor with hooks or metadata, which a network snapshot never has")
    return _rebuild_tensor(storage, offset, size, stride)


def _rebuild_tensor(storage, offset, size, stride) -> np.ndarray:
    """The tensor's values as a C-contiguous array, after checking its view lies inside its storage."""
    if not isinstance(storage, Storage):
        raise PickleRefused("a tensor without a storage")
    if not (isinstance(offset, int) and isinstance(size, tuple) and isinstance(stride, tuple)
            and len(size) == len(stride) <= 8 and all(isinstance(n, int) and n >= 0 for n in size + stride)
            and offset >= 0):
        raise PickleRefused("a tensor with a damaged shape")
    n, count = storage.data.size, math.prod(size)
    if count > MAX_ELEMENTS:
        raise PickleRefused(f"a tensor of {count:,} elements is too large")
    if count > n:  # only repeated (stride-0) views are larger than their storage; a snapshot has none
        raise PickleRefused(f"a tensor of {count:,} elements over a storage of {n:,}")
    if count == 0:
        return np.zeros(size, storage.data.dtype)
    last = offset + sum((d - 1) * s for d, s in zip(size, stride))
    if last >= n:
        raise PickleRefused(f"a tensor of shape {size} reaches past its storage of {n:,} elements")
    item = storage.data.itemsize
    view = np.lib.stride_tricks.as_strided(storage.data[offset:], shape=size, strides=[s * item for s in stride],
                                           writeable=False)
    return np.array(view, order="C")  # a copy (ascontiguousarray would turn a 0-d tensor into 1-d)


def _rebuild_parameter(data, requires_grad=False, backward_hooks=None):
    if not isinstance(data, np.ndarray) or backward_hooks:
        raise PickleRefused("a parameter that is not a plain tensor")
    return data


def _rebuild_parameter_with_state(data, requires_grad, backward_hooks, state):
    if state:
        raise PickleRefused("a parameter with extra Python state, which a network snapshot never has")
    return _rebuild_parameter(data, requires_grad, backward_hooks)


def _set(items=()):
    if not isinstance(items, (list, tuple)) or not all(isinstance(i, str) for i in items):
        raise PickleRefused("a set of something other than names")
    return set(items)


SAFE_GLOBALS = {
    ("torch_utils.persistence", "_reconstruct_persistent_obj"): Safe(_persistent),
    ("torch._utils", "_rebuild_tensor_v2"): Safe(_rebuild_tensor_v2),
    ("torch._utils", "_rebuild_tensor"): Safe(_rebuild_tensor),
    ("torch._utils", "_rebuild_parameter"): Safe(_rebuild_parameter),
    ("torch._utils", "_rebuild_parameter_with_state"): Safe(_rebuild_parameter_with_state),
    ("torch.storage", "_load_from_bytes"): Safe(_load_from_bytes),
    ("collections", "OrderedDict"): OrderedDict,
    ("dnnlib.util", "EasyDict"): EasyDictState,
    ("builtins", "set"): Safe(_set),        # protocol 3 pickles a set by calling set(list)
    ("__builtin__", "set"): Safe(_set),
    **NUMPY_GLOBALS,
}


def describe_refusal(module: str, name: str) -> str:
    """One line saying why a global is refused, naming the kind of file it suggests."""
    what = f"{module}.{name}"
    if module.startswith("dnnlib.tflib"):
        return f"it is a TensorFlow pickle (it names {what}), not a PyTorch StyleGAN2-ADA / StyleGAN3 one"
    if module.split(".")[0] == "torch":
        return f"it names {what}, a part of torch that a StyleGAN2-ADA / StyleGAN3 snapshot never contains"
    return f"it names {what}, which a StyleGAN2-ADA / StyleGAN3 snapshot never contains"


class _Unpickler(RestrictedUnpickler):
    """The restricted unpickler of NVIDIA's PyTorch (StyleGAN2-ADA / StyleGAN3) snapshots."""

    safe_globals = SAFE_GLOBALS
    persistent_refusal = "it uses persistent ids (a torch.save zip file?), which a training snapshot never contains"
    describe_refusal = staticmethod(describe_refusal)


# ---------------------------------------------------------------- plain values
def _plain(obj, depth: int = 0):
    """Stand-ins replaced by plain values; anything the format never holds is refused."""
    if depth > MAX_DEPTH:
        raise PickleRefused("nested too deeply to be a network snapshot")
    if isinstance(obj, PersistentObj):
        obj.state = {_key(k): _plain(v, depth + 1) for k, v in obj.state.items()}
        return obj
    if isinstance(obj, ArrayStub):
        if obj.array is None:
            raise PickleRefused("a numpy array entry without data")
        return obj.array
    if isinstance(obj, dict):  # OrderedDict and EasyDict included: kept as plain dicts
        return {_key(k): _plain(v, depth + 1) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_plain(v, depth + 1) for v in obj)
    if isinstance(obj, (set, frozenset)):
        if not all(isinstance(v, str) for v in obj):
            raise PickleRefused("a set of something other than names")
        return set(obj)
    if isinstance(obj, np.generic):
        return obj.item()
    if obj is None or isinstance(obj, (bool, int, float, str, bytes, np.ndarray)):
        return obj
    raise PickleRefused(f"unexpected {type(obj).__name__} in the file")


def _key(k):
    if not isinstance(k, (str, int)):
        raise PickleRefused("a dict with keys that are not names")
    return k


# ---------------------------------------------------------------- networks
@dataclass(frozen=True)
class NetworkRecord:
    """One network of a snapshot, as data: what NVIDIA's class would be built from, and its weights."""

    key: str                      # "G_ema", "G" or "D"
    class_name: str               # "Generator" / "Discriminator"
    module: str                   # "training.networks" | "training.networks_stylegan2" | "training.networks_stylegan3"
    source_sha256: str            # of the embedded module source (never run)
    source_release: str | None    # where NVIDIA released that exact source; None = it differs
    init_args: tuple
    init_kwargs: dict             # as passed to NVIDIA's constructor (nested kwargs as dicts)
    state: dict[str, np.ndarray]  # NVIDIA's state_dict: key → array
    modules: dict[str, tuple[str, dict]]  # submodule path ("" = the network) → (class name, its own settings)

    @property
    def name(self) -> str:
        """`module.class_name`, as NVIDIA's train.py names it."""
        return f"{self.module}.{self.class_name}"

    @property
    def source_known(self) -> bool:
        """True when the embedded source is one NVIDIA released."""
        return self.source_release is not None


@dataclass(frozen=True)
class Snapshot:
    """What a StyleGAN2-ADA / StyleGAN3 pickle holds: its networks and its other plain entries."""

    file: str
    sha256: str
    networks: dict[str, NetworkRecord]   # by snapshot key: G, D, G_ema (those present)
    extras: dict = field(default_factory=dict)  # training_set_kwargs, augment_pipe (class name or None), …

    @property
    def generator(self) -> NetworkRecord:
        """The generator to explore: G_ema (the running average), else G."""
        return self.networks.get("G_ema") or self.networks["G"]

    @property
    def source_note(self) -> str | None:
        """One line when any network's embedded source differs from NVIDIA's releases, else None."""
        odd = [n for n in self.networks.values() if not n.source_known]
        if not odd:
            return None
        names = ", ".join(f"{n.key} ({n.module})" for n in odd)
        return (f"the embedded source of {names} differs from NVIDIA's released code (a fork, or edited); "
                "it was not run — the networks are opened with the standard architecture")


def state_dict(obj: PersistentObj, prefix: str = "", out: dict | None = None) -> dict[str, np.ndarray]:
    """NVIDIA's state_dict keys and values, walking parameters, persistent buffers and submodules as torch does."""
    out = {} if out is None else out
    st = obj.state
    params, buffers, subs = st.get("_parameters", {}), st.get("_buffers", {}), st.get("_modules", {})
    skip = st.get("_non_persistent_buffers_set", set())
    if not all(isinstance(d, dict) for d in (params, buffers, subs)):
        raise PickleRefused(f"the {obj.class_name} object has damaged parameters, buffers or submodules")
    for name, value in [*params.items(), *((k, v) for k, v in buffers.items() if k not in skip)]:
        if value is None:
            continue
        if not isinstance(value, np.ndarray):
            raise PickleRefused(f"{prefix}{name} of {obj.class_name} is not a tensor")
        out[prefix + name] = value
    for name, sub in subs.items():
        if sub is None:
            continue
        if not isinstance(sub, PersistentObj):
            raise PickleRefused(f"submodule {prefix}{name} of {obj.class_name} is not a network part")
        state_dict(sub, f"{prefix}{name}.", out)
    return out


def submodules(obj: PersistentObj, prefix: str = "", out: dict | None = None) -> dict[str, tuple[str, dict]]:
    """Every submodule's class name and own settings (its attributes other than torch's bookkeeping)."""
    out = {} if out is None else out
    # torch's bookkeeping (training, _parameters, _buffers, _modules, hooks) and persistence's _init_* are not settings
    settings = {k: v for k, v in obj.state.items() if k != "training" and not k.startswith("_")}
    out[prefix.rstrip(".")] = (obj.class_name, settings)
    for name, sub in obj.state.get("_modules", {}).items():
        if isinstance(sub, PersistentObj):
            submodules(sub, f"{prefix}{name}.", out)
    return out


def guess_module(class_names: set[str], modules: dict[str, tuple[str, dict]]) -> str:
    """Which NVIDIA module a network whose source is not a known release comes from, by its structure."""
    if "SynthesisInput" in class_names:
        return "training.networks_stylegan3"
    layers = [s for c, s in modules.values() if c in ("FullyConnectedLayer", "Conv2dLayer")]
    # The stylegan3 repo's v2 layers record their sizes (in_features / in_channels); stylegan2-ada's do not.
    if any("in_features" in s or "in_channels" in s for s in layers):
        return "training.networks_stylegan2"
    return "training.networks"


def network_record(key: str, obj, name: str) -> NetworkRecord:
    """A snapshot entry as a NetworkRecord; refuses anything that is not one of NVIDIA's G/D classes."""
    if not isinstance(obj, PersistentObj):
        raise PickleRefused(f"{name}: its {key} is {type(obj).__name__}, not a network")
    want = DISCRIMINATOR if key == "D" else GENERATOR
    if obj.class_name != want:
        raise PickleRefused(f"{name}: its {key} is a {obj.class_name}; this studio opens StyleGAN2-ADA / StyleGAN3 "
                            f"{want} networks only")
    mods = submodules(obj)
    release_module = {m for m in MODULES if known_release(obj.src_sha256, m)}
    module = release_module.pop() if release_module else guess_module({c for c, _ in mods.values()}, mods)
    args, kwargs = obj.state.get("_init_args", ()), obj.state.get("_init_kwargs", {})
    if not isinstance(args, tuple) or not isinstance(kwargs, dict):
        raise PickleRefused(f"{name}: its {key} has damaged init_args / init_kwargs")
    weights = state_dict(obj)
    if not weights:
        raise PickleRefused(f"{name}: its {key} ({module}.{obj.class_name}) holds no weights")
    return NetworkRecord(key=key, class_name=obj.class_name, module=module, source_sha256=obj.src_sha256,
                         source_release=known_release(obj.src_sha256, module), init_args=args,
                         init_kwargs=kwargs, state=weights, modules=mods)


def snapshot_from(obj, name: str, path: Path, sha: str) -> Snapshot:
    """The Snapshot of an unpickled training snapshot dict (or of a file holding one bare network)."""
    if isinstance(obj, PersistentObj):
        obj = {"G_ema": obj}  # some tools save G_ema alone
    if not isinstance(obj, dict):
        raise PickleRefused(f"{name}: not a StyleGAN2-ADA / StyleGAN3 snapshot (found {type(obj).__name__}, "
                            "expected a dict with G, D and G_ema)")
    present = [k for k in NETWORK_KEYS if obj.get(k) is not None]
    if not any(k in present for k in ("G", "G_ema")):
        keys = ", ".join(map(str, obj)) or "nothing"
        raise PickleRefused(f"{name}: holds no generator (G or G_ema); it holds {keys}")
    networks = {k: network_record(k, obj[k], name) for k in present}
    extras = {}
    for k, v in obj.items():
        if k in NETWORK_KEYS:
            continue
        extras[k] = v.class_name if isinstance(v, PersistentObj) else v  # e.g. augment_pipe: AugmentPipe
    return Snapshot(file=path.name, sha256=sha, networks=networks, extras=extras)


def read_snapshot(path: str | Path, sha: str | None = None) -> Snapshot:
    """The networks of a StyleGAN2-ADA / StyleGAN3 pickle, as data; nothing in the file is run."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            if f.read(4) == b"PK\x03\x04":
                raise PickleRefused("it is a zip archive (a torch.save .pt file?), not a training snapshot pickle")
            f.seek(0)
            obj = _Unpickler(BoundedFile(f, path.stat().st_size), encoding="latin1").load()
    except PickleRefused as exc:
        raise PickleRefused(f"{path.name}: refused to open: {exc} (nothing in it was run)") from None
    except FileNotFoundError:
        raise PickleRefused(f"{path}: no such file") from None
    except OSError as exc:
        raise PickleRefused(f"{path}: cannot read ({exc.strerror or exc})") from None
    except RecursionError:
        raise PickleRefused(f"{path.name}: refused to open: nested too deeply to be a network snapshot "
                            "(nothing in it was run)") from None
    except MemoryError:  # the unpickler reserves a declared length before reading it
        raise PickleRefused(f"{path.name}: refused to open: it declares more data than this machine's memory "
                            "(damaged or hostile; nothing in it was run)") from None
    except Exception as exc:  # the unpickler raises many types for damaged input
        detail = " ".join(str(exc).split())[:120]
        raise PickleRefused(f"{path.name}: not a readable pickle ({type(exc).__name__}"
                            f"{': ' + detail if detail else ''}; truncated or damaged?)") from None
    try:
        return snapshot_from(_plain(obj), path.name, path, sha or file_sha256(path))
    except PickleRefused as exc:
        text = str(exc)
        text = text if text.startswith(f"{path.name}:") else f"{path.name}: refused to open: {text}"
        raise PickleRefused(f"{text} (nothing in it was run)") from None
    except (RecursionError, Exception) as exc:  # odd values where the format has numbers, lists or dicts
        raise PickleRefused(f"{path.name}: a damaged StyleGAN2-ADA / StyleGAN3 pickle ({type(exc).__name__}) "
                            "(nothing in it was run)") from None


NEUTRAL_MODULES = ("collections", "numpy", "builtins", "__builtin__", "_codecs", "dnnlib")  # in both formats


def pickle_kind(path: str | Path, probe: int = 1 << 16) -> str | None:
    """'pytorch' (StyleGAN2-ADA / StyleGAN3), 'tensorflow' (StyleGAN v1) or None, from the first telling global.

    Only the opcodes of the file's first bytes are scanned (pickletools parses, it never builds or runs).
    """
    try:
        with open(path, "rb") as f:
            head = f.read(probe)
    except OSError:
        return None
    strings: list[str] = []
    try:
        for op, arg, _ in pickletools.genops(io.BytesIO(head)):
            if op.name in ("SHORT_BINUNICODE", "BINUNICODE", "UNICODE", "BINUNICODE8"):
                strings.append(arg)
            module = arg.split(" ")[0] if op.name == "GLOBAL" else (strings[-2] if op.name == "STACK_GLOBAL"
                                                                     and len(strings) >= 2 else None)
            root = module.split(".")[0] if module else ""
            if root in ("torch", "torch_utils"):
                return "pytorch"
            if module and module.startswith("dnnlib.tflib"):
                return "tensorflow"
            if module and root not in NEUTRAL_MODULES:
                return None
    except Exception:  # a damaged or truncated head: not recognised here; the readers say why
        return None
    return None


def describe_snapshot(snap: Snapshot) -> list[str]:
    """Lines for `info`: each network's class, source (known or differs), kwargs and size."""
    lines = [f"format    {FORMAT}", f"sha256    {snap.sha256}"]
    for key, net in snap.networks.items():
        count = sum(int(v.size) for v in net.state.values())
        lines.append(f"{key:<9} {net.name}  ({len(net.state)} tensors, {count:,} values)")
        lines.append("  source  " + (f"NVIDIA's release ({net.source_release})" if net.source_known
                                     else f"differs from NVIDIA's releases (sha256 {net.source_sha256[:16]}…; not run)"))
        lines.append("  kwargs  " + (", ".join(f"{k}={v}" for k, v in sorted(net.init_kwargs.items())) or "(none)"))
    for key, value in snap.extras.items():
        lines.append(f"{key:<9} {value}")
    if snap.source_note:
        lines.append(f"note: {snap.source_note}")
    return lines
