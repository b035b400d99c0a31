"""How a synth sounds: one render API over Faust built-ins and DawDreamer-hosted plugins.

Import this package before librosa/numba (it imports DawDreamer first; see the pitfalls on LLVM).
"""

from __future__ import annotations

import dawdreamer  # noqa: F401  (must come before numba/librosa)

from asp.render.base import Renderer, RenderError
from asp.render.factory import clear_renderers, get_renderer, make_renderer
from asp.render.settings import RenderSettings

__all__ = ["RenderError", "RenderSettings", "Renderer", "clear_renderers", "get_renderer", "make_renderer"]
