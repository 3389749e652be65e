"""A converted safetensors copy of a GGUF model, so transformers loads it once, not every time.

transformers parses and dequantizes GGUF in Python (over 20 s for SmolLM2 on two cores); the
saved copy reloads in a fraction of a second and, being ordinary HF weights, can also be loaded
in 8 or 4 bits by bitsandbytes, which GGUF loading cannot.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from h2ogpt_jupyter.config import loading_weights


def cache_root() -> Path:
    base = os.environ.get("H2OGPT_CACHE_DIR")
    if base:
        return Path(base).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("h2ogpt-jupyter"))


def converted_dir(gguf_path: Path) -> Path:
    """Where the copy of this exact file lives (keyed by path, size and mtime)."""
    stat = gguf_path.stat()
    key = f"{gguf_path.resolve()}|{stat.st_size}|{int(stat.st_mtime)}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return cache_root() / "converted" / f"{gguf_path.stem}-{digest}"


def is_converted(folder: Path) -> bool:
    return (folder / "config.json").is_file() and (folder / "tokenizer_config.json").is_file()


def convert(gguf_path: Path, target: Path, dtype: Any) -> None:
    """Load the GGUF through transformers and save a plain HF copy, atomically."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder, name = str(gguf_path.parent), gguf_path.name
    with loading_weights():
        tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
        model: Any = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=dtype)
    # A GGUF-loaded model remembers its quantizer and refuses to serialize; the weights are
    # already dequantized, so the copy is an ordinary checkpoint.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".partial-", dir=target.parent))
    try:
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        try:
            staging.rename(target)
        except OSError:  # another process finished first; theirs is as good as ours
            shutil.rmtree(staging, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
