"""librosa, imported safely when several processes start at once.

librosa compiles some of its kernels with numba at import time (``guvectorize`` with ``cache=True``: the pitch
tracker's parabolic interpolation, the local maxima and minima of ``librosa.util``) and keeps them in numba's on-disk
cache. When two processes compile the same kernels at the same moment (the two workers of a job pool on a fresh
install, or two ``asp`` commands started together), numba can write a kernel and its wrapper with mismatched version
tags, and from then on every process that loads them crashes with a segmentation fault (numba issue #10128; seen here:
after the first runs on a new machine, where several processes used librosa at once, ``librosa.pyin`` crashed in every
process until the cache was deleted). :func:`load_librosa` imports
librosa and the modules holding those kernels once per process, under a lock shared by every process of this user, so
only one process compiles them and the others load what it cached.

A cache that an earlier, unprotected run has already broken stays broken: delete numba's cache files of librosa
(``*.nbi`` and ``*.nbc`` under librosa's ``__pycache__`` folders, or under ``NUMBA_CACHE_DIR`` if set).
"""

from __future__ import annotations

import functools
import getpass
import importlib
import tempfile
from pathlib import Path
from types import ModuleType

# the librosa modules that compile numba kernels when imported
COMPILED_AT_IMPORT = ("librosa.util.utils", "librosa.core.audio", "librosa.core.pitch")


def lock_path() -> Path:
    """The lock file every process of this user takes while it imports librosa's compiled kernels."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no user name (e.g. an unnamed uid in a container)
        user = "unknown"
    return Path(tempfile.gettempdir()) / f"asp-numba-{user}.lock"


@functools.cache
def load_librosa() -> ModuleType:
    """The ``librosa`` module with its numba-compiled submodules imported (see the module docstring)."""
    from filelock import FileLock

    with FileLock(str(lock_path())):
        for name in COMPILED_AT_IMPORT:
            importlib.import_module(name)
        return importlib.import_module("librosa")
