"""Models: loading them once per kernel, generation parameters, one generation, its result.

    from h2ogpt_jupyter.models import get_manager
    model = get_manager().load("smollm2")

:mod:`.manager` holds the kernel's loaded models; :mod:`.params` the generation parameters;
:mod:`.generation` runs one generation (stop strings, Stop, ``max_time``); :mod:`.response`
is what it returns; :mod:`.backends` the engines behind one ``Backend`` seam. Nothing here
imports torch or llama.cpp until a model loads.
"""

from __future__ import annotations

from .citations import source_line, sources_markdown
from .generation import Generation
from .manager import TEMPLATE, LoadedModel, ModelManager, get_manager
from .params import GenerationParams
from .response import Response, Usage
from .sysinfo import system_info

__all__ = [
    "TEMPLATE",
    "Generation",
    "GenerationParams",
    "LoadedModel",
    "ModelManager",
    "Response",
    "Usage",
    "get_manager",
    "source_line",
    "sources_markdown",
    "system_info",
]
