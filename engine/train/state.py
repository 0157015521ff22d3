"""Run directories (config, stats, fakes, snapshots) and the training-state file format (no pickle).

TrainingRun.save_state/load_state decide what a state holds; this module only writes and reads the file,
so it never imports the trainer."""
from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import save as st_save

from ..contract.errors import StudioError, UserError
from ..contract.messages import TickStats
from ..files.dataset import decode
from ..files.fileio import WriteError, append_line, atomic_write_bytes, stale_temps
from ..files.modelfile import ModelMeta, read_header, save_model
from ..files.pngio import save_png
from ..contract.training import RUN_CONFIG, TrainConfig, absolute_paths, holds_run, resume_options

STATE_FORMAT = "stylegan-studio/train-state"
# An export folder is copied back from a lent GPU machine: at most 8 files of 16 MiB, 64 MiB together
# (docs/gpu-training.md). Its model file is stored fp16 above the file limit; the resume kit gets three parts.
EXPORT_FILE_BYTES = 16 << 20
KIT_PART_BYTES = 15 << 20
KIT_PARTS = 3


# Settings a resumed run may change; the architecture, data and schedule stay as they were.
RESUME_OVERRIDES = resume_options()


class RunFiles:
    """Names and bookkeeping of the files in one run directory."""

    def __init__(self, root: Path, export: Path | None = None) -> None:
        self.root = root
        self.export = export  # a folder receiving copies of the newest model, fakes, stats and resume kit
        if export is not None:
            try:
                export.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise UserError(f"cannot create {export}: {exc.strerror}") from None

    def start(self, cfg: TrainConfig, write: bool) -> None:
        """Create the run directory and write its config (refuses to overwrite another run)."""
        if not write:
            return
        if holds_run(str(self.root)):
            raise UserError(f"{self.root} already holds a run; use --resume to continue it or pick a new --out")
        try:
            (self.root / "fakes").mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UserError(f"cannot create {self.root}: {exc.strerror}") from None
        self.remove_temps()  # a start killed before its config was written leaves the config's temporary file
        atomic_write_bytes(self.root / RUN_CONFIG, json.dumps(cfg.to_dict(), indent=2).encode())

    def resumed_config(self, total_kimg: float | None, overrides: dict | None = None) -> TrainConfig:
        """The run's stored config, made longer when `total_kimg` exceeds its length, with `overrides` applied.

        Overrides (e.g. a new R1 weight or learning rate) are written back to config.json, so the run
        directory always states the settings it continues with.
        """
        path = self.root / RUN_CONFIG
        if not path.is_file():
            raise UserError(f"{self.root}: not a run directory (no config.json)")
        try:
            stored = TrainConfig.from_dict(json.loads(path.read_text()))
        except (OSError, ValueError, AttributeError) as exc:  # unreadable, not UTF-8, not JSON, not an object
            raise UserError(f"{path}: damaged run config ({' '.join(str(exc).split())[:120]})") from None
        changes = {k: v for k, v in (overrides or {}).items() if k in RESUME_OVERRIDES}
        changes.update(absolute_paths(changes))   # a moved dataset, as the run's own paths, from anywhere
        if total_kimg is not None and total_kimg > stored.total_kimg:
            changes["total_kimg"] = total_kimg
        cfg = TrainConfig.from_dict({**stored.to_dict(), **changes})
        if cfg != stored:
            atomic_write_bytes(path, json.dumps(cfg.to_dict(), indent=2).encode())
        return cfg

    def state_path(self, tick: int) -> Path:
        return self.root / f"state-{tick:06d}.safetensors"

    def model_path(self, tick: int) -> Path:
        return self.root / f"snapshot-{tick:06d}.safetensors"

    def fakes_path(self, tick: int) -> Path:
        return self.root / "fakes" / f"fakes-{tick:06d}.png"

    def _ticks(self, prefix: str) -> list[int]:
        return sorted(int(m.group(1)) for p in self.root.glob(f"{prefix}-*.safetensors")
                      if (m := re.fullmatch(rf"{prefix}-(\d+)\.safetensors", p.name)))

    def snapshot_paths(self) -> list[Path]:
        """The snapshots in the folder now, oldest first (pruning keeps the newest few)."""
        return [self.model_path(t) for t in self._ticks("snapshot")]

    def latest_state(self) -> Path | None:
        """The newest full training state, or None."""
        ticks = self._ticks("state")
        return self.state_path(ticks[-1]) if ticks else None

    def states(self) -> list[Path]:
        """Full training states, newest first."""
        return [self.state_path(t) for t in reversed(self._ticks("state"))]

    def remove_temps(self) -> list[str]:
        """Delete what writes cut short by a kill or a power cut left (their final files were never replaced)."""
        found = stale_temps(self.root) + stale_temps(self.root / "fakes")
        for p in found:
            p.unlink(missing_ok=True)
        return [p.name for p in found]

    def snapshots(self) -> list[Path]:
        """Model snapshots, oldest first."""
        return [self.model_path(t) for t in self._ticks("snapshot")]

    def snapshots_upto(self, tick: int) -> list[tuple[Path, float]]:
        """(snapshot, its kimg) written up to `tick`, oldest first; unreadable ones are left out."""
        found = []
        for t in (t for t in self._ticks("snapshot") if t <= tick):  # later ones: written by a killed run
            try:
                found.append((self.model_path(t), read_header(self.model_path(t))[1].kimg))
            except StudioError:
                continue
        return found

    def write_model(self, run) -> Path:
        """The G_ema model file for the current tick."""
        path = self.model_path(run.tick)
        source = f"training run {self.root}" + (f", started from {run.cfg.init} ({run.cfg.init_id})"
                                                if run.cfg.init else "")
        meta = ModelMeta(name=f"{self.root.name}-{run.tick:06d}", source=source,
                         kimg=round(run.kimg, 3), dataset=run.cfg.data, seed=run.cfg.seed, grown=run.growth())
        save_model(run.G_ema, path, meta)
        if self.export is not None:
            big = sum(t.numel() * 4 for t in run.G_ema.state_dict().values()) > EXPORT_FILE_BYTES - (64 << 10)
            save_model(run.G_ema, self.export / "G_ema.safetensors", meta, half=big)
        return path

    def write_fakes(self, tick: int, grid, provenance: dict) -> None:
        """The tick's fakes grid (and the export's newest, fakes.png)."""
        path = self.fakes_path(tick)
        try:  # a resumed run directory copied or pruned without its fakes folder
            path.parent.mkdir(exist_ok=True)
        except OSError as exc:
            raise UserError(f"cannot create {path.parent}: {exc.strerror}") from None
        save_png(path, grid, provenance)
        if self.export is not None:
            save_png(self.export / "fakes.png", grid, provenance)

    def append_stats(self, stats: TickStats, extra: dict | None = None) -> None:
        """One JSON line per tick: its TickStats and `extra` figures (e.g. diversity)."""
        line = json.dumps({**stats.__dict__, **(extra or {})})
        for folder in (self.root, self.export):
            if folder is not None:
                append_line(folder / "stats.jsonl", line)

    def export_kit(self, tensors: dict, meta: dict, compact: bool = False) -> str:
        """Write the resume kit into the export folder; returns what it holds ('' when nothing fits).

        The full state when it fits KIT_PARTS files of KIT_PART_BYTES (an exact resume) and `compact` is
        off; else G, D and G_ema in fp16 without Adam's moments (the resume starts Adam afresh, as a
        resolution change does).
        """
        for kind, kit in list(_kit_choices(tensors))[int(compact):]:
            parts = _pack(kit, KIT_PART_BYTES - (64 << 10))  # room for each part's header
            if len(parts) <= KIT_PARTS:
                break
        else:
            return ""
        for i, names in enumerate(parts):
            write_state(self.export / f"resume-{i}.safetensors", {k: kit[k] for k in names},
                        {**meta, "kit": kind, "part": str(i), "parts": str(len(parts))})
        for stale in self.export.glob("resume-*.safetensors"):  # parts of an earlier, larger kit
            if stale.name not in {f"resume-{i}.safetensors" for i in range(len(parts))}:
                stale.unlink(missing_ok=True)
        return kind

    def append_metric(self, record: dict) -> None:
        """One JSON line per quality measurement (metrics.jsonl)."""
        append_line(self.root / "metrics.jsonl", json.dumps(record))

    def history(self, upto_kimg: float) -> tuple[list[TickStats], list[tuple[float, str, float]]]:
        """Ticks (stats.jsonl) and measurements (kimg, name, value) up to `upto_kimg`; damaged lines are skipped.

        The measurements are metrics.jsonl's and each tick's diversity figure (a figure of stats.jsonl).
        Lines past `upto_kimg` were written after the state being resumed (a killed run): they are not history.
        """
        names = [f.name for f in dataclasses.fields(TickStats)]
        # older runs' lines lack the fields with defaults (the augmentation figures)
        needed = [f.name for f in dataclasses.fields(TickStats) if f.default is dataclasses.MISSING]
        records = [r for r in _records(self.root / "stats.jsonl")
                   if set(needed) <= r.keys() and _kimg(r) <= upto_kimg + 1e-6]
        ticks = [TickStats(**{n: r[n] for n in names if n in r}) for r in records]
        metrics = [(float(r["kimg"]), "diversity", float(r["diversity"])) for r in records
                   if isinstance(r.get("diversity"), (int, float))]
        for r in _records(self.root / "metrics.jsonl"):
            found = [k for k in r if k not in ("tick", "kimg", "seconds")]
            if found and _kimg(r) <= upto_kimg + 1e-6 and isinstance(r[found[0]], (int, float)):
                metrics.append((float(r["kimg"]), found[0], float(r[found[0]])))
        return ticks, metrics

    def fakes_ticks(self) -> list[int]:
        """Ticks with a fakes grid on disk, oldest first."""
        return sorted(int(m.group(1)) for p in (self.root / "fakes").glob("fakes-*.png")
                      if (m := re.fullmatch(r"fakes-(\d+)\.png", p.name)))

    def read_fakes(self, tick: int) -> np.ndarray | None:
        """A tick's fakes grid as uint8 [H, W, 3], or None when it cannot be read."""
        try:
            return np.asarray(decode(self.fakes_path(tick).read_bytes()))
        except Exception:  # a damaged preview is passed over: the run itself does not need it
            return None

    def latest_fakes(self, upto_tick: int) -> np.ndarray | None:
        """The newest fakes grid written up to `upto_tick` as uint8 [H, W, 3], or None (none, or unreadable)."""
        for tick in reversed([t for t in self.fakes_ticks() if t <= upto_tick]):
            grid = self.read_fakes(tick)
            if grid is not None:
                return grid
        return None

    def prune(self, keep: int) -> None:
        """Keep the newest `keep` states and snapshots."""
        for prefix in ("state", "snapshot"):
            for tick in self._ticks(prefix)[:-keep]:
                (self.root / f"{prefix}-{tick:06d}.safetensors").unlink(missing_ok=True)


