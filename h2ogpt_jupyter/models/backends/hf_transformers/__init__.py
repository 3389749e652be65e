"""The Hugging Face transformers engine: loading (GGUF through a converted copy, 8/4-bit,
LoRA, RoPE scaling), streaming one request, and continuous batching of many.

:mod:`.backend` is the :class:`~h2ogpt_jupyter.models.backends.base.Backend`; :mod:`.loading`
its load helpers; :mod:`.gguf_cache` the converted copy of a GGUF file; :mod:`.streaming` how
one request streams, alone or in the batch; :mod:`.batching` the batching loop;
:mod:`.cpu_linear` linear layers that keep their speed for small batches on a CPU. Importing
this package imports torch and transformers.
"""

from __future__ import annotations

from .backend import TransformersBackend, cpu_has_bf16

__all__ = ["TransformersBackend", "cpu_has_bf16"]
