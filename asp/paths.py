"""Where asp's own data folders are: the training configs (``configs/``) and the built-in presets (``presets/``).

In a source checkout (and an editable install) they are the repository's top-level folders; a wheel carries them
inside the package as ``asp/_configs`` and ``asp/_presets`` (``setup.py`` maps them there), so a plain
``pip install .`` finds them too. ``ASP_CONFIG_DIR`` and ``ASP_PRESETS_DIR`` point elsewhere.
"""

from __future__ import annotations

import os
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _data_dir(top_level: str, packaged: str, env: str) -> Path:
    """The folder named by ``env``, else the checkout's ``top_level`` folder, else the wheel's ``packaged`` one."""
    if os.environ.get(env):
        return Path(os.environ[env])
    checkout = _PACKAGE.parent / top_level
    if checkout.is_dir() and (_PACKAGE.parent / "pyproject.toml").is_file():
        return checkout
    return _PACKAGE / packaged


def config_dir() -> Path:
    """The training configs (Hydra's config folder)."""
    return _data_dir("configs", "_configs", "ASP_CONFIG_DIR")


def presets_dir() -> Path:
    """The built-in hand-made presets (``<synth>/*.json``, ``effects/<group>/*.json``)."""
    return _data_dir("presets", "_presets", "ASP_PRESETS_DIR")


def recorded(path: str | Path) -> str:
    """How a run or dataset records a path it depends on: absolute, so that it survives a ``cd``."""
    return str(Path(path).expanduser().resolve())


def relocate(path: str | Path, *, recorded_home: str | Path | None, home: Path) -> Path:
    """Find again a path that a folder (``home``, once at ``recorded_home``) recorded, after a ``cd`` or a move.

    The path as recorded wins where it exists (absolute, or relative to the working folder, as older runs stored it);
    else the same place relative to the folder's new home (a run folder moved together with its dataset); else the
    recorded path, for the caller's "not found" error to name.
    """
    p = Path(path).expanduser()
    if p.exists():
        return p.resolve()
    if recorded_home is not None:
        moved = Path(os.path.normpath(home / os.path.relpath(p, recorded_home)))
        if moved.exists():
            return moved
    return p
