"""asp.atomic: complete-or-absent writes with normal permissions."""

import os
import stat

import pytest

from asp.atomic import atomic_dir, atomic_write_bytes


def test_written_file_and_folder_get_the_umask_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        atomic_write_bytes(tmp_path / "f.txt", b"x")
        with atomic_dir(tmp_path / "d") as tmp:
            (tmp / "a").write_text("y")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "f.txt").stat().st_mode) == 0o644
    assert stat.S_IMODE((tmp_path / "d").stat().st_mode) == 0o755


def test_a_failed_folder_leaves_nothing(tmp_path):
    with pytest.raises(RuntimeError):
        with atomic_dir(tmp_path / "d") as tmp:
            (tmp / "a").write_text("y")
            raise RuntimeError("killed")
    assert list(tmp_path.iterdir()) == []
