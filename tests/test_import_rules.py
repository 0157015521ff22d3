"""The app/engine boundary and the engine's layout.

Engine never imports Qt, app never imports torch, one bridge crosses; outside the bridge the app
reads only the contract floor (engine/contract/). Inside the engine: sub-packages stacked
contract < nets < files < render < directions < metrics < train < thread < cli (docs/architecture.md),
no import runs up the stack, no circles, and imports sit at the top of a file unless deliberate.
The scripts in bench/ and docs/ use only engine names that exist.
"""
import ast
import importlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
import import_scan as scan  # bench/ is on pytest's pythonpath (the one import resolver; it prints the same figures)

ENGINE = scan.ENGINE
QT = ("PySide6", "shiboken6", "pyqtgraph", "superqt", "qtawesome", "qtpy")
TORCH = ("torch", "safetensors")
MODULES = scan.MODULES
# The engine modules the app may read without the bridge: the contract floor, stdlib + numpy only, never torch.
DATA_ONLY = tuple(sorted(m for m in MODULES if m.startswith("contract.")))


def engine_imports(path: Path) -> tuple[list[str], list[str]]:
    """(top-level non-engine modules, engine modules) a file imports, anywhere in it."""
    found = scan.file_imports(path)
    return [i.name for i in found if not i.engine], [i.name for i in found if i.engine]


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
    return scan.module_graph()


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
    assert "contract.latents" in graph["render.synth"] and "nets.api" in graph["render.synth"]
    assert "thread.commands" in graph["thread.engine"] and "render.exports" in graph["thread.commands"]
    assert "cli.export" in graph["cli.main"]


def test_every_engine_module_sits_in_a_layer_of_the_stack():
    stray = sorted({scan.unit(m) for m in MODULES if m} - set(scan.STACK))
    assert not stray, f"engine modules outside the stack {scan.STACK}: {stray}"


def test_no_import_runs_up_the_stack_and_no_two_sub_packages_import_each_other():
    graph = scan.unit_graph()
    assert not scan.upward_edges(graph), f"imports up the stack: {scan.upward_edges(graph)}"
    assert not scan.two_way_pairs(graph) and not scan.cycles(graph)


def test_the_stack_check_sees_an_upward_import():
    # The check above must fail on a real violation, not pass on an empty graph.
    graph = scan.unit_graph()
    assert "contract" in graph["render"] and "render" in graph["thread"]
    assert scan.upward_edges({**graph, "render": graph["render"] | {"thread"}}) == [("render", "thread")]
    assert scan.two_way_pairs({"a": {"b"}, "b": {"a"}}) == [("a", "b")] and scan.cycles({"a": {"b"}, "b": {"a"}})


def test_imports_inside_functions_are_deliberate_and_say_why():
    for root in (ENGINE, ROOT / "app"):
        for f, line in scan.in_function_imports(root):
            text = (ROOT / f).read_text().splitlines()[line - 1]
            assert "# deliberate:" in text, f"{f}:{line} imports inside a function without saying why: {text.strip()}"


def test_the_tests_mirror_the_sub_packages():
    # tests/<part>/ for each part of the house (engine sub-packages, and app); shared helpers stay in tests/.
    parts = set(scan.STACK) | {"app"}
    folders = {p.name for p in (ROOT / "tests").iterdir() if p.is_dir() and p.name not in ("data", "__pycache__")}
    assert folders <= parts, f"test folders that name no part: {sorted(folders - parts)}"
    loose = sorted(p.name for p in (ROOT / "tests").glob("test_*.py") if p.name != Path(__file__).name)
    assert not loose, f"tests outside a part's folder: {loose}"


def _top_level_imports(path: Path) -> set[str]:
    """Top-level module names a file imports."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_bench_imports_nothing_from_tests():
    test_modules = {p.stem for p in (ROOT / "tests").glob("*.py")} | {"tests"}
    for path in sorted((ROOT / "bench").rglob("*.py")):
        text = path.read_text()
        found = _top_level_imports(path) & test_modules
        assert not found, f"{path.name} imports {found}"
        assert '"tests"' not in text and "'tests'" not in text, f"{path.name} reaches into tests/ by path"


# The scripts outside the package (bench/, docs/) are not run by the suite (they print tables or write
# figures for minutes), so a moved module or renamed function used to break them silently: every
# `from stylegan_studio... import name` must resolve, and every `module.attr` on a module so imported exist.
SCRIPTS = sorted((ROOT / "bench").rglob("*.py")) + sorted((ROOT / "docs").rglob("*.py"))


def resolve(module: str, name: str):
    """The object `from module import name` binds, or None when the engine has no such thing."""
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError:
        return None
    if hasattr(mod, name):
        return getattr(mod, name)
    try:
        return importlib.import_module(f"{module}.{name}")
    except ModuleNotFoundError:
        return None


def stale_names(path: Path) -> list[str]:
    """What a script imports or uses from stylegan_studio that does not exist."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    missing, modules = [], {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("stylegan_studio"):
            for alias in node.names:
                obj = resolve(node.module, alias.name)
                if obj is None:
                    missing.append(f"{node.module}.{alias.name}")
                elif hasattr(obj, "__file__"):
                    modules[alias.asname or alias.name] = obj
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in modules:
            if not hasattr(modules[node.value.id], node.attr):
                missing.append(f"{node.value.id}.{node.attr}")
    return missing


def test_scripts_are_found():
    assert any(p.name == "bench_width.py" for p in SCRIPTS) and any(p.name == "ship_model.py" for p in SCRIPTS)


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_script_names_exist(path):
    assert not stale_names(path), f"{path.relative_to(ROOT)} uses names the engine no longer has"


def test_a_stale_name_is_caught(tmp_path):
    script = tmp_path / "old.py"
    script.write_text("from stylegan_studio.engine.render import synth\n"
                      "from stylegan_studio.engine.contract.requests import ImageSpec\n"
                      "synth.init_w_avg(None)\nsynth.render_latents\n")
    assert stale_names(script) == ["stylegan_studio.engine.contract.requests.ImageSpec", "synth.init_w_avg"]
