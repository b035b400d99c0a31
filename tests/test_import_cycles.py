"""The import-circle check that scripts/lint.sh runs finds a circle, inside one layer too, and passes on asp."""

from __future__ import annotations

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "check_import_cycles.py"
spec = importlib.util.spec_from_file_location("check_import_cycles", SCRIPT)
assert spec and spec.loader
check = importlib.util.module_from_spec(spec)
spec.loader.exec_module(check)


def test_a_circle_is_found_and_named():
    edges = {"a.x": {"a.y"}, "a.y": {"a.z"}, "a.z": {"a.x", "b"}, "b": set()}
    assert check.find_cycle(edges) == ["a.x", "a.y", "a.z", "a.x"]
    assert check.find_cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None


def test_asp_has_no_import_circle():
    assert check.main() == 0
