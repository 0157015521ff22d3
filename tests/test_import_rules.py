"""The app/engine boundary and the engine's layout.

Engine never imports Qt, app never imports torch, one bridge crosses; outside the bridge the app
reads only the engine's data modules. Inside the engine: sub-packages (nets, render, train, metrics,
files, thread, cli), no import circles, and the core never imports the command line.
"""
import ast
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENGINE = ROOT / "engine"
QT = ("PySide6", "shiboken6", "pyqtgraph", "superqt", "qtawesome", "qtpy")
TORCH = ("torch", "safetensors")
# The engine modules the app may read without the bridge: stdlib + numpy only, never torch.
DATA_ONLY = ("messages", "errors", "directions.dirset", "files.latents", "files.npz", "nets.config", "render.projectspec", "render.specs", "render.videospec", "render.stillspec", "train.config")


def engine_modules() -> dict[str, Path]:
    """Dotted engine module name ("render.specs", "messages") → file; packages by their __init__."""
    out = {}
    for path in ENGINE.rglob("*.py"):
        parts = path.relative_to(ENGINE).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


MODULES = engine_modules()


def _resolve(base: list[str], names: list[str]) -> list[str]:
    """Engine modules named by `from <base> import <names>` (a name may itself be a module)."""
    pkg = ".".join(base)
    subs = [f"{pkg}.{n}" if pkg else n for n in names]
    found = [s for s in subs if s in MODULES]
    return found if found else [pkg]


def engine_imports(path: Path) -> tuple[list[str], list[str]]:
    """(top-level non-engine modules, engine modules) a file imports, anywhere in it."""
    rel = path.relative_to(ROOT).parts
    inside = rel[0] == "engine"
    here = list(rel[1:-1]) if inside else None      # the file's package, relative to engine/
    outside, engine = [], []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith("stylegan_studio.engine."):
                    engine += _resolve(a.name.split(".")[2:], [])
                else:
                    outside.append(a.name)
        elif isinstance(node, ast.ImportFrom):
            mod = (node.module or "").split(".") if node.module else []
            names = [a.name for a in node.names]
            if node.level == 0:
                if mod[:2] == ["stylegan_studio", "engine"]:
                    engine += _resolve(mod[2:], names)
                else:
                    outside.append(node.module)
            elif inside:
                base = here[:len(here) - (node.level - 1)] if node.level > 1 else list(here)
                engine += _resolve(base + mod, names)
            elif mod[:1] == ["engine"]:                # the app: from ..engine.x import y
                engine += _resolve(mod[1:], names)
    return outside, [e for e in engine if e]


def top(name: str) -> str:
    return name.split(".")[0]


def test_engine_never_imports_qt():
    for path in ENGINE.rglob("*.py"):
        bad = [m for m in engine_imports(path)[0] if top(m) in QT]
        assert not bad, f"{path.relative_to(ROOT)} imports {bad}"


def test_app_never_imports_torch_and_only_the_bridge_reaches_the_engine():
    for path in (ROOT / "app").rglob("*.py"):
        outside, engine = engine_imports(path)
        assert not [m for m in outside if top(m) in TORCH], f"{path.relative_to(ROOT)} imports torch"
        if path.name != "bridge.py":
            bad = [m for m in engine if m not in DATA_ONLY]
            assert not bad, f"{path.relative_to(ROOT)} reaches into the engine: {bad}"


def test_data_modules_import_only_stdlib_numpy_and_each_other():
    allowed = set(sys.stdlib_module_names) | {"numpy", "__future__"}
    for name in DATA_ONLY:
        outside, engine = engine_imports(MODULES[name])
        assert all(top(m) in allowed for m in outside), f"{name} imports {outside}"
        assert all(m in DATA_ONLY for m in engine), f"{name} imports {engine}"


def test_sub_packages_import_nothing_so_data_modules_stay_light():
    for pkg in [p for p in ENGINE.iterdir() if (p / "__init__.py").exists()]:
        tree = ast.parse((pkg / "__init__.py").read_text())
        assert not [n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))], pkg.name


def test_importing_the_data_modules_does_not_load_torch():
    mods = ", ".join(f"stylegan_studio.engine.{m}" for m in DATA_ONLY)
    code = f"import sys; import {mods}; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_every_sub_package_is_installed():
    listed = set(re.findall(r'"(stylegan_studio\.[a-z_.]+)"', (ROOT / "pyproject.toml").read_text()))
    for root, prefix in ((ENGINE, "stylegan_studio.engine"), (ROOT / "app", "stylegan_studio.app")):
        for init in root.rglob("__init__.py"):
            parts = init.parent.relative_to(root).parts
            assert ".".join((prefix,) + parts) in listed, f"pyproject.toml does not install {init.parent}"


def engine_graph() -> dict[str, set[str]]:
    """Engine module → the engine modules it imports (anywhere in the file)."""
    return {name: set(engine_imports(path)[1]) - {name} for name, path in MODULES.items()}


def test_the_engine_core_never_imports_the_command_line():
    for mod, deps in engine_graph().items():
        if top(mod) != "cli":
            assert not [d for d in deps if top(d) == "cli"], f"engine/{mod} imports {deps}"


def test_engine_modules_import_no_circle():
    graph = engine_graph()

    def reaches(start: str, goal: str, seen: set) -> bool:
        return any(d == goal or (d not in seen and not seen.add(d) and reaches(d, goal, seen))
                   for d in graph.get(start, ()))
    circles = [m for m in graph if reaches(m, m, set())]
    assert not circles, f"import circles through {sorted(circles)}"


def test_the_rules_see_the_imports():
    # The checks above are only as good as the resolver: it must find real edges.
    graph = engine_graph()
    assert "render.specs" in graph["render.synth"] and "nets.networks" in graph["render.synth"]
    assert "thread.commands" in graph["thread.engine"] and "render.exports" in graph["thread.commands"]
    assert "cli.export" in graph["cli.main"]
