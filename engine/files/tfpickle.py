"""A reader for pickles of NVIDIA's dnnlib `Network` objects that never runs anything in the file.

A StyleGAN v1 snapshot is `pickle.dump((G, D, Gs))`; each Network pickles as a state dict
(name, static_kwargs, components, build_module_src, build_func_name, variables) and its
variables are numpy arrays. Unpickling normally looks up any global the file names and calls
it, and the official `__setstate__` then `exec`s the embedded source. Here every global is
refused except a handful of stand-ins: `Network` becomes a plain `NetworkState` that keeps the
state, numpy's array/dtype/scalar reconstructors become checked functions that only accept
plain numeric buffers, and `build_module_src` is kept as text and never executed.
"""
from __future__ import annotations

import hashlib
import math
import pickle
from collections import OrderedDict
from pathlib import Path

import numpy as np

from ..contract.errors import UserError
from .fileio import cannot_read

MAX_DEPTH = 64               # nested containers deeper than this are not a StyleGAN pickle
MAX_ELEMENTS = 1 << 31       # one array larger than this (8 GiB of float32) is refused
NUMERIC_KINDS = "fiub"       # float, signed, unsigned, bool: the only array types the format uses


class PickleRefused(UserError):
    """A pickle this reader will not open; the message is one line and nothing in the file ran."""


class NetworkState:
    """Stand-in for `dnnlib.tflib.network.Network`: holds the pickled state and nothing else."""

    # Class-level defaults: unpickling creates instances without __init__ and may never BUILD them.
    name = ""
    static_kwargs: dict = {}
    components: dict = {}
    build_func_name = ""
    build_module_src = ""
    variables: list = []
    version = 0

    def __setstate__(self, state) -> None:
        if not isinstance(state, dict):
            raise PickleRefused("a Network entry holds no state dict")
        self.version = state.get("version", 0)
        self.name = state.get("name", "")
        self.static_kwargs = state.get("static_kwargs", {})
        self.components = state.get("components", {})
        self.build_func_name = state.get("build_func_name", "")
        self.build_module_src = state.get("build_module_src", "")  # text only: never executed
        self.variables = state.get("variables", [])

    @property
    def func(self) -> str:
        """The build function's short name (`G_style`, `D_basic`, …)."""
        return str(self.build_func_name).rsplit(".", 1)[-1]

    def own_vars(self) -> dict[str, np.ndarray]:
        """This network's variables by local name (without its components')."""
        return dict(self.variables)

    def all_vars(self) -> dict[str, np.ndarray]:
        """Own variables plus every component's, prefixed by the component's name as in dnnlib."""
        out = self.own_vars()
        for comp in self.components.values():
            out.update((f"{comp.name}/{k}", v) for k, v in comp.all_vars().items())
        return out


class Safe:
    """A callable stand-in that a pickle cannot modify (BUILD on it is refused)."""

    __slots__ = ("_fn",)

    def __init__(self, fn) -> None:
        object.__setattr__(self, "_fn", fn)

    def __call__(self, *args):
        return self._fn(*args)

    def __setstate__(self, state) -> None:
        raise PickleRefused("the file tries to modify a reader function")


class _Dtype:
    """A numpy dtype request, resolved only for plain numeric types."""

    def __init__(self, spec, align=False, copy=False) -> None:
        if not isinstance(spec, str) or len(spec) > 4:
            raise PickleRefused(f"refused array type {spec!r}")
        self.spec, self.order = spec, "="

    def __setstate__(self, state) -> None:
        # (version, byte order, subarray, names, fields, elsize, alignment, flags[, metadata])
        if not isinstance(state, tuple) or len(state) < 5 or state[2] is not None or state[3] is not None \
                or state[4] is not None:
            raise PickleRefused("refused a structured array type")
        if state[1] not in ("<", ">", "|", "="):
            raise PickleRefused(f"refused byte order {state[1]!r}")
        self.order = state[1]

    def resolve(self) -> np.dtype:
        """The numpy dtype (numeric kinds only)."""
        try:
            dt = np.dtype(self.spec)
        except TypeError:
            raise PickleRefused(f"refused array type {self.spec!r}") from None
        if dt.kind not in NUMERIC_KINDS or dt.fields is not None or dt.subdtype is not None:
            raise PickleRefused(f"refused array type {self.spec!r} (only numeric arrays are read)")
        return dt.newbyteorder(self.order) if self.order in "<>" else dt


class ArrayStub:
    """What numpy's `_reconstruct` returns here; BUILD fills it from (shape, dtype, buffer)."""

    def __init__(self) -> None:
        self.array: np.ndarray | None = None

    def __setstate__(self, state) -> None:
        if not isinstance(state, tuple) or len(state) not in (4, 5):
            raise PickleRefused("a damaged numpy array entry")
        shape, dtype, fortran, raw = state[-4:]
        self.array = _make_array(raw, dtype, shape, "F" if fortran else "C")


_NDARRAY = object()  # the only class numpy's `_reconstruct` may be asked to build


