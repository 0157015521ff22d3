"""Small pickles in exactly the structure of NVIDIA's StyleGAN v1 snapshots, written by the tests.

A stand-in `Network` class is pickled under the official module path (dnnlib.tflib.network),
with the official state dict: version, name, static_kwargs, components, build_module_src,
build_func_name and variables as (name, numpy array) pairs in TensorFlow layouts. Nothing
here comes from NVIDIA's code; the values are random.
"""
from __future__ import annotations

import contextlib
import io
import pickle
import sys
import types

import numpy as np

# What `build_module_src` holds in a real file is the network module's source; the reader must
# never run it, so the tests put code there that would leave a trace if it ever ran.
HOSTILE_SOURCE = "import pathlib\npathlib.Path({marker!r}).write_text('ran')\ndef G_style(*a, **k): pass\n"


class Network:
    """Pickles like dnnlib.tflib.network.Network: a state dict from __getstate__."""

    def __init__(self, name: str, func: str, static_kwargs: dict, variables: list, components=None,
                 src: str = "def build(): pass\n") -> None:
        self.state = {"version": 3, "name": name, "static_kwargs": dict(static_kwargs),
                      "components": dict(components or {}), "build_module_src": src,
                      "build_func_name": func, "variables": list(variables)}

    def __getstate__(self) -> dict:
        return self.state

    def vars(self) -> dict:
        """All variables with component prefixes, as the reader reports them."""
        out = dict(self.state["variables"])
        for comp in self.state["components"].values():
            out.update((f"{comp.state['name']}/{k}", v) for k, v in comp.vars().items())
        return out


@contextlib.contextmanager
def official_module_path():
    """While active, `Network` pickles as dnnlib.tflib.network.Network."""
    names = ("dnnlib", "dnnlib.tflib", "dnnlib.tflib.network")
    saved = {n: sys.modules.get(n) for n in names}
    mods = {n: types.ModuleType(n) for n in names}
    mods["dnnlib"].tflib = mods["dnnlib.tflib"]
    mods["dnnlib.tflib"].network = mods["dnnlib.tflib.network"]
    mods["dnnlib.tflib.network"].Network = Network
    Network.__module__, Network.__qualname__ = "dnnlib.tflib.network", "Network"
    sys.modules.update(mods)
    try:
        yield
    finally:
        Network.__module__, Network.__qualname__ = __name__, "Network"
        for n, m in saved.items():
            if m is None:
                sys.modules.pop(n, None)
            else:
                sys.modules[n] = m


def nf(kw: dict, stage: int) -> int:
    """Feature maps at a stage, as the official networks compute them."""
    return min(int(kw.get("fmap_base", 8192) / 2.0 ** stage), kw.get("fmap_max", 512))


def _r(rng, *shape, std=1.0, mean=0.0) -> np.ndarray:
    return (rng.standard_normal(shape) * std + mean).astype(np.float32)


def mapping_vars(kw: dict, rng) -> list:
    z, w, f, layers = kw["latent_size"], kw["dlatent_size"], kw["mapping_fmaps"], kw["mapping_layers"]
    lrmul = kw.get("mapping_lrmul", 0.01)
    dims = [z] + [f] * (layers - 1) + [w]
    out = []
    for i in range(layers):  # official init: std 1/lrmul, scaled by he_std·lrmul at run time
        out += [(f"Dense{i}/weight", _r(rng, dims[i], dims[i + 1], std=1 / lrmul)),
                (f"Dense{i}/bias", _r(rng, dims[i + 1], std=0.2 / lrmul))]
    return out


def _layer(scope: str, ch: int, w_dim: int, rng) -> list:
    return [(f"{scope}/Noise/weight", _r(rng, ch, std=0.5)), (f"{scope}/bias", _r(rng, ch, std=0.2)),
            (f"{scope}/StyleMod/weight", _r(rng, w_dim, 2 * ch)), (f"{scope}/StyleMod/bias", _r(rng, 2 * ch, std=0.2))]


