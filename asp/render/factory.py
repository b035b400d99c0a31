"""Renderers by synth name; one per synth and settings per process, reused."""

from __future__ import annotations

from asp.render.base import Renderer
from asp.render.settings import RenderSettings
from asp.synths import registry

_CACHE: dict[tuple[str, RenderSettings], Renderer] = {}


def make_renderer(name: str, settings: RenderSettings | None = None) -> Renderer:
    """A new renderer for a registered synth (a new DawDreamer engine).

    Raises:
        KeyError: unknown synth (lists the valid names).
        PluginNotFoundError: a plugin synth whose binary is missing (says how to set the path).
    """
    settings = settings or RenderSettings()
    entry = registry.get(name)
    schema = registry.load_schema(name)
    if entry.backend == "faust":
        from asp.render.faust_backend import FaustRenderer

        return FaustRenderer(schema, settings, registry.faust_source(name))
    if entry.backend == "pip":
        import importlib

        module, cls = entry.source.split(":", 1)
        renderer: Renderer = getattr(importlib.import_module(module), cls)(schema, settings)
        return renderer
    from asp.render.plugin_backend import PluginRenderer

    return PluginRenderer(schema, settings, registry.plugin_path(name), reset="instance")


def get_renderer(name: str, settings: RenderSettings | None = None) -> Renderer:
    """This process's renderer for ``name`` (created on first use, then reused)."""
    settings = settings or RenderSettings()
    key = (name, settings)
    if key not in _CACHE:
        _CACHE[key] = make_renderer(name, settings)
    return _CACHE[key]


def clear_renderers() -> None:
    """Drop this process's renderers (tests)."""
    _CACHE.clear()
