"""Plain-data descriptions of what to render: seeds, layers, noise (stdlib + numpy only)."""
from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .errors import StudioError

NOISE_MODES = ("const", "random", "zero")
DEFAULT_PSI = 0.7  # where the window, `generate`, `mix`, `video` and `figure` start: the paper's ψ
PAPER_PSIS = (1.0, 0.7, 0.5, 0.0, -0.5, -1.0)  # the paper's truncation figure; the Truncation pane's strip
SLIDER_SIGMAS = 3     # the Directions pane's sliders run from −3σ to +3σ
MAX_SIGMAS = 10.0     # an edit's furthest step: past it the bundled model's faces are saturated (docs/disentanglement.md)


class SpecError(StudioError, ValueError):
    """A seed list, layer list or noise setting that cannot be understood."""


def seed_to_z(seeds, z_dim: int) -> np.ndarray:
    """Seeds → z [N, z_dim] float32, as NVIDIA's tools do: RandomState(seed).randn(z_dim).

    numpy's legacy RandomState stream is frozen by numpy's compatibility policy, so a seed
    means the same z on every platform, in every release, and in NVIDIA's own scripts.
    """
    return np.stack([np.random.RandomState(int(s) % 2**32).randn(z_dim) for s in seeds]).astype(np.float32)


MAX_SEED = 2 ** 32 - 1


def parse_seeds(text: str, limit: int = 100_000) -> tuple[int, ...]:
    """'0-7, 42' → (0, 1, …, 7, 42); rejects anything else with a clear message."""
    seeds: list[int] = []
    for part in filter(None, (p.strip() for p in text.replace(";", ",").split(","))):
        m = re.fullmatch(r"(\d+)\s*(?:-\s*(\d+))?", part)
        if not m:
            raise SpecError(f"cannot read seed {part!r}; use forms like 0-7,42")
        lo, hi = int(m.group(1)), int(m.group(2) or m.group(1))
        if hi < lo:
            raise SpecError(f"seed range {part!r} runs backwards")
        if hi > MAX_SEED:   # NVIDIA's RandomState takes 0..2³²−1: a larger seed would repeat a smaller one's face
            raise SpecError(f"seed {hi} is beyond the largest seed, {MAX_SEED}")
        if len(seeds) + hi - lo + 1 > limit:
            raise SpecError(f"too many seeds (more than {limit})")
        seeds.extend(range(lo, hi + 1))
    if not seeds:
        raise SpecError("no seeds given")
    return tuple(seeds)


def format_seeds(seeds) -> str:
    """(0, 1, …, 7, 42) → '0-7, 42': the shortest text parse_seeds reads back as the same seeds, in order."""
    parts: list[str] = []
    seeds = [int(s) for s in seeds]
    k = 0
    while k < len(seeds):
        end = k
        while end + 1 < len(seeds) and seeds[end + 1] == seeds[end] + 1:
            end += 1
        parts.append(str(seeds[k]) if end == k else f"{seeds[k]}-{seeds[end]}")
        k = end + 1
    return ", ".join(parts)


def num_ws_for(resolution: int) -> int:
    """Number of ws (synthesis layers, two per resolution from 4²) of a `resolution`² StyleGAN v1 model."""
    return 2 * int(math.log2(resolution)) - 2


COARSE_MAX, MIDDLE_MAX = 8, 32  # the paper's ranges: coarse 4²–8², middle 16²–32², fine 64² and up


def layer_ranges(ws_resolutions: Sequence[int]) -> dict[str, tuple[int, ...]]:
    """The paper's named layer ranges, from the resolution each ws feeds (a G's ws_resolutions)."""
    return {"coarse": tuple(i for i, r in enumerate(ws_resolutions) if r <= COARSE_MAX),
            "middle": tuple(i for i, r in enumerate(ws_resolutions) if COARSE_MAX < r <= MIDDLE_MAX),
            "fine": tuple(i for i, r in enumerate(ws_resolutions) if r > MIDDLE_MAX)}


