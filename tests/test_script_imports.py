"""The scripts outside the package (bench/, docs/) still name things the engine has.

They are not run by the suite (they print tables or write figures for minutes), so a moved module or a
renamed function used to break them silently: every `from stylegan_studio... import name` must resolve,
and every `module.attr` on a module imported that way must exist.
"""
import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
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