def _kit_choices(tensors: dict):
    """('full', the whole state), then ('weights-fp16', G, D and G_ema in fp16 and the random stream)."""
    yield "full", tensors
    yield "weights-fp16", {k: (v.half() if v.is_floating_point() else v) for k, v in tensors.items()
                           if k.split(".", 1)[0] in ("G", "D", "G_ema") or k == "gen_state"}


def _pack(tensors: dict, limit: int) -> list[list[str]]:
    """Tensor names grouped, in order, into parts of at most `limit` bytes (a larger tensor gets a part alone)."""
    parts, size = [[]], 0
    for k, t in tensors.items():
        n = t.numel() * t.element_size()
        if parts[-1] and size + n > limit:
            parts.append([])
            size = 0
        parts[-1].append(k)
        size += n
    return parts


def read_kit(kit: Path) -> tuple[dict, dict]:
    """(meta, tensors) of an export folder's resume kit, its parts joined; a missing or mixed part is one line."""
    paths = sorted(kit.glob("resume-*.safetensors"))
    if not paths:
        raise UserError(f"{kit}: no resume kit (resume-0.safetensors …)")
    tensors, meta = {}, None
    for p in paths:
        m, t = read_state(p)
        tensors.update(t)
        meta = meta or m
        if m.get("counters") != meta.get("counters"):  # a write cut short between two parts
            raise UserError(f"{kit}: the resume kit's parts come from different snapshots ({p.name})")
    if int(meta.get("parts", "0")) != len(paths):
        raise UserError(f"{kit}: the resume kit has {len(paths)} of its {meta.get('parts')} parts")
    return meta, tensors