def parse_layers(text: str, ws_resolutions: Sequence[int]) -> tuple[int, ...]:
    """'coarse', 'middle,fine', '0-3,7' → sorted layer indices valid for a G with these ws_resolutions."""
    num_ws = len(ws_resolutions)
    named = layer_ranges(ws_resolutions)
    layers: set[int] = set()
    for part in filter(None, (p.strip().lower() for p in text.split(","))):
        if part in named:
            layers.update(named[part])
        elif part == "all":
            layers.update(range(num_ws))
        else:
            try:
                layers.update(parse_seeds(part))
            except SpecError:
                raise SpecError(f"cannot read layers {part!r}; use coarse, middle, fine, all or 0-3,7") from None
    bad = [i for i in layers if i >= num_ws]
    if bad:
        raise SpecError(f"layer {max(bad)} does not exist: this model has layers 0-{num_ws - 1}")
    return tuple(sorted(layers))


@dataclass(frozen=True)
class ResNoise:
    """Noise at one resolution: stored ('const'), drawn from `seed` ('random'), or 'zero'; times strength."""

    mode: str = "const"
    seed: int = 0
    strength: float = 1.0

    def __post_init__(self) -> None:
        if self.mode not in NOISE_MODES:
            raise SpecError(f"noise mode must be one of {', '.join(NOISE_MODES)}, got {self.mode!r}")
        if not math.isfinite(self.strength):
            raise SpecError("noise strength must be a finite number")


@dataclass(frozen=True)
class NoiseSpec:
    """Per-resolution noise choices; resolutions not listed use `default`."""

    default: ResNoise = field(default_factory=ResNoise)
    per_res: tuple[tuple[int, ResNoise], ...] = ()

    def at(self, res: int) -> ResNoise:
        """The setting used at resolution `res`."""
        return dict(self.per_res).get(res, self.default)

    def with_res(self, res: int, setting: ResNoise) -> "NoiseSpec":
        """A copy with one resolution changed."""
        items = dict(self.per_res)
        items[res] = setting
        return NoiseSpec(self.default, tuple(sorted(items.items())))

    def describe(self) -> str:
        """Short text such as 'const' or 'const; 64:random#3x0.5'."""
        def one(n: ResNoise) -> str:
            s = n.mode + (f"#{n.seed}" if n.mode == "random" else "")
            return s + (f"x{n.strength:g}" if n.strength != 1.0 else "")
        extra = [f"{r}:{one(n)}" for r, n in self.per_res if n != self.default]
        return "; ".join([one(self.default)] + extra)

    @classmethod
    def parse(cls, text: str) -> "NoiseSpec":
        """Inverse of describe(): 'random#5', 'const; 64:zero; 32:random#2x0.5'."""
        parts = [p.strip() for p in text.split(";") if p.strip()]
        if not parts:
            raise SpecError("empty noise setting")
        spec = cls(_parse_one(parts[0]))
        for part in parts[1:]:
            res, _, rest = part.partition(":")
            if not res.strip().isdigit():
                raise SpecError(f"cannot read noise setting {part!r}")
            spec = spec.with_res(int(res), _parse_one(rest))
        return spec


def _parse_one(text: str) -> ResNoise:
    m = re.fullmatch(r"\s*(const|random|zero)(?:#(\d+))?(?:x([-+0-9.eE]+))?\s*", text)
    if not m:
        raise SpecError(f"cannot read noise setting {text!r}; use const, random#SEED or zero")
    try:
        strength = float(m.group(3)) if m.group(3) else 1.0
    except ValueError:
        raise SpecError(f"cannot read noise strength in {text!r}") from None
    return ResNoise(m.group(1), int(m.group(2) or 0), strength)


