"""Official StyleGAN v1 pickles as studio model files: the `import` conversion and the window's cache."""
from __future__ import annotations

from pathlib import Path

from ..nets.api import GeneratorNet
from .fileio import cache_root, make_dir
from .modelfile import ModelFileError, ModelMeta, load_model, read_header, save_model
from .official import OfficialModels, load_official, snapshot_kimg
from .tfpickle import file_sha256

CONVERTER_VERSION = 1  # part of the cache key: a fixed conversion never reuses an older cache entry


def is_official_pickle(path: str | Path) -> bool:
    """True for a path the studio treats as an official pickle (by its .pkl suffix)."""
    return Path(path).suffix.lower() == ".pkl"


def import_to_file(pkl: str | Path, out: str | Path, half: bool = False,
                   sha: str | None = None) -> tuple[OfficialModels, ModelMeta]:
    """Convert the pickle's Gs and write it as a model file whose provenance names the source."""
    pkl = Path(pkl)
    models = load_official(pkl, sha=sha)
    meta = ModelMeta(name=pkl.stem, source=f"imported {pkl.name} ({models.record['network']})",
                     kimg=snapshot_kimg(pkl), imported=models.record)
    return models, save_model(models.G_ema, out, meta, half=half)


def cache_dir() -> Path:
    """Where converted pickles are kept (beside the dataset cache)."""
    return cache_root() / "imported"


def cached_conversion(pkl: str | Path) -> tuple[Path, str]:
    """(model file, notice) for an official pickle, converting it only the first time it is opened."""
    pkl = Path(pkl)
    sha = file_sha256(pkl)
    target = cache_dir() / f"{sha[:32]}-v{CONVERTER_VERSION}.safetensors"
    if target.is_file():
        try:
            read_header(target)
            return target, f"Opened {pkl.name} from its cached conversion ({target})"
        except ModelFileError:
            pass  # a damaged cache entry is simply converted again
    make_dir(target.parent)
    models, _ = import_to_file(pkl, target, sha=sha)
    notes = "".join(f"; note: {n}" for n in models.notes)
    return target, f"Converted the official StyleGAN pickle {pkl.name} once; cached as {target}{notes}"


def open_model(path: str | Path, device="cpu") -> tuple[GeneratorNet, ModelMeta, str]:
    """(G, provenance, notice) of a model file or an official .pkl (converted once, then read from the cache).

    The notice says what happened to a pickle ("" for a model file); it is for the user, once.
    """
    source, notice = path, ""
    if is_official_pickle(path):
        source, notice = cached_conversion(path)
    G, meta = load_model(source, device)
    return G, meta, notice


def describe_import(record: dict) -> list[str]:
    """Lines describing an import record, for `import` and `info`."""
    kw = record.get("static_kwargs", {})
    lines = [f"imported  {record.get('file', '?')} ({record.get('network', '?')})",
             f"sha256    {record.get('sha256', '?')}",
             f"official  truncation ψ {record.get('truncation_psi')}, cutoff {record.get('truncation_cutoff')} "
             "(NVIDIA's examples: --psi 0.7 --cutoff 8)",
             "static_kwargs  " + (", ".join(f"{k}={v}" for k, v in sorted(kw.items())) or "(none)")]
    for name, comp in sorted(record.get("components", {}).items()):
        lines.append(f"  {name:<12} " + (", ".join(f"{k}={v}" for k, v in sorted(comp.items())) or "(none)"))
    if record.get("lod"):
        lines.append(f"lod       {record['lod']:g} (snapshot taken while growing)")
    return lines
