"""Loading helpers for the transformers backend: quiet progress bars, returning freed memory,
RoPE scaling and LoRA adapters."""

from __future__ import annotations

import contextlib
import ctypes
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from h2ogpt_jupyter.config import loading_weights
from h2ogpt_jupyter.errors import BackendUnavailableError, InvalidOptionError


@contextlib.contextmanager
def quiet_progress() -> Iterator[None]:
    """No "Loading weights" bar in the cell for a load that takes a fraction of a second; the
    user's own setting comes back afterwards."""
    from transformers.utils import logging as hf_logging

    was_enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_enabled:
            hf_logging.enable_progress_bar()


def return_freed_memory() -> None:
    """Hand freed heap pages back to the OS. glibc keeps the hundreds of megabytes of freed
    weight buffers in its arenas, so without this an unloaded model still shows in the
    process's memory (measured on SmolLM2 fp32: 1180 MB resident after unload, 705 MB after
    trimming, 547 MB before loading)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.malloc_trim(0)
    except (OSError, AttributeError):  # not glibc (musl, ...): nothing to trim
        pass


def rope_factor(rope_scaling: dict[str, Any] | None) -> float:
    if not rope_scaling:
        return 0.0
    try:
        return float(rope_scaling.get("factor", 0.0))
    except (TypeError, ValueError):
        raise InvalidOptionError(f"rope_scaling factor must be a number: {rope_scaling}") from None


def apply_rope_scaling(config: Any, rope_scaling: dict[str, Any]) -> None:
    """Map h2oGPT's ``{"type": "linear", "factor": 2}`` onto transformers' rope settings."""
    scaling = dict(rope_scaling)
    if "type" in scaling:
        scaling["rope_type"] = scaling.pop("type")
    if "rope_type" not in scaling or "factor" not in scaling:
        raise InvalidOptionError(
            'rope_scaling needs "type" and "factor", e.g. {"type": "linear", "factor": 2}'
        )
    rope_factor(scaling)
    params = getattr(config, "rope_parameters", None)
    if isinstance(params, dict):
        config.rope_parameters = {**params, **scaling}
    else:
        config.rope_scaling = scaling


def lora_dir(lora_weights: str) -> Path:
    """The adapter folder, or a one-line reason it is not one (peft's own error is a traceback
    about a missing ``adapter_config.json`` or, offline, a hub lookup of the path)."""
    folder = Path(lora_weights).expanduser()
    if not folder.is_dir():
        raise InvalidOptionError(f"lora_weights: no such directory: {lora_weights}")
    if not (folder / "adapter_config.json").is_file():
        raise InvalidOptionError(
            f"lora_weights: {lora_weights} is not a LoRA adapter (no adapter_config.json; "
            "save one with peft's save_pretrained)"
        )
    return folder


def with_lora(model: Any, folder: Path) -> Any:
    try:
        from peft import PeftModel
    except ImportError:
        raise BackendUnavailableError("lora_weights needs the 'peft' package") from None
    try:
        with loading_weights():
            return PeftModel.from_pretrained(model, str(folder))
    except (ValueError, RuntimeError, OSError, KeyError, TypeError) as exc:
        # e.g. an adapter trained for another model: shapes or module names do not match.
        # torch puts the useful part ("size mismatch for ...") on the second line.
        reason = " ".join(str(exc).split()) or type(exc).__name__
        if len(reason) > 300:
            reason = reason[:299] + "…"
        raise InvalidOptionError(
            f"lora_weights: {folder} does not fit this model: {reason}"
        ) from None
