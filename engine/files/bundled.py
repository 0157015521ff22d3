"""Where the bundled default model lives, and how commands pick a model."""
from __future__ import annotations

from pathlib import Path

from ..contract.errors import UserError

RESOURCES = Path(__file__).resolve().parents[2] / "resources"
BUNDLED_MODEL = RESOURCES / "models" / "avatars64.safetensors"


def bundled_model_path() -> Path | None:
    """The bundled model file, or None when this install has none."""
    return BUNDLED_MODEL if BUNDLED_MODEL.is_file() else None


def resolve_model(path: str | None) -> Path:
    """The model a command should use: the given path, else the bundled model."""
    if path:
        return Path(path)
    bundled = bundled_model_path()
    if bundled is None:
        raise UserError("no --model given and no bundled model is installed; "
                        "pass --model FILE (create one with: stylegan-studio new --out FILE)")
    return bundled
