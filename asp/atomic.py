"""Writes that are either absent (or the old version) or complete: temporary file or folder, then one rename.

Used by every writer in asp, so that a killed job never leaves a half-written output that looks finished.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write a file so that it is either absent/old or complete (temp file + rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; the result gets a normal file's permissions
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_npz(path: str | Path, arrays: dict[str, Any]) -> None:
    """Write numpy arrays as one ``.npz`` (``numpy.savez``), atomically."""
    import io

    import numpy as np

    buf = io.BytesIO()
    np.savez(buf, **arrays)
    atomic_write_bytes(path, buf.getvalue())


@contextmanager
def atomic_dir(final: str | Path, replace: bool = True) -> Iterator[Path]:
    """Fill a folder that appears at ``final`` only when the block ends without an error.

    Yields a temporary folder beside ``final`` (named ``.tmp-<name>-*``, removed on error). An existing ``final`` is
    replaced (``replace``) or kept, the new one being dropped (a retried task whose twin already landed).
    """
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{final.name}-", dir=final.parent))
    try:
        yield tmp
        os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes 0700; the result gets a normal folder's permissions
        if final.exists():
            if not replace:
                shutil.rmtree(tmp)
                return
            old = Path(tempfile.mkdtemp(prefix=f".tmp-{final.name}-old-", dir=final.parent))
            os.replace(final, old / "x")
            os.replace(tmp, final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def clean_partial(folder: str | Path, pattern: str = ".tmp-*") -> None:
    """Remove temporary folders and files a killed run left in ``folder`` (matching ``pattern``)."""
    for tmp in Path(folder).glob(pattern):
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            tmp.unlink(missing_ok=True)