def synthesis_vars(kw: dict, rng) -> list:
    log2 = int(np.log2(kw["resolution"]))
    w_dim, rgb = kw["dlatent_size"], kw.get("num_channels", 3)
    out = [("lod", np.float32(0.0))]
    out += [(f"noise{i}", _r(rng, 1, 1, 2 ** (i // 2 + 2), 2 ** (i // 2 + 2))) for i in range(2 * log2 - 2)]
    c = nf(kw, 1)
    out += [("4x4/Const/const", _r(rng, 1, c, 4, 4, std=0.3, mean=1.0))] + _layer("4x4/Const", c, w_dim, rng)
    out += [("4x4/Conv/weight", _r(rng, 3, 3, c, c))] + _layer("4x4/Conv", c, w_dim, rng)
    for res in range(3, log2 + 1):
        cin, c, s = nf(kw, res - 2), nf(kw, res - 1), f"{2 ** res}x{2 ** res}"
        out += [(f"{s}/Conv0_up/weight", _r(rng, 3, 3, cin, c))] + _layer(f"{s}/Conv0_up", c, w_dim, rng)
        out += [(f"{s}/Conv1/weight", _r(rng, 3, 3, c, c))] + _layer(f"{s}/Conv1", c, w_dim, rng)
    for res in range(2, log2 + 1):
        c = nf(kw, res - 1)
        out += [(f"ToRGB_lod{log2 - res}/weight", _r(rng, 1, 1, c, rgb)),
                (f"ToRGB_lod{log2 - res}/bias", _r(rng, rgb, std=0.2))]
    return out


def discriminator_vars(kw: dict, rng) -> list:
    log2 = int(np.log2(kw["resolution"]))
    rgb = kw.get("num_channels", 3)
    out = [("lod", np.float32(0.0))]
    for res in range(log2, 1, -1):
        c = nf(kw, res - 1)
        out += [(f"FromRGB_lod{log2 - res}/weight", _r(rng, 1, 1, rgb, c)),
                (f"FromRGB_lod{log2 - res}/bias", _r(rng, c, std=0.2))]
        if res >= 3:
            s = f"{2 ** res}x{2 ** res}"
            out += [(f"{s}/Conv0/weight", _r(rng, 3, 3, c, c)), (f"{s}/Conv0/bias", _r(rng, c, std=0.2)),
                    (f"{s}/Conv1_down/weight", _r(rng, 3, 3, c, nf(kw, res - 2))),
                    (f"{s}/Conv1_down/bias", _r(rng, nf(kw, res - 2), std=0.2))]
    c = nf(kw, 1)
    out += [("4x4/Conv/weight", _r(rng, 3, 3, c + 1, c)), ("4x4/Conv/bias", _r(rng, c, std=0.2)),
            ("4x4/Dense0/weight", _r(rng, c * 16, nf(kw, 0))), ("4x4/Dense0/bias", _r(rng, nf(kw, 0), std=0.2)),
            ("4x4/Dense1/weight", _r(rng, nf(kw, 0), 1)), ("4x4/Dense1/bias", _r(rng, 1, std=0.2))]
    return out


def tiny_kwargs(resolution: int, **over) -> dict:
    """Architecture kwargs of a tiny official-format model (few channels, distinct z and w sizes)."""
    kw = {"resolution": resolution, "num_channels": 3, "label_size": 0, "fmap_base": 128, "fmap_max": 16,
          "latent_size": 12, "dlatent_size": 10, "mapping_layers": 3, "mapping_fmaps": 14}
    kw.update(over)
    return kw


def generator(kw: dict, rng, name: str = "Gs", src: str = "def G_style(): pass\n") -> Network:
    """A G_style Network with mapping and synthesis components (their static_kwargs as train.py passes)."""
    arch = {k: v for k, v in kw.items() if k not in ("latent_size", "dlatent_size", "mapping_layers",
                                                     "mapping_fmaps")}
    mapping_kw = {**arch, "latent_size": kw["latent_size"], "dlatent_size": kw["dlatent_size"],
                  "mapping_layers": kw["mapping_layers"], "mapping_fmaps": kw["mapping_fmaps"],
                  "dlatent_broadcast": 2 * int(np.log2(kw["resolution"])) - 2}
    synthesis_kw = {**arch, "dlatent_size": kw["dlatent_size"]}
    comps = {"synthesis": Network("G_synthesis", "G_synthesis", synthesis_kw, synthesis_vars(kw, rng), src=src),
             "mapping": Network("G_mapping", "G_mapping", mapping_kw, mapping_vars(kw, rng), src=src)}
    own = [("lod", np.float32(0.0)), ("dlatent_avg", _r(rng, kw["dlatent_size"], std=0.5))]
    return Network(name, "G_style", {**arch, **{k: kw[k] for k in ("latent_size", "dlatent_size",
                                                                    "mapping_layers", "mapping_fmaps")}},
                   own, comps, src=src)


def snapshot(kw: dict, seed: int = 0, src: str = "def G_style(): pass\n") -> tuple:
    """(G, D, Gs) Networks with random weights, as a snapshot pickle holds them."""
    rng = np.random.default_rng(seed)
    G = generator(kw, rng, "G", src)
    d_kw = {k: kw[k] for k in ("resolution", "num_channels", "label_size", "fmap_base", "fmap_max")}
    D = Network("D", "D_basic", d_kw, discriminator_vars(kw, rng), src=src)
    return G, D, generator(kw, rng, "Gs", src)


def _legacy_reconstruct(*args):
    raise AssertionError("only pickled, never called")


def _legacy_scalar(*args):
    raise AssertionError("only pickled, never called")


class _LegacyPickler(pickle.Pickler):
    """Writes arrays the way numpy 1.x did in 2019: numpy.core.multiarray._reconstruct + BUILD."""

    def reducer_override(self, obj):
        if isinstance(obj, np.ndarray):
            return _legacy_reconstruct, (np.ndarray, (0,), b"b"), obj.__reduce__()[2]
        if isinstance(obj, np.generic):
            return _legacy_scalar, (obj.dtype, obj.tobytes())
        return NotImplemented


def dumps(obj, protocol: int = 4, legacy_numpy: bool = False) -> bytes:
    """Pickle bytes of `obj` with Networks under the official module path."""
    buf = io.BytesIO()
    with official_module_path():
        if legacy_numpy:
            mod = types.ModuleType("numpy.core.multiarray")
            mod._reconstruct, mod.scalar = _legacy_reconstruct, _legacy_scalar
            _legacy_reconstruct.__module__, _legacy_reconstruct.__qualname__ = "numpy.core.multiarray", "_reconstruct"
            _legacy_scalar.__module__, _legacy_scalar.__qualname__ = "numpy.core.multiarray", "scalar"
            saved = sys.modules.get("numpy.core.multiarray")
            sys.modules["numpy.core.multiarray"] = mod
            try:
                _LegacyPickler(buf, protocol=protocol).dump(obj)
            finally:
                if saved is None:
                    sys.modules.pop("numpy.core.multiarray", None)
                else:
                    sys.modules["numpy.core.multiarray"] = saved
        else:
            pickle.Pickler(buf, protocol=protocol).dump(obj)
    return buf.getvalue()


def write(path, obj, protocol: int = 4, legacy_numpy: bool = False):
    """Write `obj` as a pickle file; returns the path."""
    path.write_bytes(dumps(obj, protocol, legacy_numpy))
    return path
