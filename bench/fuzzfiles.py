"""Seeded corpus of damaged and hostile files for every format the studio reads, and the readers they go into.

`cases(kind, good, rng)` yields (label, bytes): the corpus is generated from one good file and a seed, never
stored. `Target`s feed one case to the real reader (load_model, a resume, `generate --from-png`, the latents
reader, dataset validation) and classify the outcome: "ok" (a valid result), "line" (one clear line: an
expected error without a newline) or "crash: ..." (anything else, e.g. a traceback-worthy exception).
tests/files/test_fuzz_files.py runs a few hundred cases; bench/fuzz_files.py runs thousands, each under a time and
memory limit, and prints the table kept in docs/robustness.md.
"""
from __future__ import annotations

import contextlib
import functools
import io
import json
import pickletools
import shutil
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np
from PIL import Image, PngImagePlugin

from stylegan_studio.engine.cli.main import main as cli_main
from stylegan_studio.engine.contract.errors import EXPECTED, StudioError
from stylegan_studio.engine.contract.latentfile import encode_latents, read_latents
from stylegan_studio.engine.files.curvefile import CurveWriter, split_curve
from stylegan_studio.engine.files.modelfile import load_model, save_model
from stylegan_studio.engine.files.dataset import validate
from synthetic import make_folder, tiny_cfg, tiny_generator

ABSURD_SHAPES = ([1 << 40], [-1], [0], [1 << 20, 1 << 20], [3, 0, 7], [1] * 40, ["x"], [2.5], None, {})
DTYPES = ("F64", "F32", "F16", "BF16", "I64", "I32", "I8", "U8", "BOOL", "F8_E4M3", "XX", "", 7)
CONFIG_VALUES = (0, -1, 1 << 40, 10 ** 30, 3.5, "64", None, True, [64], float("inf"), float("nan"), 1e308)
JSON_VALUES = (None, True, -1, 1 << 70, 1e308, "", "x" * 5000, [], {}, [[[[]]]], {"seed": "a"}, {"w": [1e39]},
               {"seed": 1 << 80}, {"w": []}, [{"seed": -5}], "const; 16:random#3x1e9", float("inf"))


# ------------------------------------------------------------------ generic damage
def flips(good: bytes, rng, lo: int = 0, hi: int | None = None) -> bytes:
    """1, 3 or 12 random bytes of good[lo:hi] replaced by random bytes."""
    data = bytearray(good)
    hi = hi or len(data)
    for pos in rng.integers(lo, hi, int(rng.choice([1, 3, 12]))):
        data[pos] = int(rng.integers(0, 256))
    return bytes(data)


def truncate(good: bytes, rng) -> bytes:
    return good[: int(rng.integers(0, len(good)))]


# ------------------------------------------------------------------ safetensors (model and state files)
def split_safetensors(data: bytes) -> tuple[dict, bytes]:
    n = struct.unpack("<Q", data[:8])[0]
    return json.loads(data[8:8 + n]), data[8 + n:]


def join_safetensors(header: dict, body: bytes, pad: bool = True) -> bytes:
    raw = json.dumps(header).encode()
    if pad:
        raw += b" " * (-len(raw) % 8)
    return struct.pack("<Q", len(raw)) + raw + body


def edit_header(good: bytes, rng) -> bytes:
    """One edit of the JSON header: a tensor's shape, dtype or offsets, or the metadata the studio wrote."""
    header, body = split_safetensors(good)
    keys = [k for k in header if k != "__metadata__"]
    key = keys[int(rng.integers(len(keys)))]
    what = rng.integers(0, 7)
    if what == 0:
        header[key]["shape"] = ABSURD_SHAPES[int(rng.integers(len(ABSURD_SHAPES)))]
    elif what == 1:
        header[key]["dtype"] = DTYPES[int(rng.integers(len(DTYPES)))]
    elif what == 2:
        start, end = header[key]["data_offsets"]
        header[key]["data_offsets"] = [[end, start], [start, 1 << 62], [0, len(body) * 4], [-8, end], [start]][
            int(rng.integers(5))]
    elif what == 3:
        del header[key]
    elif what == 4:
        header["extra"] = dict(header[key])
    else:
        header["__metadata__"] = edit_metadata(header.get("__metadata__", {}), rng)
    return join_safetensors(header, body, pad=bool(rng.integers(2)))