def import_kit(kit: Path, run_dir: Path) -> Path:
    """Turn an export folder's resume kit into a run directory that `train --resume` continues; returns the state.

    A 'weights-fp16' kit has no Adam moments: the resumed run starts Adam afresh.
    """
    meta, tensors = read_kit(kit)
    if meta.get("kit") == "weights-fp16":
        meta = {**meta, "opt": json.dumps({n: {**v, "indices": []} for n, v in json.loads(meta["opt"]).items()})}
    if holds_run(str(run_dir)):
        raise UserError(f"{run_dir} already holds a run; give a new folder for the resumed one")
    (run_dir / "fakes").mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(run_dir / RUN_CONFIG, json.dumps(json.loads(meta["config"]), indent=2).encode())
    counters = json.loads(meta["counters"])
    _write_stats_upto(kit / "stats.jsonl", run_dir / "stats.jsonl", counters["nimg"] / 1000)
    tick = counters["tick"]
    path = RunFiles(run_dir).state_path(tick)
    keep = {k: v for k, v in meta.items() if k not in ("format", "version", "kit", "part", "parts")}
    write_state(path, tensors, keep)
    return path


def kit_from_state(state: Path, folder: Path, compact: bool = True) -> str:
    """Write the resume kit of a run's state file (and its stats up to it) into `folder`; returns its kind."""
    meta, tensors = read_state(state)
    folder.mkdir(parents=True, exist_ok=True)
    kind = RunFiles(state.parent, folder).export_kit(tensors, meta, compact=compact)
    _write_stats_upto(state.parent / "stats.jsonl", folder / "stats.jsonl", json.loads(meta["counters"])["nimg"] / 1000)
    return kind


