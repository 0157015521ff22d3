"""What a model is, in words: the `info` command's text and the window's Model Info, from one place."""
from __future__ import annotations

from pathlib import Path

import torch

from ..contract.latents import layer_ranges
from ..contract.modelconfig import ARCH_NAMES
from ..files.imported import describe_import, is_official_pickle, snapshot_config, snapshot_model
from ..files.modelfile import ModelMeta, load_model
from ..files.official import load_official
from ..files.persist import describe_snapshot, pickle_kind, read_snapshot
from ..nets.api import GeneratorNet
from ..nets.blend import describe_blend
from ..nets.device import default_device
from ..nets.registry import can_train, new_discriminator
from ..train.warmstart import fresh_d_config

CARD_MAX_BYTES = 256 * 1024  # a model card is a page of prose; anything larger is not one


def count(module: torch.nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in module.parameters())


def layer_table(G: GeneratorNet) -> list[str]:
    """Rows 'layer  res  styles  group' for every ws (styles: the values its affine makes from w)."""
    groups = {i: name for name, idx in layer_ranges(G.ws_resolutions).items() for i in idx}
    rows = [f"  {'layer':>5}  {'res':>5}  {'styles':>8}  group"]
    for i in range(G.num_ws):
        rows.append(f"  {i:>5}  {G.ws_labels[i]:>5}  {G.style_weights(i).shape[0]:>8}  {groups[i]}")
    return rows


def grown_line(grown: tuple[int, float]) -> str:
    """The info line of a snapshot taken while growing."""
    fade = f", fading in {grown[1]:.2f}" if grown[1] < 1 else ""
    return f"growing   taken at {grown[0]}²{fade}: renders show that resolution, enlarged"


def describe(G: GeneratorNet, meta: ModelMeta, cfg, path: str = "") -> list[str]:
    """Provenance, config, parameter counts and the layer table of G (`cfg`: the config to list)."""
    lines = [f"model     {path or '(not saved)'}", f"arch      {ARCH_NAMES.get(G.arch, G.arch)}",
             f"id        {meta.model_id or '-'}", f"name      {meta.name or '-'}", f"created   {meta.created or '-'}",
             f"source    {meta.source or '-'}", f"kimg      {meta.kimg:g}",
             *([grown_line(meta.grown)] if meta.grown else []), f"dataset   {meta.dataset or '-'}", "config"]
    keys = cfg.to_dict()
    # a pickle's D as its kwargs give it; a model file holds none: the D a fine-tune of it would build
    d_cfg = cfg if path and is_official_pickle(path) else fresh_d_config(cfg)
    width = max(16, *(len(k) + 2 for k in keys))  # v2/v3 configs have longer names than v1's
    lines += [f"  {k:<{width}}{v}" for k, v in keys.items()]
    lines += ["parameters", f"  mapping         {count(G.mapping):,}", f"  synthesis       {count(G.synthesis):,}",
              f"  G total         {count(G):,}",
              f"  D               {count(new_discriminator(d_cfg)):,}" if can_train(G.arch) else "  D               -",
              f"layers ({G.num_ws} ws, device here: {default_device().type})"]
    imported = describe_import(meta.imported) if meta.imported else []
    blend = ["blend of"] + [f"  {line}" for line in describe_blend(meta.blend)] if meta.blend else []
    return lines + layer_table(G) + imported + blend


def describe_file(path: str | Path) -> list[str]:
    """`describe` of a model file or official pickle as read from disk (a pickle's own D included), and its card."""
    path = Path(path)
    snapshot: list[str] = []
    if is_official_pickle(path) and pickle_kind(path) == "pytorch":  # StyleGAN2-ADA / StyleGAN3: as read, then as opened
        snap = read_snapshot(path)
        snapshot = describe_snapshot(snap) + ["opened as (converted in memory only)"]
        G, meta = snapshot_model(snap)
        cfg = snapshot_config(snap, G.cfg)
    elif is_official_pickle(path):  # what an import would give, converted in memory only
        models = load_official(path)
        G, cfg = models.G_ema, models.cfg
        meta = ModelMeta(name=path.stem, source=f"official pickle {path.name} (not converted)",
                         imported=models.record)
    else:
        G, meta = load_model(path)
        cfg = G.cfg
    lines, card = describe(G, meta, cfg, str(path)), card_path(str(path))
    return lines[:1] + snapshot + lines[1:] + ([f"card      {card}"] if card else [])


def card_path(path: str) -> Path | None:
    """The model card beside a model file (same name, .md: resources/models/avatars64.md), if there is one."""
    if not path:
        return None
    card = Path(path).with_suffix(".md")
    return card if card.is_file() else None


def read_card(card: Path) -> str:
    """A model card's text (Markdown), cut at CARD_MAX_BYTES; bytes that are not UTF-8 show as �."""
    with open(card, "rb") as f:
        data = f.read(CARD_MAX_BYTES + 1)
    text = data[:CARD_MAX_BYTES].decode("utf-8", errors="replace")
    return text + ("\n\n(cut: the card is longer than 256 KiB)" if len(data) > CARD_MAX_BYTES else "")
