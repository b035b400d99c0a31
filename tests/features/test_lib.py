"""librosa is imported under a lock shared by every process, so two processes never compile its numba kernels at
the same moment (asp.features.lib)."""

from __future__ import annotations

import subprocess
import sys
import time

from filelock import FileLock

from asp.features.lib import COMPILED_AT_IMPORT, load_librosa, lock_path

WAIT = 5.0  # well above what the child needs without the lock (librosa's lazy import, no compiled modules)
CHILD = """
import time
import asp.features.lib as lib
lib.COMPILED_AT_IMPORT = ("json",)  # nothing to compile: without the lock the child would be done at once
lib.load_librosa()
print(time.time())
"""


def test_the_import_waits_for_another_process_holding_the_lock():
    """A fresh process that loads librosa while this one holds the lock finishes only after it is released."""
    with FileLock(str(lock_path())):
        child = subprocess.Popen([sys.executable, "-c", CHILD], stdout=subprocess.PIPE, text=True)
        time.sleep(WAIT)
        released = time.time()
    out, _ = child.communicate(timeout=120)
    assert child.returncode == 0
    assert float(out.strip()) >= released


def test_the_compiled_modules_are_loaded_and_the_module_is_librosa():
    lib = load_librosa()
    assert lib.__name__ == "librosa" and load_librosa() is lib
    assert all(name in sys.modules for name in COMPILED_AT_IMPORT)
