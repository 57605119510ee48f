"""The layout rules of docs/architecture.md, checked on the source tree.

Imports point one way (data <- modeling <- evaluation <- training <- rjs / entry points), the core
library knows nothing of the application, no private module sits at the application's top level,
and no function grows past 60 lines.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "applications" / "reward_models"
PREFIX = "applications.reward_models"

# Which rooms (or shared top-level modules) each room may import. A room may always import itself.
SHARED = {"cli", "files"}
ALLOWED: dict[str, set[str]] = {
    "data": set(),
    "modeling": {"data"},
    "evaluation": {"data", "modeling"},
    "training": {"data", "modeling", "evaluation"},
    "integrations": {"data", "modeling", "evaluation", "training"},
    "rjs": {"data", "modeling", "evaluation"},
    "testing": {"data", "modeling", "rjs"},
    "cli": set(),
    "files": set(),
}
MAX_FUNCTION_LINES = 60


def _python_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.py") if "__pycache__" not in p.parts)


def _room(path: Path) -> str:
    relative = path.relative_to(APP)
    return relative.parts[0] if len(relative.parts) > 1 else relative.stem


def _imported_modules(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return found


def _target_room(module: str) -> str | None:
    if not module.startswith(PREFIX + "."):
        return None
    return module[len(PREFIX) + 1 :].split(".")[0]


@pytest.mark.parametrize("path", _python_files(APP), ids=lambda p: str(p.relative_to(ROOT)))
def test_application_imports_point_one_way(path: Path) -> None:
    room = _room(path)
    if room not in ALLOWED:  # entry points (train, evaluate, reproduce, study) may import anything
        return
    allowed = ALLOWED[room] | SHARED | {room}
    bad = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for line, module in _imported_modules(path)
        if (target := _target_room(module)) is not None and target not in allowed
    ]
    assert not bad, "imports against the one-way flow (docs/architecture.md):\n" + "\n".join(bad)


@pytest.mark.parametrize("path", _python_files(ROOT / "mooptim"), ids=lambda p: p.name)
def test_mooptim_knows_nothing_of_the_application(path: Path) -> None:
    for line, module in _imported_modules(path):
        top = module.split(".")[0]
        assert top not in {"transformers", "applications", "datasets", "accelerate"}, (
            f"{path.relative_to(ROOT)}:{line} imports {module}"
        )


def test_no_private_module_at_the_application_top_level() -> None:
    private = [p.name for p in APP.glob("_*.py") if p.name != "__init__.py"]
    assert not private, f"private modules belong inside a room: {private}"