def check_amounts(amounts) -> None:
    """Refuse edit amounts (in σ) that are not finite or lie beyond ±MAX_SIGMAS."""
    bad = [a for a in amounts if not abs(float(a)) <= MAX_SIGMAS]
    if bad:
        raise SpecError(f"edit amount {bad[0]:g}σ is out of range: amounts must lie within ±{MAX_SIGMAS:g}σ "
                        f"(the sliders span ±{SLIDER_SIGMAS}σ; further out the faces are saturated)")


@dataclass(frozen=True)
class Edit:
    """A step in W added to the chosen layers' ws after truncation: ws[:, layers] += offset.

    After truncation, not before: a slider's σ then moves a face the same distance at any ψ (before it,
    ψ would shrink the step on the truncated layers and cancel it at ψ = 0, the mean face), and the
    layers the step leaves alone keep exactly the face the user was looking at.
    """

    offset: tuple[float, ...] = ()   # [w_dim], e.g. amount·σ·d of a unit direction d
    layers: tuple[int, ...] = ()
    label: str = ""                  # e.g. "pc 3 +2σ"

    def __post_init__(self) -> None:
        if not self.offset or not all(math.isfinite(x) for x in self.offset):
            raise SpecError("an edit needs a finite offset in W")
        if not self.layers or min(self.layers) < 0:
            raise SpecError("an edit needs at least one layer")


def check_class(c: int | None) -> None:
    """Refuse a class label that is not None or an int ≥ 0 (whether the model has it is the renderer's check)."""
    if c is not None and (not isinstance(c, (int, np.integer)) or isinstance(c, bool) or c < 0):
        raise SpecError(f"a class is a whole number from 0, got {c!r}")


SEED_ROW = 100       # seed space is a plane: the integer point (x, y) is seed x + SEED_ROW·y (as NVIDIA's visualizer)
TRAVEL_SPACES = ("z", "w")  # a fractional position blends its neighbour seeds by slerp in Z or lerp in W


