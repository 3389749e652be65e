"""Moving a collection to another embedding model on request, with the two tiny random
sentence-transformers (same shape, different weights, so different model ids and vectors).

A crash while copying is a real SIGKILL of a process re-embedding with a slow hash embedder;
a crash during the swap is the state each swap step leaves, built with :func:`_migrate.finish`
stopped after that many steps, then opened as a restarted kernel would.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from h2ogpt_jupyter.documents import (
    Collection,
    Text,
    _migrate,
    get_collection,
    list_collections,
)
from h2ogpt_jupyter.documents.embeddings import Embedder, get_embedder
from h2ogpt_jupyter.errors import H2OGPTError

pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.script_method` is deprecated")

TEXTS = [f"Record {i}: the quick brown fox number {i} jumps." for i in range(12)]


@pytest.fixture
def tiny(tiny_embedder_dir: Path) -> Embedder:
    return get_embedder(tiny_embedder_dir, dtype="float32")


@pytest.fixture
def other(other_embedder_dir: Path) -> Embedder:
    return get_embedder(other_embedder_dir, dtype="float32")


def fill(col: Collection, tmp_path: Path) -> None:
    report = col.add([Text(t, name=f"r{i}") for i, t in enumerate(TEXTS)])
    long = tmp_path / "long.md"
    long.write_text("# Long\n\n" + " ".join(f"Sentence {n} of the long file." for n in range(60)))
    report.files += col.add(long, chunk_size=128).files
    assert report.ok, str(report)


def state(col: Collection) -> tuple[Any, ...]:
    """What a reader sees, apart from vectors."""
    sources = [(s["source"], s["chunks"], s["hash"]) for s in col.sources()]
    pages = [(p.source, p.page, p.text) for p in col.pages()]
    return sources, pages, col.count()


def names(col: Collection) -> set[str]:
    return {getattr(c, "name", c) for c in col._client.list_collections()}


def assert_consistent(col: Collection, embedder: Embedder) -> None:
    """Every stored chunk carries ``embedder`` 's vector of its text; pages and manifests
    the mean of their chunks'; the chunks' own texts are their nearest neighbours."""
    got = col._chunks.get(include=["documents", "metadatas", "embeddings"])
    expected = embedder.embed(got["documents"])
    assert np.allclose(np.asarray(got["embeddings"]), expected, atol=1e-5)
    assert col._chunks.metadata["embedding_model"] == embedder.model_id == col.model_id
    rows = {m["chunk"]: v for m, v in zip(got["metadatas"], expected, strict=True)
            if m["source"].endswith("long.md")}  # fmt: skip
    manifest = col._docs.get(where={"kind": "source"}, include=["metadatas", "embeddings"])
    for meta, vector in zip(manifest["metadatas"], manifest["embeddings"], strict=True):
        assert meta["embedding_model"] == embedder.model_id
        if meta["source"].endswith("long.md"):
            mean = np.mean(list(rows.values()), axis=0)
            assert np.allclose(vector, mean / np.linalg.norm(mean), atol=1e-5)
    for i in (0, 7):
        hit = col.query(TEXTS[i], k=1)[0]
        assert hit.source == f"text:r{i}" and hit.distance == pytest.approx(0, abs=1e-4)


def test_reembed_on_request_moves_the_collection_to_the_new_model(
    tiny: Embedder, other: Embedder, other_embedder_dir: Path, tmp_path: Path
) -> None:
    col = get_collection("MyData", embedder=tiny)
    fill(col, tmp_path)
    before = state(col)
    with pytest.raises(H2OGPTError, match=r"reembed=True") as refused:
        get_collection("MyData", embedder=other)
    assert ".reembed(hf_embedding_model=" in str(refused.value)

    moved = get_collection("MyData", embedder=other, reembed=True)
    assert state(moved) == before and moved._chunks.count() == moved.count()
    assert_consistent(moved, other)
    meta = moved._chunks.metadata
    assert meta["reembedded_from"] == tiny.model_id and meta["embedding_dim"] == 32
    assert names(moved) == {"MyData", "MyData.docs"}  # no staging or retired copies left
    assert [r["embedding_model"] for r in list_collections()] == [other.model_id]

    # From now on the recorded model is the new one, and the old one is refused.
    assert get_collection("MyData").model_id == other.model_id
    with pytest.raises(H2OGPTError, match="was built with embedding model tiny-embedder@"):
        get_collection("MyData", embedder=tiny)
    assert moved.reembed(embedder=other) == 0  # already there: nothing to do
    # And back, by folder, through the method.
    assert moved.reembed(hf_embedding_model=str(tiny.path)) == before[2]
    assert moved.model_id == tiny.model_id and state(moved) == before
    moved.add(Text("Added after moving back.", name="late"))
    assert moved.query("Added after moving back.", k=1)[0].source == "text:late"


@pytest.mark.parametrize("steps", [0, 1, 2, 3, 4])
def test_a_crash_during_the_swap_rolls_forward_on_open(
    steps: int, tiny: Embedder, other: Embedder, tmp_path: Path
) -> None:
    col = get_collection("Swapped", embedder=tiny)
    fill(col, tmp_path)
    before = state(col)
    assert _migrate.build(col._client, "Swapped", other) == before[2]
    _migrate.finish(col._client, "Swapped", steps=steps)  # the process dies here

    reopened = get_collection("Swapped")  # the recorded model, whichever it is now
    expected = tiny if steps == 0 else other  # before the first rename, nothing changed yet
    assert reopened.model_id == expected.model_id and state(reopened) == before
    assert_consistent(reopened, expected)
    if steps == 0:  # asking again finishes the copy that was already complete
        reopened = get_collection("Swapped", embedder=other, reembed=True)
        assert_consistent(reopened, other)
    reopened.vacuum()  # drops a retired copy if the crash left one
    assert names(reopened) == {"Swapped", "Swapped.docs"}


CHILD = '''
import hashlib, os, sys, time
from pathlib import Path
import numpy as np
from h2ogpt_jupyter.documents import _migrate, get_collection

class HashEmbedder:
    """Deterministic vectors without torch; ``delay`` seconds per call stand in for a model."""
    dim, path = 32, Path(__file__).parent

    def __init__(self, salt, delay=0.0):
        self.salt, self.delay, self.model_id = salt, delay, f"hash-{salt}@1"

    def embed(self, texts):
        time.sleep(self.delay)
        rows = [np.frombuffer(hashlib.sha256((self.salt + t).encode()).digest(), np.uint8)
                for t in texts]
        vectors = np.array(rows, dtype=np.float32) - 127.5
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

if __name__ == "__main__":
    _migrate.READ_PAGE = 20  # many small slices, so the copy takes a while
    docs = get_collection("MyData", embedder=HashEmbedder("a"))
    docs.reembed(embedder=HashEmbedder("b", delay=0.2))
'''


def test_a_crash_while_copying_leaves_the_old_model_in_place(tmp_path: Path) -> None:
    from chromadb.api.shared_system_client import SharedSystemClient

    from h2ogpt_jupyter.documents import _chroma

    script = tmp_path / "child.py"
    script.write_text(CHILD)
    namespace: dict[str, Any] = {"__file__": str(script), "__name__": "child"}
    exec(compile(CHILD, str(script), "exec"), namespace)
    a, b = namespace["HashEmbedder"]("a"), namespace["HashEmbedder"]("b")
    col = get_collection("MyData", embedder=a)
    col.add([Text(f"Note {i} about lichens.", name=f"n{i}") for i in range(100)])
    before = state(col)

    proc = subprocess.Popen([sys.executable, str(script)], stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while True:  # kill it once part of the copy is written
        assert proc.poll() is None, proc.communicate()[1][-2000:]
        assert time.monotonic() < deadline, "the copy never started"
        staging = _migrate._get(col._client, "MyData" + _migrate.STAGING)
        if staging is not None and staging.count() >= 40:
            break
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)

    _chroma._clients.clear()  # read as a process starting now would
    SharedSystemClient.clear_system_cache()
    col = get_collection("MyData", embedder=a)
    assert state(col) == before and col.model_id == a.model_id
    assert col.query("Note 42 about lichens.", k=1)[0].source == "text:n42"
    assert [(r["name"], r["chunks"]) for r in list_collections()] == [("MyData", 100)]
    with pytest.raises(H2OGPTError, match="was built with embedding model hash-a@1"):
        get_collection("MyData", embedder=b)

    assert col.reembed(embedder=b) == 100  # the half copy is discarded and redone
    assert state(col) == before and col.model_id == b.model_id
    assert col.query("Note 42 about lichens.", k=1)[0].distance == pytest.approx(0, abs=1e-4)
    assert names(col) == {"MyData", "MyData.docs"}
