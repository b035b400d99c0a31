"""Loading checkpoints safely: tensors and plain data only, never pickled code.

A ``.ckpt`` someone shares could carry a pickled object whose unpickling runs code. asp's checkpoints hold only
tensors, numbers, strings, lists and dicts (the weights, optimizer state, hyper-parameters as plain data and the
``asp`` block of schema hashes), so they are read with ``torch.load(weights_only=True)``, which refuses anything else.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any


class UnsafeCheckpoint(ValueError):
    """A checkpoint holds more than tensors and plain data (it would run code when loaded)."""


def load_checkpoint(path: str | Path, map_location: Any = "cpu") -> dict[str, Any]:
    """The checkpoint's contents, loaded without unpickling arbitrary objects.

    Raises:
        FileNotFoundError: no such file.
        UnsafeCheckpoint: the file holds pickled objects other than tensors and plain data, naming the file.
    """
    import torch

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such checkpoint")
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise UnsafeCheckpoint(
            f"{path}: refused: the checkpoint holds pickled objects beyond tensors and plain data, "
            f"which could run code when loaded ({first})"
        ) from None


def save_tensors(obj: Any, path: str | Path) -> None:
    """Write tensors and plain data (what :func:`load_checkpoint` reads back) to ``path``, atomically."""
    import io

    import torch

    from asp.atomic import atomic_write_bytes

    buf = io.BytesIO()
    torch.save(obj, buf)
    atomic_write_bytes(path, buf.getvalue())