def seed_position(seed: int) -> tuple[float, float]:
    """The point of seed space where `seed` sits."""
    return float(seed % SEED_ROW), float(seed // SEED_ROW)


def position_seeds(pos: tuple[float, float]) -> list[tuple[int, float, float, float]]:
    """(seed, weight, tx, ty) of the integer neighbours of `pos` with a weight above zero (bilinear weights;
    tx, ty: how far pos is from that neighbour along x and y). At an integer point: that one seed, weight 1."""
    x0, y0 = math.floor(pos[0]), math.floor(pos[1])
    out = []
    for dx, dy in ((0, 0), (1, 0), (0, 1), (1, 1)):
        tx, ty = abs(pos[0] - (x0 + dx)), abs(pos[1] - (y0 + dy))
        weight = (1 - tx) * (1 - ty)
        if weight > 0:
            out.append(((x0 + dx + (y0 + dy) * SEED_ROW) % 2 ** 32, weight, tx, ty))
    return out


def _slerp(a: np.ndarray, b: np.ndarray, t: float) -> np.ndarray:
    """Spherical interpolation of two z (float64), its norm interpolated linearly; exactly a at t = 0, b at 1."""
    if t <= 0.0:
        return a
    if t >= 1.0:
        return b
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    omega = math.acos(float(np.clip(np.dot(a / na, b / nb), -1 + 1e-7, 1 - 1e-7)))
    d = (math.sin((1 - t) * omega) * a / na + math.sin(t * omega) * b / nb) / math.sin(omega)
    return d * (na + (nb - na) * t)


def position_z(pos: tuple[float, float], z_dim: int) -> np.ndarray:
    """z [z_dim] float32 of a fractional seed: its four neighbours' z slerped along x, then along y.

    At an integer point it is exactly seed_to_z of that seed.
    """
    x0, y0 = math.floor(pos[0]), math.floor(pos[1])
    fx, fy = pos[0] - x0, pos[1] - y0
    corner = [[seed_to_z([(x0 + dx + (y0 + dy) * SEED_ROW) % 2 ** 32], z_dim)[0].astype(np.float64)
               for dx in (0, 1)] for dy in (0, 1)]
    rows = [_slerp(corner[k][0], corner[k][1], fx) for k in (0, 1)]
    return _slerp(rows[0], rows[1], fy).astype(np.float32)


@dataclass(frozen=True)
class Latent:
    """One latent source: a seed (mapped through z), an explicit w [w_dim] or per-layer ws [num_ws, w_dim]
    (W+, as a projection finds them), or a fractional seed `pos` (x, y) in seed space between the integer
    seeds around it (blended in `space`: 'z' slerps their z, 'w' lerps their w); optionally with an Edit.

    `c` is the class a seed (or position) is mapped with on a class-conditional model (None: unconditional). An
    explicit w already holds its class (the mapping made it), so it takes none.
    """

    seed: int | None = None
    w: np.ndarray | None = None
    edit: Edit | None = None
    pos: tuple[float, float] | None = None
    space: str = "z"
    c: int | None = None

    def __post_init__(self) -> None:
        if sum(v is not None for v in (self.seed, self.w, self.pos)) != 1:
            raise SpecError("a latent is either a seed, an explicit w or a position in seed space")
        if self.seed is not None and not 0 <= self.seed <= MAX_SEED:
            raise SpecError(f"a seed is 0 to {MAX_SEED}, not {self.seed}")
        if self.pos is not None and (len(self.pos) != 2 or not all(math.isfinite(v) and 0 <= v < 2 ** 31
                                                                   for v in self.pos)):
            raise SpecError("a position in seed space needs two finite numbers from 0")
        if self.space not in TRAVEL_SPACES:
            raise SpecError(f"a seed position blends in z or w, not {self.space!r}")
        check_class(self.c)
        if self.c is not None and self.w is not None:
            raise SpecError("a class goes with a seed; an explicit w already holds its class")

    def label(self) -> str:
        """'seed 42', 'seed 42 class 3', 'seed (3.25, 0.50)', 'custom w', or any with its edit: 'seed 42 (pc 3 +2σ)'."""
        base = f"seed {self.seed}" if self.seed is not None else \
            f"seed ({self.pos[0]:.2f}, {self.pos[1]:.2f}) {self.space}" if self.pos is not None else \
            "custom w+" if self.per_layer else "custom w"
        base += f" class {self.c}" if self.c is not None else ""
        return f"{base} ({self.edit.label or 'edited'})" if self.edit is not None else base

    @property
    def per_layer(self) -> bool:
        """True for an explicit w per layer (W+), [num_ws, w_dim]."""
        return self.w is not None and np.ndim(self.w) == 2

    def unedited(self) -> "Latent":
        """The same seed, w or position (and class) without its edit."""
        return Latent(self.seed, self.w, pos=self.pos, space=self.space, c=self.c) if self.edit is not None else self

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Latent):
            return NotImplemented
        if self.edit != other.edit or self.c != other.c:
            return False
        if self.pos is not None or other.pos is not None:
            return self.pos == other.pos and self.space == other.space
        if self.seed is not None or other.seed is not None:
            return self.seed == other.seed
        return bool(np.array_equal(self.w, other.w))

    def __hash__(self) -> int:
        base = hash(self.seed) if self.seed is not None else hash((self.pos, self.space)) if self.pos is not None \
            else hash(np.asarray(self.w).tobytes())
        return hash((base, self.edit, self.c))