def _shape(shape) -> tuple[int, ...]:
    if not isinstance(shape, tuple) or not all(isinstance(n, int) and 0 <= n < MAX_ELEMENTS for n in shape):
        raise PickleRefused(f"a numpy array with a bad shape {shape!r}")
    if math.prod(shape) > MAX_ELEMENTS:
        raise PickleRefused(f"a numpy array of {math.prod(shape):,} elements is too large")
    return shape


def _make_array(raw, dtype, shape, order) -> np.ndarray:
    """A numeric array from pickled bytes, checked against its declared shape and type."""
    if isinstance(raw, str):
        raw = raw.encode("latin-1")  # Python 2 pickles carry buffers as str
    elif isinstance(raw, bytearray):
        raw = bytes(raw)  # the array views it: an immutable copy (protocol 5 writes bytearrays)
    if not isinstance(dtype, _Dtype):
        raise PickleRefused("refused a numpy array without a plain array type")
    dt = dtype.resolve()
    if not isinstance(raw, (bytes, bytearray)) or order not in ("C", "F"):
        raise PickleRefused("refused a numpy array that is not a plain numeric buffer")
    shape = _shape(shape)
    if len(raw) != math.prod(shape) * dt.itemsize:
        raise PickleRefused(f"a numpy array's data ({len(raw)} bytes) does not fit its shape {shape}")
    return np.frombuffer(raw, dtype=dt).reshape(shape, order=order)


def _reconstruct(cls, shape, typecode) -> ArrayStub:
    if cls is not _NDARRAY:
        raise PickleRefused("numpy's array reconstructor was asked for something other than an array")
    return ArrayStub()


def _frombuffer(buf, dtype, shape, order) -> np.ndarray:
    return _make_array(bytes(buf) if isinstance(buf, bytearray) else buf, dtype, shape, order)


def _scalar(dtype, data=None):
    if not isinstance(data, bytes):
        raise PickleRefused("refused a numpy scalar without a plain buffer")
    return _make_array(data, dtype, (), "C")[()]


def _latin1(text, encoding="latin1"):
    # Protocol-2 pickles written by Python 3 store bytes as _codecs.encode(text, 'latin1').
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise PickleRefused("refused _codecs.encode with anything but latin1 text")
    return text.encode("latin-1")


class EasyDictState(dict):
    """Stand-in for `dnnlib.util.EasyDict` (a dict with attribute access): kept as a plain dict."""

    def __setstate__(self, state) -> None:
        if state:
            raise PickleRefused("an EasyDict entry carries unexpected state")


# numpy arrays, dtypes and scalars, and Python 3's protocol-2 bytes: shared with the PyTorch pickle reader.
NUMPY_GLOBALS = {
    ("numpy", "ndarray"): _NDARRAY,
    ("numpy", "dtype"): Safe(_Dtype),
    ("_codecs", "encode"): Safe(_latin1),
}
for _core in ("numpy.core", "numpy._core"):  # numpy < 2 and numpy ≥ 2 spell the module differently
    NUMPY_GLOBALS[(f"{_core}.multiarray", "_reconstruct")] = Safe(_reconstruct)
    NUMPY_GLOBALS[(f"{_core}.multiarray", "scalar")] = Safe(_scalar)
    NUMPY_GLOBALS[(f"{_core}.numeric", "_frombuffer")] = Safe(_frombuffer)

SAFE_GLOBALS = {
    ("dnnlib.tflib.network", "Network"): NetworkState,
    ("dnnlib.util", "EasyDict"): EasyDictState,
    ("collections", "OrderedDict"): OrderedDict,
    **NUMPY_GLOBALS,
}


def describe_refusal(module: str, name: str) -> str:
    """One line saying why a global is refused, naming the kind of file it suggests."""
    what = f"{module}.{name}"
    if module.split(".")[0] in ("torch", "torch_utils", "legacy"):
        return f"it is a PyTorch pickle (it names {what}), e.g. StyleGAN2-ADA or StyleGAN3; " \
               "this reader opens TensorFlow StyleGAN v1 pickles"
    return f"it names {what}, which a StyleGAN v1 pickle never contains"


class BoundedFile:
    """A file whose reads never go past its end: a pickle's declared lengths cannot make us allocate more."""

    def __init__(self, f, size: int) -> None:
        self._f, self._left = f, size

    def _take(self, n: int) -> int:
        if n is None or n < 0:
            n = self._left
        if n > self._left:
            raise PickleRefused(f"it declares {n:,} bytes where only {self._left:,} remain (truncated or damaged)")
        self._left -= n
        return n

    def read(self, n: int = -1) -> bytes:
        return self._f.read(self._take(n))

    def readinto(self, buf) -> int:
        return self._f.readinto(memoryview(buf)[: self._take(len(buf))])

    def readline(self) -> bytes:
        line = self._f.readline(self._left)
        self._left -= len(line)
        return line


