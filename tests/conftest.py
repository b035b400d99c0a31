"""Shared fixtures. Audio is rendered by the tests into tmp_path, never committed."""

from __future__ import annotations

import os

import asp.render  # noqa: F401  (DawDreamer before librosa/numba)
import pytest

from asp.synths import registry


def renderable() -> list[str]:
    """Registered synths that can render on this machine."""
    return [n for n in registry.names() if registry.render_status(n)[0]]


def plugin_renderable() -> list[str]:
    return [n for n in renderable() if registry.get(n).backend == "plugin"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked `plugin` skip (not fail) when amsynth is missing, unless CI requires it."""
    if os.environ.get("ASP_REQUIRE_PLUGIN") == "1" or "amsynth" in plugin_renderable():
        return
    skip = pytest.mark.skip(reason="amsynth not installed (apt-get install amsynth)")
    for item in items:
        if "plugin" in item.keywords:
            item.add_marker(skip)