@dataclass(frozen=True)
class RenderSettings:
    """Truncation, noise and input transform applied to every render: ψ on layers below `cutoff` (None = all).

    `translate` (x, y) and `rotate` (degrees) move the Fourier input of a model that has one (StyleGAN3:
    NVIDIA's gen_images.py --translate/--rotate); any other model refuses a non-zero transform.
    """

    psi: float = 1.0
    cutoff: int | None = None
    noise: NoiseSpec = field(default_factory=NoiseSpec)
    translate: tuple[float, float] = (0.0, 0.0)
    rotate: float = 0.0

    def __post_init__(self) -> None:
        if not math.isfinite(self.psi) or abs(self.psi) > MAX_PSI:
            raise SpecError(f"ψ must be a number within ±{MAX_PSI:g} (the window's slider spans −1 to 2; much past "
                            "that, faces are saturated)")
        if self.cutoff is not None and self.cutoff < 0:
            raise SpecError("cutoff must be 0 or more")
        if len(self.translate) != 2 or not all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                               and math.isfinite(v) and abs(v) <= MAX_TRANSLATE for v in self.translate):
            raise SpecError(f"translate must be two finite numbers within ±{MAX_TRANSLATE:g}")
        if isinstance(self.rotate, bool) or not isinstance(self.rotate, (int, float)) or not math.isfinite(self.rotate):
            raise SpecError("rotate must be a finite number of degrees")

    @property
    def transformed(self) -> bool:
        """True when the input transform is not the identity."""
        return tuple(self.translate) != (0.0, 0.0) or self.rotate % 360 != 0


MAX_PSI = 100.0          # ψ a render takes: far past any useful value, short of numbers that overflow
MAX_TRANSLATE = 1000.0  # in the input's units (its field of view is about 1): far beyond any useful shift


def latent_to_json(latent: Latent) -> dict:
    """A latent as JSON-ready data, for provenance records, drags and remembered favourites: {"seed": n},
    {"w": [...]} (nested per layer for W+) or {"pos": [x, y], "space": s}, with "c" and "edit" when set."""
    if latent.pos is not None:
        out = {"pos": list(latent.pos), "space": latent.space}
    elif latent.w is None:
        out = {"seed": latent.seed}
    else:
        w = np.asarray(latent.w, np.float32)
        out = {"w": (w if latent.per_layer else w.ravel()).tolist()}
    if latent.c is not None:
        out["c"] = int(latent.c)
    if latent.edit is not None:
        e = latent.edit
        out["edit"] = {"offset": list(e.offset), "layers": list(e.layers), "label": e.label}
    return out


def is_latent_json(value) -> bool:
    """Whether `value` looks like what latent_to_json writes (a record's other fields are numbers, lists, text)."""
    return isinstance(value, dict) and ("seed" in value or "w" in value or "pos" in value)


def latent_from_json(data) -> Latent:
    """The latent latent_to_json wrote; SpecError for anything else (the data may come from a hostile file)."""
    try:
        e = data.get("edit")
        edit = Edit(tuple(map(float, e["offset"])), tuple(map(int, e["layers"])), str(e.get("label", ""))) \
            if e else None
        if "pos" in data:
            x, y = (float(v) for v in data["pos"])
            return Latent(pos=(x, y), space=str(data.get("space", "z")), edit=edit, c=data.get("c"))
        if "seed" in data:
            return Latent(seed=int(data["seed"]), edit=edit, c=data.get("c"))
        w = np.asarray(data["w"], np.float64)
        if w.ndim not in (1, 2) or not np.isfinite(w).all() or np.abs(w).max(initial=0) > 1e30:
            raise SpecError("w is not a list of finite float32 numbers")  # (1e30: float32 would overflow to inf)
        return Latent(w=w.astype(np.float32), edit=edit)
    except SpecError:
        raise
    except (ValueError, KeyError, TypeError, AttributeError, OverflowError) as exc:
        raise SpecError(f"not a latent: {str(exc) or type(exc).__name__}") from None


def parse_translate(text: str) -> tuple[float, float]:
    """'0.1,-0.2' → (0.1, -0.2); anything else is one line."""
    parts = [p.strip() for p in text.split(",")]
    try:
        if len(parts) != 2:
            raise ValueError
        x, y = float(parts[0]), float(parts[1])
    except ValueError:
        raise SpecError(f"cannot read translate {text!r}; use X,Y such as 0.1,-0.2") from None
    return (x, y)