def copy_kit(kit: Path, folder: Path) -> dict:
    """Copy an export folder's resume kit (its parts, checked whole, and the stats up to it) into `folder`.

    Returns the kit's metadata (its kind, counters …). The parts are copied byte for byte: a full kit stays an
    exact resume.
    """
    meta, _ = read_kit(kit)
    folder.mkdir(parents=True, exist_ok=True)
    for part in sorted(kit.glob("resume-*.safetensors")):
        atomic_write_bytes(folder / part.name, part.read_bytes())
    _write_stats_upto(kit / "stats.jsonl", folder / "stats.jsonl", json.loads(meta["counters"])["nimg"] / 1000)
    return meta


def _write_stats_upto(src: Path, dst: Path, kimg: float) -> None:
    """The ticks of `src` up to `kimg` into `dst` (not those a run logged after its kit's snapshot)."""
    ticks = [r for r in _records(src) if _kimg(r) <= kimg + 1e-6]
    atomic_write_bytes(dst, "".join(json.dumps(r) + "\n" for r in ticks).encode())


def opt_tensors(opt: torch.optim.Optimizer, name: str) -> tuple[dict, dict]:
    """An optimizer's state as flat tensors `name.index.key`, and the JSON rest (param groups, indices)."""
    sd = opt.state_dict()
    tensors = {}
    for idx, st in sd["state"].items():
        for k, v in st.items():
            tensors[f"{name}.{idx}.{k}"] = torch.as_tensor(v).detach().clone()
    return tensors, {"param_groups": sd["param_groups"], "indices": sorted(sd["state"])}


def restore_opt(opt: torch.optim.Optimizer, name: str, meta: dict, tensors: dict) -> None:
    """Load what `opt_tensors` stored back into `opt`."""
    state = {}
    for idx in meta["indices"]:
        prefix = f"{name}.{idx}."
        state[idx] = {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}
    opt.load_state_dict({"state": state, "param_groups": meta["param_groups"]})


def module_tensors(tensors: dict, name: str) -> dict:
    """The state dict stored under `name.` (G, D or G_ema)."""
    return {k[len(name) + 1:]: v for k, v in tensors.items() if k.startswith(name + ".")}


def write_state(path: Path, tensors: dict, meta: dict) -> None:
    """Write a training state atomically: `tensors` and JSON-string `meta` under our format tag."""
    tensors = {k: v.detach().contiguous().cpu() for k, v in tensors.items()}
    meta = {"format": STATE_FORMAT, "version": "1", **meta}
    try:
        atomic_write_bytes(path, st_save(tensors, metadata=meta))
    except WriteError as exc:
        earlier = any(p != path for p in path.parent.glob("state-*.safetensors"))
        raise UserError(f"{exc} ({'the previous snapshot is intact' if earlier else 'no snapshot was saved yet'})"
                        ) from None


def is_state_file(path: Path) -> bool:
    """Whether `path` is one of our training state files (by its header; nothing else is read)."""
    try:
        with safe_open(str(path), framework="pt") as f:
            return (f.metadata() or {}).get("format") == STATE_FORMAT
    except Exception:  # not a safetensors file at all: safetensors raises its own error types
        return False


def read_state(path: Path) -> tuple[dict, dict]:
    """(meta, tensors) of a training state file; a damaged or foreign file is one UserError line."""
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
            tensors = {k: f.get_tensor(k) for k in f.keys()}
    except Exception as exc:
        raise UserError(f"{path}: damaged training state ({str(exc)[:120]})") from None
    if meta.get("format") != STATE_FORMAT:
        raise UserError(f"{path}: not a stylegan-studio training state")
    return meta, tensors


def _records(path: Path) -> list[dict]:
    """The JSON objects of a .jsonl file; a damaged or partial line (a killed write) is skipped."""
    out = []
    try:
        lines = path.read_text().splitlines() if path.exists() else []
    except (OSError, UnicodeDecodeError):
        return []
    for line in lines:
        try:
            r = json.loads(line)
        except ValueError:
            continue
        if isinstance(r, dict):
            out.append(r)
    return out


def _kimg(record: dict) -> float:
    k = record.get("kimg")
    return float(k) if isinstance(k, (int, float)) else float("inf")