def edit_metadata(meta: dict, rng) -> dict:
    """The studio's metadata strings: config/meta/counters JSON with absurd values, or removed or garbled."""
    meta = dict(meta)
    key = sorted(meta)[int(rng.integers(len(meta)))]
    what = rng.integers(0, 4)
    if what == 0:
        del meta[key]
    elif what == 1:
        meta[key] = ["", "{", "[]", "null", "1e999", "{\"a\": " * 2000, "x" * 100000][int(rng.integers(7))]
    else:
        try:
            obj = json.loads(meta[key])
        except ValueError:
            return meta
        if isinstance(obj, dict) and obj:
            sub = sorted(obj)[int(rng.integers(len(obj)))]
            obj[sub] = (CONFIG_VALUES + JSON_VALUES)[int(rng.integers(len(CONFIG_VALUES) + len(JSON_VALUES)))]
        meta[key] = json.dumps(obj)
    return meta


def huge_declared(good: bytes, rng) -> bytes:
    """The 8-byte header length claims far more than the file holds."""
    return struct.pack("<Q", [1 << 62, (1 << 64) - 1, 1 << 31, len(good) + 1][int(rng.integers(4))]) + good[8:]


def safetensors_cases(good: bytes, rng):
    header_end = 8 + struct.unpack("<Q", good[:8])[0]
    kinds = [("flip", lambda: flips(good, rng)), ("flip-header", lambda: flips(good, rng, 0, header_end)),
             ("truncate", lambda: truncate(good, rng)), ("header-edit", lambda: edit_header(good, rng)),
             ("header-edit", lambda: edit_header(good, rng)), ("huge-size", lambda: huge_declared(good, rng))]
    while True:
        label, make = kinds[int(rng.integers(len(kinds)))]
        yield label, make()


# ------------------------------------------------------------------ PNG with provenance
def png_with_text(img: np.ndarray, chunks: list[tuple[str, str]], compressed: bool = False) -> bytes:
    info = PngImagePlugin.PngInfo()
    for key, text in chunks:
        info.add_text(key, text, zip=compressed)
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="PNG", pnginfo=info)
    return buf.getvalue()


def hostile_record(rec: dict, rng) -> str:
    """The provenance JSON with one field set to something hostile, or not JSON at all."""
    what = rng.integers(0, 8)
    if what == 0:
        return ["", "{", "[]", "null", "42", "\"x\"", "[" * 100000 + "]" * 100000, "{\"a\":" * 50000][int(rng.integers(8))]
    rec = dict(rec)
    if what == 1:
        del rec[sorted(rec)[int(rng.integers(len(rec)))]]
        return json.dumps(rec)
    key = sorted(rec)[int(rng.integers(len(rec)))] if what < 6 else ["size", "draws", "seeds", "psis", "cols",
                                                                       "kind", "rows", "layers"][int(rng.integers(8))]
    choices = JSON_VALUES + CONFIG_VALUES + (list(range(100000)), 10 ** 6, 1 << 31, [-1], "figure", "mix")
    rec[key] = choices[int(rng.integers(len(choices)))]
    return json.dumps(rec)


def png_cases(good: bytes, rng):
    """Hostile text chunks in a studio PNG, plus damaged bytes of the PNG itself."""
    with Image.open(io.BytesIO(good)) as im:
        img, rec = np.asarray(im.convert("RGB")), json.loads(im.text["stylegan-studio"])
    while True:
        what = rng.integers(0, 6)
        if what < 3:
            yield "text", png_with_text(img, [("stylegan-studio", hostile_record(rec, rng))], bool(rng.integers(2)))
        elif what == 3:
            bomb = "x" * [1 << 20, 1 << 24][int(rng.integers(2))]  # compressed text Pillow must refuse to inflate
            yield "text-bomb", png_with_text(img, [("stylegan-studio", bomb)], compressed=True)
        elif what == 4:
            yield "flip", flips(good, rng)
        else:
            yield "truncate", truncate(good, rng)


