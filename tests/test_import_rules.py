"""The app/engine boundary: engine never imports Qt, app never imports torch, one bridge crosses."""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QT = ("PySide6", "shiboken6", "pyqtgraph", "superqt", "qtawesome", "qtpy")
TORCH = ("torch", "safetensors")
DATA_ONLY = ("messages", "specs", "videospec", "stillspec", "train_config", "config", "errors")  # stdlib + numpy only


def imports(path: Path) -> list[tuple[str, int]]:
    """(module, relative level) for every import in a file."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out += [(a.name, 0) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            out.append((node.module or "", node.level))
            if node.module is None or node.module == "engine":
                out += [(f"engine.{a.name}", node.level) for a in node.names]
    return out


def top(name: str) -> str:
    return name.split(".")[0]


def test_engine_never_imports_qt():
    for path in (ROOT / "engine").rglob("*.py"):
        bad = [m for m, lvl in imports(path) if lvl == 0 and top(m) in QT]
        assert not bad, f"{path.name} imports {bad}"


def test_app_never_imports_torch_and_only_the_bridge_reaches_the_engine():
    for path in (ROOT / "app").rglob("*.py"):
        mods = imports(path)
        assert not [m for m, lvl in mods if lvl == 0 and top(m) in TORCH], f"{path.name} imports torch"
        engine = [m for m, lvl in mods if (lvl >= 2 and top(m) == "engine") or m.startswith("stylegan_studio.engine")]
        if path.name != "bridge.py":
            bad = [m for m in engine if m.split(".")[-1] not in DATA_ONLY]
            assert not bad, f"{path.relative_to(ROOT)} reaches into the engine: {bad}"


def test_data_modules_import_only_stdlib_and_numpy():
    import sys
    allowed = set(sys.stdlib_module_names) | {"numpy", "__future__"}
    for name in DATA_ONLY:
        path = ROOT / "engine" / f"{name}.py"
        if not path.exists():
            continue
        for mod, lvl in imports(path):
            if lvl == 0:
                assert top(mod) in allowed, f"{name}.py imports {mod}"
            else:
                assert mod.split(".")[-1] in DATA_ONLY, f"{name}.py imports .{mod}"


def test_importing_the_data_modules_does_not_load_torch():
    import subprocess, sys
    code = ("import sys; import stylegan_studio.engine.messages, stylegan_studio.engine.specs; "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def engine_graph() -> dict[str, set[str]]:
    """Engine module → the engine modules it imports (anywhere in the file)."""
    graph = {}
    for path in (ROOT / "engine").glob("*.py"):
        deps = set()
        for mod, lvl in imports(path):
            if mod.startswith("engine."):
                deps.add(mod.split(".")[1])
            elif lvl == 1 and mod:
                deps.add(mod.split(".")[0])
        graph[path.stem] = deps
    return graph


def test_the_engine_core_never_imports_the_command_line():
    for mod, deps in engine_graph().items():
        if not mod.startswith("cli"):
            assert not [d for d in deps if d.startswith("cli")], f"engine/{mod}.py imports {deps}"


def test_engine_modules_import_no_circle():
    graph = engine_graph()

    def reaches(start: str, goal: str, seen: set) -> bool:
        return any(d == goal or (d not in seen and not seen.add(d) and reaches(d, goal, seen))
                   for d in graph.get(start, ()))
    circles = [m for m in graph if reaches(m, m, set())]
    assert not circles, f"import circles through {sorted(circles)}"
