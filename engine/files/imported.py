"""Official pickles as studio model files: the `import` conversion and the window's cache.

Two kinds of .pkl open: NVIDIA's TensorFlow StyleGAN v1 pickles (files/official.py) and the PyTorch training
snapshots of stylegan2-ada-pytorch and stylegan3 (files/persist.py). Both are read without running anything
in the file, converted once, and cached as a model file; `open_model` is the one place that does it.
"""
from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors.torch import save as st_save

from ..contract.errors import StudioError, UserError
from ..nets.api import GeneratorNet
from ..nets.registry import arch_of
from ..nets.stylegan2_config import Stylegan2Config, with_discriminator
from ..nets.nvidia import discriminator_from_nvidia, generator_from_nvidia
from .fileio import atomic_write_bytes, cache_root, make_dir
from .modelfile import ModelFileError, ModelMeta, load_model, read_header, save_model
from .official import OfficialModels, load_official, snapshot_kimg
from .persist import NetworkRecord, Snapshot, pickle_kind, read_snapshot
from .tfpickle import file_sha256

CONVERTER_VERSION = 2  # part of the cache key: a fixed conversion never reuses an older cache entry (2: lod)
PYTORCH_CONVERTER_VERSION = 1  # the same for StyleGAN2-ADA / StyleGAN3 snapshots
D_FORMAT = "stylegan-studio-discriminator"  # header of the kept D (a later fine-tune's starting point)


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
    pytorch = pickle_kind(pkl) == "pytorch"
    sha = file_sha256(pkl)
    version = f"pt{PYTORCH_CONVERTER_VERSION}" if pytorch else CONVERTER_VERSION
    target = cache_dir() / f"{sha[:32]}-v{version}.safetensors"
    if target.is_file():
        try:
            _, meta = read_header(target)
            note = meta.imported.get("source_note")
            return target, f"Opened {pkl.name} from its cached conversion ({target})" + (f"; note: {note}" if note else "")
        except ModelFileError:
            pass  # a damaged cache entry is simply converted again
    make_dir(target.parent)
    if pytorch:
        meta = convert_snapshot(read_snapshot(pkl, sha=sha), target)
        note = meta.imported.get("source_note")
        return target, (f"Converted the {meta.imported['network']} pickle {pkl.name} once; cached as {target}"
                        + (f"; note: {note}" if note else ""))
    models, _ = import_to_file(pkl, target, sha=sha)
    notes = "".join(f"; note: {n}" for n in models.notes)
    return target, f"Converted the official StyleGAN pickle {pkl.name} once; cached as {target}{notes}"


def _json_ready(value):
    """init kwargs as plain JSON (the reader gives dicts, lists, numbers, strings; anything else as its repr)."""
    return json.loads(json.dumps(value, default=repr))


def _network(rec: NetworkRecord, build):
    """Our network from a snapshot record, with the record named in any one-line refusal."""
    try:
        return build(rec.module, rec.class_name, rec.init_kwargs, rec.state)
    except StudioError as exc:
        raise UserError(f"{rec.key} ({rec.name}): {exc}") from None


def snapshot_model(snap: Snapshot) -> tuple[GeneratorNet, ModelMeta]:
    """(G_ema, provenance) of a StyleGAN2-ADA / StyleGAN3 snapshot, built in memory (nothing written)."""
    g = snap.generator
    record = {"file": snap.file, "sha256": snap.sha256, "network": g.name, "format": "pytorch",
              "init_kwargs": _json_ready(g.init_kwargs), "source_sha256": g.source_sha256,
              "source_release": g.source_release, "source_note": snap.source_note or "", "kept": {},
              "training_set_kwargs": _json_ready(snap.extras.get("training_set_kwargs"))}
    meta = ModelMeta(name=Path(snap.file).stem, source=f"imported {snap.file} ({g.name})",
                     kimg=snapshot_kimg(Path(snap.file)), imported=record)
    return _network(g, generator_from_nvidia), meta