class RestrictedUnpickler(pickle._Unpickler):
    """The pure-Python unpickler: its memo is a dict and it reads a declared length before making anything
    that size, so a small file cannot make it reserve memory (the C one sizes its memo by the largest index).
    A format's subclass names its allowed globals, its refusal wording and why persistent ids are refused."""

    safe_globals: dict = {}
    persistent_refusal = "it uses persistent ids, which this kind of file never contains"

    @staticmethod
    def describe_refusal(module: str, name: str) -> str:
        """One line saying why a global is refused."""
        return f"it names {module}.{name}, which this kind of file never contains"

    def find_class(self, module: str, name: str):
        target = self.safe_globals.get((module, name))
        if target is None:
            raise PickleRefused(self.describe_refusal(module, name))
        return target

    def persistent_load(self, pid):
        raise PickleRefused(self.persistent_refusal)


class _Unpickler(RestrictedUnpickler):
    """The restricted unpickler of StyleGAN v1 (TensorFlow) pickles."""

    safe_globals = SAFE_GLOBALS
    persistent_refusal = "it uses persistent ids, which a StyleGAN v1 pickle never contains"
    describe_refusal = staticmethod(describe_refusal)


def _plain(obj, depth: int = 0):
    """Replace stand-ins by plain values (arrays, dicts, lists); refuse anything unexpected."""
    if depth > MAX_DEPTH:
        raise PickleRefused("nested too deeply to be a StyleGAN pickle")
    if isinstance(obj, ArrayStub):
        if obj.array is None:
            raise PickleRefused("a numpy array entry without data")
        return obj.array
    if isinstance(obj, NetworkState):
        return _plain_network(obj, depth)
    if isinstance(obj, dict):
        return {_key(k): _plain(v, depth + 1) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_plain(v, depth + 1) for v in obj)
    if isinstance(obj, np.generic):
        return obj.item()
    if obj is None or isinstance(obj, (bool, int, float, str, bytes, np.ndarray)):
        return obj
    raise PickleRefused(f"unexpected {type(obj).__name__} in the file")


def _key(k):
    if not isinstance(k, (str, int)):
        raise PickleRefused("a dict with non-text keys")
    return k


def _plain_network(net: NetworkState, depth: int) -> NetworkState:
    if not isinstance(net.name, str) or not isinstance(net.build_func_name, str):
        raise PickleRefused("a Network without a name or build function name")
    if not isinstance(net.static_kwargs, dict) or not isinstance(net.components, dict):
        raise PickleRefused(f"Network {net.name!r} has damaged static_kwargs or components")
    net.static_kwargs = _plain(dict(net.static_kwargs), depth + 1)
    net.components = {_key(k): _plain(v, depth + 1) for k, v in net.components.items()}
    if not all(isinstance(c, NetworkState) for c in net.components.values()):
        raise PickleRefused(f"Network {net.name!r} has a component that is not a Network")
    net.variables = _plain_variables(net)
    if not isinstance(net.build_module_src, str):
        net.build_module_src = ""
    return net


def _plain_variables(net: NetworkState) -> list[tuple[str, np.ndarray]]:
    out = []
    for item in net.variables if isinstance(net.variables, (list, tuple)) else [None]:
        if not (isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str)):
            raise PickleRefused(f"Network {net.name!r} has damaged variables")
        value = _plain(item[1], MAX_DEPTH)
        if isinstance(value, (int, float)):
            value = np.asarray(value, dtype=np.float32)  # a scalar variable (e.g. lod) may pickle as a number
        if not isinstance(value, np.ndarray):
            raise PickleRefused(f"variable {net.name}/{item[0]} is not an array")
        out.append((item[0], value))
    return out


def file_sha256(path: str | Path) -> str:
    """Hex sha256 of a file, read in 1 MiB pieces."""
    h = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            for piece in iter(lambda: f.read(1 << 20), b""):
                h.update(piece)
    except OSError as exc:
        raise cannot_read(path, exc) from None
    return h.hexdigest()


def read_pickle(path: str | Path):
    """The pickled object with Networks as NetworkState and arrays as numpy; nothing in it is run."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            obj = _Unpickler(BoundedFile(f, path.stat().st_size), encoding="latin1").load()
    except PickleRefused as exc:
        raise PickleRefused(f"{path.name}: refused to open: {exc} (nothing in it was run)") from None
    except FileNotFoundError:
        raise PickleRefused(f"{path}: no such file") from None
    except OSError as exc:
        raise PickleRefused(f"{path}: cannot read ({exc.strerror or exc})") from None
    except Exception as exc:  # the unpickler raises many types for damaged input
        detail = " ".join(str(exc).split())[:120]
        raise PickleRefused(f"{path.name}: not a readable pickle ({type(exc).__name__}"
                            f"{': ' + detail if detail else ''})") from None
    try:
        return _plain(obj)
    except PickleRefused as exc:
        raise PickleRefused(f"{path.name}: refused to open: {exc} (nothing in it was run)") from None
    except Exception as exc:  # odd values where the format has numbers, lists or dicts
        raise PickleRefused(f"{path.name}: a damaged StyleGAN pickle ({type(exc).__name__})") from None