# ------------------------------------------------------------------ latents .npz
def npz_of(**arrays) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def lying_header(good: bytes, member: str, shape: tuple[int, ...]) -> bytes:
    """`good` .npz with `member`'s header claiming `shape` (its data unchanged): numpy would allocate the claim."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(good)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == member + ".npy":
                f = io.BytesIO(data)
                version = np.lib.format.read_magic(f)
                _, fortran, dtype = np.lib.format.read_array_header_1_0(f) if version == (1, 0) else \
                    np.lib.format.read_array_header_2_0(f)
                head = io.BytesIO()
                np.lib.format.write_array_header_1_0(head, {"descr": np.lib.format.dtype_to_descr(dtype),
                                                            "fortran_order": fortran, "shape": shape})
                data = head.getvalue() + data[f.tell():]
            dst.writestr(info.filename, data)
    return out.getvalue()


@functools.lru_cache(maxsize=8)
def zip_bomb(name: str, size: int) -> bytes:
    """A zip whose one member inflates to `size` bytes of zeros (an .npy header claiming as much)."""
    header = b"\x93NUMPY\x01\x00" + b"v\x00{'descr': '<f4', 'fortran_order': False, 'shape': (%d,), }" % (size // 4)
    header = header.ljust(10 + 118, b" ")[:127] + b"\n"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        with z.open(name, "w", force_zip64=True) as f:
            f.write(header)
            chunk = bytes(1 << 20)
            for _ in range(size >> 20):
                f.write(chunk)
    return buf.getvalue()


def latents_cases(good: bytes, rng):
    while True:
        what = rng.integers(0, 9)
        if what == 0:
            yield "object-array", npz_of(w=np.array([{"a": 1}, None], dtype=object))
        elif what == 1:
            yield "object-labels", npz_of(w=np.zeros((2, 16), np.float32), labels=np.array([1, "x"], dtype=object))
        elif what == 2:
            yield "wrong-arrays", npz_of(**{["x", "w"][int(rng.integers(2))]: rng.standard_normal(
                [int(v) for v in rng.integers(0, 4, int(rng.integers(0, 4)))])})
        elif what == 3:
            yield "strings-as-w", npz_of(w=np.array(["a", "b"]))
        elif what == 4:
            yield "nan", npz_of(w=np.full((1, 16), np.nan, np.float32))
        elif what == 5:
            yield "zip-bomb", zip_bomb("w.npy", [64 << 20, 256 << 20][int(rng.integers(2))])
        elif what == 6:
            yield "flip", flips(good, rng)
        elif what == 7:
            yield "truncate", truncate(good, rng)
        else:
            yield "pickle", b"\x80\x04\x95" + bytes(rng.integers(0, 256, 64, dtype=np.uint8))


# ------------------------------------------------------------------ StyleGAN2-ADA / StyleGAN3 pickles
# The good StyleGAN2-ADA pickle the "nvidia-pkl" corpus starts from is given to Fixtures (the tests pass their
# committed one, tests/data/nvidia/sg2ada_uncond.pkl, made by NVIDIA's code; bench imports nothing from tests/).


@functools.lru_cache(maxsize=2)
def pickle_ops(good: bytes) -> tuple:
    """(opcode name, position, argument) of every opcode of a good pickle (parsed, never built)."""
    return tuple((op.name, pos, arg) for op, arg, pos in pickletools.genops(good))


def nvidia_pkl_cases(good: bytes, rng):
    """Damage where a persistence pickle's structure lives: opcodes, names, lengths, memo indexes, storages."""
    ops = pickle_ops(good)
    names = [(pos, arg) for name, pos, arg in ops if name == "SHORT_BINUNICODE" and arg.isidentifier()]
    blobs = [(pos, arg) for name, pos, arg in ops if name == "BINBYTES"]
    gets = [pos for name, pos, _ in ops if name in ("BINGET", "LONG_BINGET")]
    structure = min(len(good), blobs[0][0] if blobs else len(good))
    while True:
        what = rng.integers(0, 8)
        data = bytearray(good)
        if what == 0:
            yield "flip-structure", flips(good, rng, 0, structure)
        elif what == 1:
            yield "flip", flips(good, rng)
        elif what == 2:
            yield "truncate", truncate(good, rng)
        elif what == 3:  # a module / class / key name swapped for another identifier of the same length
            pos, arg = names[int(rng.integers(len(names)))]
            other = [a for _, a in names if len(a) == len(arg)] + ["os"[: len(arg)], "system"[: len(arg)]]
            data[pos + 2:pos + 2 + len(arg)] = other[int(rng.integers(len(other)))].encode().ljust(len(arg), b"x")
            yield "swap-name", bytes(data)
        elif what == 4:  # a byte string's declared length: 0, short, long, 2^32-1
            pos, blob = blobs[int(rng.integers(len(blobs)))]
            size = [0, len(blob) // 2, len(blob) + 8, (1 << 32) - 1][int(rng.integers(4))]
            data[pos + 1:pos + 5] = size.to_bytes(4, "little")
            yield "bytes-length", bytes(data)
        elif what == 5:  # an embedded storage's element count (the 8 bytes before its numbers)
            pos, blob = blobs[int(rng.integers(len(blobs)))]
            at = pos + 5 + blob.index(b"a.", blob.index(b"Q.")) + 2  # after the storage keys' pickle
            data[at:at + 8] = int(rng.choice([0, 1, 1 << 31, 1 << 62])).to_bytes(8, "little")
            yield "storage-numel", bytes(data)
        elif what == 6:  # a memo reference to an index that was never stored (or a wrong one)
            pos = gets[int(rng.integers(len(gets)))]
            data[pos + 1] = int(rng.integers(0, 256))
            yield "memo-ref", bytes(data)
        else:  # a call of a dangerous global spliced in place of the snapshot
            yield "hostile-global", b"\x80\x02cos\nsystem\nX\x04\x00\x00\x00trueR." + bytes(data[2:])


# ------------------------------------------------------------------ dataset images and zips
@functools.lru_cache(maxsize=4)
def png_bomb(side: int) -> bytes:
    """A valid PNG of side × side black pixels: a few kB that decode to side² × 3 bytes."""
    raw = zlib.compressobj(1)
    rows = bytes((1 + side) * 256)  # 256 rows of a filter byte + one grey byte per pixel
    body = b"".join(raw.compress(rows) for _ in range(side // 256)) + raw.compress(bytes((1 + side) * (side % 256)))
    body += raw.flush()
    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", body) + chunk(b"IEND", b"")


def image_cases(good: bytes, rng):
    """One dataset file: damaged PNG/JPEG bytes, lying headers, decompression bombs."""
    while True:
        what = rng.integers(0, 6)
        if what == 0:
            yield "bomb", png_bomb([10000, 20000][int(rng.integers(2))])  # 100M, 400M pixels: Pillow warns, refuses
        elif what == 1:
            data = bytearray(good)
            data[16:24] = struct.pack(">II", *(int(v) for v in rng.integers(1, 1 << 31, 2)))  # IHDR size lies
            yield "ihdr-lie", bytes(data)
        elif what == 2:
            yield "flip", flips(good, rng)
        elif what == 3:
            yield "truncate", truncate(good, rng)
        elif what == 4:
            yield "random", bytes(rng.integers(0, 256, int(rng.integers(0, 4096)), dtype=np.uint8))
        else:
            buf = io.BytesIO()
            Image.fromarray(rng.integers(0, 256, (24, 24, 3), dtype=np.uint8)).save(buf, format="JPEG")
            yield "jpeg-flip", flips(buf.getvalue(), rng)


def zip_cases(good: bytes, rng):
    """A dataset zip: damaged archive bytes, or members that are bombs (inflating) or damaged images."""
    while True:
        what = rng.integers(0, 4)
        if what == 0:
            yield "flip", flips(good, rng)
        elif what == 1:
            yield "truncate", truncate(good, rng)
        elif what == 2:
            yield "member-bomb", zip_bomb("big.png", [160 << 20, 512 << 20][int(rng.integers(2))])
        else:
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w") as z:
                with zipfile.ZipFile(io.BytesIO(good)) as src:
                    for n in src.namelist()[:4]:
                        z.writestr(n, src.read(n))
                z.writestr("bomb.png", png_bomb(20000))
            yield "image-bomb", buf.getvalue()


# ------------------------------------------------------------------ targets
class Fixtures:
    """The good files every corpus starts from, made once in `root` with a tiny model and dataset."""

    def __init__(self, root: Path, nvidia_pkl: Path | None = None) -> None:
        from stylegan_studio.engine.train.run import TrainingRun
        self.root = root
        self.nvidia_pkl = nvidia_pkl
        root.mkdir(parents=True, exist_ok=True)
        self.model = root / "good.safetensors"
        save_model(tiny_generator(), self.model)
        self.png = root / "good.png"
        assert cli_main(["generate", "--model", str(self.model), "--seeds", "3", "--grid", str(self.png)]) == 0
        self.latents = root / "good.npz"
        self.latents.write_bytes(encode_latents(np.zeros((2, 16), np.float32), ["a", "b"]))
        self.data = make_folder(root / "data", n=8)
        self.image = self.data / "000.png"
        self.zip = root / "data.zip"
        with zipfile.ZipFile(self.zip, "w") as z:
            for p in sorted(self.data.iterdir()):
                z.write(p, p.name)
        self.run = root / "run"
        run = TrainingRun(tiny_cfg(self.data, total_kimg=0.016, tick_kimg=0.016, batch=8), self.run)
        for _ in run.steps():
            pass
        self.state = self.run.joinpath(run.files.latest_state().name)
        self.curve = root / "curve.safetensors"   # a GPU session's FID-curve file: two points of a tiny G
        writer = CurveWriter(self.curve, 4 << 20)
        for kimg in (1.0, 2.0):
            writer.add(tiny_generator(), kimg)

    def good(self, kind: str) -> bytes:
        if kind == "nvidia-pkl" and self.nvidia_pkl is None:
            raise ValueError("the nvidia-pkl corpus starts from a StyleGAN2-ADA pickle: "
                             "Fixtures(root, nvidia_pkl=PATH)")
        return {"model": self.model, "state": self.state, "png": self.png, "latents": self.latents,
                "image": self.image, "zip": self.zip, "nvidia-pkl": self.nvidia_pkl,
                "curve": self.curve}[kind].read_bytes()


def _outcome(fn) -> str:
    try:
        fn()
    except EXPECTED as exc:
        text = str(exc)
        return "line" if text and "\n" not in text and len(text) < 600 else f"crash: bad message {text[:200]!r}"
    except SystemExit as exc:
        return "line" if exc.code in (1, 2) else f"crash: exit {exc.code}"
    except BaseException as exc:  # noqa: BLE001 - a fuzz harness must see every escape, panics included
        if isinstance(exc, KeyboardInterrupt):
            raise
        return f"crash: {type(exc).__name__}: {str(exc)[:200]}"
    return "ok"


class CliLine(StudioError):
    """The CLI exited 1 with what it printed to stderr."""


def _cli(args: list[str]) -> None:
    """The CLI as a user runs it: exit 0 is a result, exit 1 must have printed exactly one line."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = cli_main(args)
    if code == 1:
        raise CliLine(err.getvalue().rstrip("\n"))  # _outcome checks it is one short line
    if code != 0:
        raise AssertionError(f"exit {code}: {err.getvalue()[:200]}")


def run_case(fx: Fixtures, kind: str, data: bytes, work: Path) -> str:
    """Feed one case to the reader of `kind`; returns "ok", "line" or "crash: ..."."""
    work.mkdir(parents=True, exist_ok=True)
    if kind == "model":
        path = work / "m.safetensors"
        path.write_bytes(data)
        return _outcome(lambda: load_model(path))
    if kind == "state":
        from stylegan_studio.engine.train.run import TrainingRun
        run = work / "run"
        shutil.rmtree(run, ignore_errors=True)
        run.mkdir()
        shutil.copy(fx.run / "config.json", run / "config.json")
        (run / fx.state.name).write_bytes(data)
        return _outcome(lambda: TrainingRun(None, run, resume=True))
    if kind == "png":
        path = work / "in.png"
        path.write_bytes(data)
        return _outcome(lambda: _cli(["generate", "--from-png", str(path), "--model", str(fx.model),
                                      "--grid", str(work / "out.png")]))
    if kind == "latents":
        path = work / "l.npz"
        path.write_bytes(data)
        return _outcome(lambda: read_latents(path))
    if kind == "image":
        folder = work / "imgs"
        shutil.rmtree(folder, ignore_errors=True)
        shutil.copytree(fx.data, folder)
        (folder / "000.png").write_bytes(data)
        return _outcome(lambda: _skipped_or_used(folder))
    if kind == "zip":
        path = work / "d.zip"
        path.write_bytes(data)
        return _outcome(lambda: _skipped_or_used(path))
    if kind == "nvidia-pkl":
        path = work / "network-snapshot.pkl"
        path.write_bytes(data)
        return _outcome(lambda: _cli(["info", "--model", str(path)]))
    if kind == "curve":
        path = work / "curve.safetensors"
        path.write_bytes(data)
        return _outcome(lambda: split_curve(path, work / "curve-models"))
    raise ValueError(kind)


def _skipped_or_used(path: Path) -> None:
    """Dataset validation must account for every image file: used or skipped with a reason."""
    report, usable = validate(path)
    listed = len(usable) + len(report.skipped)
    if report.count != len(usable) or listed < 1 or any(not reason for _, reason in report.skipped):
        raise AssertionError(f"report does not account for the files: {report}")


GENERATORS = {"model": safetensors_cases, "state": safetensors_cases, "png": png_cases,
              "latents": latents_cases, "image": image_cases, "zip": zip_cases, "nvidia-pkl": nvidia_pkl_cases,
              "curve": safetensors_cases}
KINDS = tuple(GENERATORS)


def cases(kind: str, good: bytes, seed: int):
    """The seeded corpus of `kind`: an endless stream of (label, bytes)."""
    return GENERATORS[kind](good, np.random.default_rng(seed))