def snapshot_config(snap: Snapshot, cfg):
    """G's config with the discriminator fields of the snapshot's own D, where the config has them (StyleGAN2):
    what `info` prints (a G-only model file keeps the defaults, which describe no D)."""
    d = snap.networks.get("D")
    if d is None or not isinstance(cfg, Stylegan2Config):
        return cfg
    try:
        return with_discriminator(cfg, d.module, d.init_kwargs)
    except StudioError:  # a D that does not fit G's config: its own kwargs are printed above the config
        return cfg


def snapshot_networks(snap: Snapshot) -> tuple[GeneratorNet, ModelMeta, GeneratorNet | None, torch.nn.Module | None]:
    """(G_ema, its provenance, G or None, D or None) of a StyleGAN2-ADA / StyleGAN3 snapshot.

    G is None where the snapshot holds only one generator (then it is G_ema), D where it holds no D.
    """
    G_ema, meta = snapshot_model(snap)
    G = None
    if snap.generator.key == "G_ema" and "G" in snap.networks:
        G = _network(snap.networks["G"], generator_from_nvidia)
    D = _network(snap.networks["D"], discriminator_from_nvidia) if "D" in snap.networks else None
    return G_ema, meta, G, D


def convert_snapshot(snap: Snapshot, target: Path) -> ModelMeta:
    """Write a StyleGAN2-ADA / StyleGAN3 snapshot's G_ema as a model file at `target`, and keep its G and D beside it.

    The kept networks (`target` with .G / .D before the suffix) record what the snapshot held besides G_ema;
    their names are in the model file's provenance (a fine-tune reads the .pkl itself).
    """
    G_ema, meta, G, D = snapshot_networks(snap)
    kept = meta.imported["kept"]
    if G is not None:
        path = target.with_name(target.stem + ".G.safetensors")
        save_model(G, path, ModelMeta(name=f"{Path(snap.file).stem} G", source=f"imported {snap.file} (G)"))
        kept["G"] = path.name
    if D is not None:
        rec = snap.networks["D"]
        path = target.with_name(target.stem + ".D.safetensors")
        save_discriminator(D, path, {"file": snap.file, "sha256": snap.sha256, "network": rec.name,
                                     "init_kwargs": _json_ready(rec.init_kwargs)})
        kept["D"] = path.name
    return save_model(G_ema, target, meta)


def save_discriminator(D: torch.nn.Module, path: Path, record: dict) -> None:
    """Write D's weights with its config and where it came from, atomically (read back only to fine-tune)."""
    tensors = {k: v.detach().to("cpu", torch.float32).contiguous() for k, v in D.state_dict().items()}
    header = {"format": D_FORMAT, "arch": arch_of(D.cfg), "config": json.dumps(D.cfg.to_dict()), "record": json.dumps(record)}
    try:
        atomic_write_bytes(path, st_save(tensors, metadata=header))
    except OSError as exc:
        raise ModelFileError(str(exc)) from None


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
    if record.get("format") == "pytorch":
        return _describe_pytorch(record)
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


def _describe_pytorch(record: dict) -> list[str]:
    """Lines describing the import of a StyleGAN2-ADA / StyleGAN3 snapshot."""
    kw = record.get("init_kwargs") or {}
    source = (f"NVIDIA's release ({record['source_release']})" if record.get("source_release")
              else "differs from NVIDIA's releases (not run; opened with the standard architecture)")
    lines = [f"imported  {record.get('file', '?')} ({record.get('network', '?')})",
             f"sha256    {record.get('sha256', '?')}",
             f"source    {source}",
             "init_kwargs  " + (", ".join(f"{k}={json.dumps(v)}" for k, v in sorted(kw.items())) or "(none)")]
    kept = record.get("kept") or {}
    if kept:
        lines.append("kept      " + ", ".join(f"{k} in {v}" for k, v in sorted(kept.items()))
                     + " (train --init reads G and D from the .pkl itself)")
    return lines
