"""Loads of weights on several threads at once: transformers patches torch process-wide while
it loads, so two loads side by side broke each other (untied heads, meta tensors, and
``tie_weights`` left a no-op for good). Every load in the package holds one lock."""

from __future__ import annotations

import ast
import threading
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "h2ogpt_jupyter"
LOADERS = ("from_pretrained", "SentenceTransformer")


def _whole(model: Any) -> bool:
    """The tiny Llama's head is its embedding (tied), with data."""
    head, embedding = model.lm_head.weight, model.model.embed_tokens.weight
    return head.device.type != "meta" and head.data_ptr() == embedding.data_ptr()


def test_a_model_and_the_embedding_model_loading_at_once_both_come_out_whole(
    manager: Any, tiny_model_dir: Path, tiny_embedder_dir: Path
) -> None:
    from transformers import PreTrainedModel

    from h2ogpt_jupyter.documents.embeddings import Embedder

    tie_weights = PreTrainedModel.tie_weights
    errors: list[BaseException] = []

    def embed() -> None:
        try:
            for _ in range(6):
                Embedder(tiny_embedder_dir, dtype="float32").load()
        except BaseException as exc:
            errors.append(exc)

    beside = threading.Thread(target=embed)
    beside.start()
    broken = 0
    for i in range(6):
        handle = manager.load(str(tiny_model_dir), alias=f"t{i}", dtype="float32")
        broken += not _whole(handle.backend.model)
        manager.unload(f"t{i}")
    beside.join()
    assert not errors, errors
    assert broken == 0
    assert PreTrainedModel.tie_weights is tie_weights  # nothing left patched


def test_opening_a_collection_imports_in_the_background_but_loads_no_weights(
    tiny_embedder_dir: Path,
) -> None:
    from h2ogpt_jupyter.documents.embeddings import Embedder

    embedder = Embedder(tiny_embedder_dir, dtype="float32")
    embedder.prepare_in_background()
    assert embedder._loader is not None
    embedder._loader.join(timeout=60)
    assert not embedder.loaded  # a user's own load in the next cell never meets ours
    assert embedder.embed(["one"]).shape == (1, 32)


def _held(tree: ast.AST) -> set[int]:
    """Line numbers of every call made inside ``with loading_weights():``."""
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.With) and any(
            isinstance(item.context_expr, ast.Call)
            and getattr(item.context_expr.func, "id", "") == "loading_weights"
            for item in node.items
        ):
            inside |= {n.lineno for n in ast.walk(node) if isinstance(n, ast.Call)}
    return inside


def test_every_load_of_weights_in_the_package_holds_the_lock() -> None:
    loose = []
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        held = _held(tree)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "attr", getattr(node.func, "id", ""))
            if name in LOADERS and node.lineno not in held:
                loose.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not loose, loose
