"""Model files: safetensors tensors plus JSON config/provenance; never unpickles anything."""
from __future__ import annotations

import dataclasses
import datetime
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import save as st_save

from ..contract.errors import StudioError
from ..contract.modelconfig import ConfigError
from ..nets.api import GeneratorNet
from ..nets.registry import ARCHS, DEFAULT_ARCH, config_from_dict, generator_from_config
from .fileio import atomic_write_bytes, check_suffix

FORMAT = "stylegan-studio/model"
FORMAT_VERSION = 1


class ModelFileError(StudioError):
    """A model file that cannot be read or written; the message is one plain line."""


@dataclass(frozen=True)
class ModelMeta:
    """Provenance stored in a model file."""

    model_id: str = ""
    name: str = ""
    created: str = ""
    source: str = ""
    kimg: float = 0.0
    dataset: str = ""
    seed: int | None = None
    imported: dict = field(default_factory=dict)  # for an imported official pickle: file, sha256, static_kwargs
    blend: dict = field(default_factory=dict)     # for a blend of two models: both parents and the weights (nets/blend.py)
    grown: tuple | None = None  # (resolution, fade-in alpha) of a snapshot taken while growing: renders show that


def _model_id(tensors: dict[str, torch.Tensor]) -> str:
    h = hashlib.sha256()
    for key in sorted(tensors):
        h.update(key.encode())
        # reshape: a 0-d tensor (StyleGAN2's noise_strength) cannot be viewed as bytes; same bytes for the rest
        h.update(tensors[key].contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()[:12]


def save_model(G: GeneratorNet, path: str | Path, meta: ModelMeta | None = None, half: bool = False) -> ModelMeta:
    """Write G (config, weights, w_avg, stored noise) atomically; returns the stored provenance.

    The growing phase recorded is `meta.grown` (a trainer's G_ema, which renders at explicit phases), else G's own.
    """
    check_suffix(path, ".safetensors")
    dtype = torch.float16 if half else torch.float32
    if G.has_input_transform:  # a render's translate/rotate is state on G (NVIDIA's buffer); the file keeps the input as trained
        G.set_input_transform(0.0, 0.0, 0.0)
    tensors = {k: v.detach().to("cpu", dtype).contiguous() for k, v in G.state_dict().items()}
    meta = meta or ModelMeta()
    meta = dataclasses.replace(
        meta, model_id=_model_id(tensors), name=meta.name or Path(path).stem,
        grown=meta.grown or getattr(G, "grown", None),
        created=meta.created or datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"))
    header = {"format": FORMAT, "format_version": str(FORMAT_VERSION), "arch": G.arch,
              "config": json.dumps(G.cfg.to_dict()), "meta": json.dumps(dataclasses.asdict(meta))}
    try:
        atomic_write_bytes(path, st_save(tensors, metadata=header))
    except OSError as exc:
        raise ModelFileError(str(exc)) from None
    return meta


def read_header(path: str | Path) -> tuple[object, ModelMeta]:
    """Config (of the file's architecture) and provenance of a model file without loading its weights."""
    return _header(path)[1:]


def _header(path: str | Path) -> tuple[str, object, ModelMeta]:
    """(arch, config, provenance) of a model file; a file without `arch` predates the registry: StyleGAN v1."""
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"{path}: no such model file")
    try:
        with safe_open(str(path), framework="pt") as f:
            header = f.metadata() or {}
    except Exception as exc:  # safetensors raises its own error types for bad headers
        raise ModelFileError(f"{path}: not a readable model file ({_short(exc)})") from None
    if header.get("format") != FORMAT:
        raise ModelFileError(f"{path}: not a stylegan-studio model file")
    if header.get("format_version") != str(FORMAT_VERSION):
        raise ModelFileError(f"{path}: model format version {_short(header.get('format_version'))[:40]} is not supported "
                             f"(this studio reads version {FORMAT_VERSION})")
    arch = header.get("arch", DEFAULT_ARCH)
    if arch not in ARCHS:
        raise ModelFileError(f"{path}: a {_short(arch)[:40]} model, an architecture this studio cannot open "
                             f"(it opens {', '.join(ARCHS)})")
    try:
        cfg = config_from_dict(arch, json.loads(header["config"]))
        meta = _meta(json.loads(header["meta"]))
    except (KeyError, TypeError, ValueError, ConfigError, RecursionError) as exc:  # JSON nested thousands deep
        raise ModelFileError(f"{path}: damaged model header ({_short(exc)})") from None
    return arch, cfg, meta


def _meta(data: dict) -> ModelMeta:
    """ModelMeta from the header, ignoring keys a newer studio may have added."""
    if not isinstance(data, dict):
        raise TypeError("meta is not a JSON object")
    known = {f.name for f in dataclasses.fields(ModelMeta)}
    return ModelMeta(**{k: v for k, v in data.items() if k in known})


def load_model(path: str | Path, device: torch.device | str = "cpu") -> tuple[GeneratorNet, ModelMeta]:
    """Read a model file into an eval-mode float32 generator (of the file's architecture) on `device`."""
    arch, cfg, meta = _header(path)
    with torch.device("meta"):  # shapes only: a header must not make us allocate what the file does not hold
        expected = {k: tuple(v.shape) for k, v in generator_from_config(arch, cfg.to_dict()).state_dict().items()}
    try:
        with safe_open(str(path), framework="pt") as f:
            declared = {k: tuple(f.get_slice(k).get_shape()) for k in f.keys()}
            if declared != expected:
                raise ModelFileError(f"{path}: weights do not match the model config ({_mismatch(declared, expected)})")
            tensors = {k: f.get_tensor(k).float() for k in f.keys()}
    except ModelFileError:
        raise
    except Exception as exc:
        raise ModelFileError(f"{path}: damaged or truncated model file ({_short(exc)})") from None
    G = generator_from_config(arch, cfg.to_dict())
    try:
        G.load_state_dict(tensors, strict=True)
    except RuntimeError as exc:
        raise ModelFileError(f"{path}: weights do not match the model config ({_short(exc)})") from None
    if not all(torch.isfinite(t).all() for t in tensors.values()):
        raise ModelFileError(f"{path}: the model holds non-finite weights")
    if meta.grown is not None:
        meta = dataclasses.replace(meta, grown=_set_grown(G, meta.grown, path))
    return G.to(device).eval().requires_grad_(False), meta


def _set_grown(G: GeneratorNet, phase, path) -> tuple[int, float] | None:
    """Give G the growing phase its file names (a snapshot taken mid-growth); one line when it cannot be one."""
    if not isinstance(getattr(type(G), "grown", None), property):
        raise ModelFileError(f"{path}: damaged model header (a growing phase on a {G.arch} model, which does not grow)")
    try:
        if len(phase) != 2:
            raise ValueError(f"{_short(phase)[:40]} is not (resolution, alpha)")
        G.grown = phase
    except (TypeError, ValueError, OverflowError, KeyError, IndexError) as exc:
        raise ModelFileError(f"{path}: damaged model header ({_short(exc)})") from None
    return G.grown


def _mismatch(declared: dict, expected: dict) -> str:
    """The first difference between the file's tensors and the config's, in a few words."""
    missing, extra = sorted(set(expected) - set(declared)), sorted(set(declared) - set(expected))
    if missing or extra:
        return f"missing {missing[0]}" if missing else f"unexpected {extra[0]}"
    key = next(k for k in sorted(expected) if declared[k] != expected[k])
    return _short(f"{key} is {list(declared[key])}, the config needs {list(expected[key])}")


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 160 else text[:157] + "..."
