"""bench/ imports nothing from tests/: the harnesses and synthetic fixtures both use live in bench/."""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _imported(path: Path) -> set[str]:
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
        assert not _imported(path) & test_modules, f"{path.name} imports {_imported(path) & test_modules}"
        assert '"tests"' not in text and "'tests'" not in text, f"{path.name} reaches into tests/ by path"
