"""An ingest killed with SIGKILL part-way leaves no half document, and running it again
finishes the job.

A separate process ingests a folder of files and is killed for real. Its vectors come from a
hash, not a model, so it starts in about two seconds and its speed is under the test's control
(``EMBED_DELAY``). To kill it at the most delicate moment — a batch's chunks and pages written,
its manifests (the commit) not — the child can be told to stop before its n-th commit and
announce it with a marker file; the other test watches from outside and kills it once its
first batch is committed and the next one is being written.

What survives is checked by a reader that starts after the kill (:func:`reopen`), as a
restarted kernel would: a local Chroma keeps its vector index in each process's memory, and a
process that loaded it does not see another process's later writes in its searches (the
shared-server mode exists for that).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from h2ogpt_jupyter.documents import Collection, get_collection

CHILD = '''
import hashlib, os, sys, time
from pathlib import Path
import numpy as np
from h2ogpt_jupyter.documents import _ingest, get_collection

class HashEmbedder:
    """Deterministic vectors without torch; EMBED_DELAY seconds per call stand in for a model."""
    model_id, dim, path = "hash-embedder@1", 32, Path(__file__).parent

    def embed(self, texts):
        time.sleep(float(os.environ.get("EMBED_DELAY", "0")))
        rows = [np.frombuffer(hashlib.sha256(t.encode()).digest(), np.uint8) for t in texts]
        vectors = np.array(rows, dtype=np.float32) - 127.5
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

def stop_before_commit(number, marker):
    """Hang for good just before the ``number``-th commit, after writing ``marker``."""
    real, calls = _ingest._Writer._commit, []

    def commit(self, *manifests):
        calls.append(1)
        if len(calls) == number:
            marker.write_text("chunks and pages of this batch are written, its manifests not")
            time.sleep(3600)
        real(self, *manifests)

    _ingest._Writer._commit = commit

if __name__ == "__main__":
    folder, marker = Path(sys.argv[1]), Path(sys.argv[2])
    if os.environ.get("STOP_BEFORE_COMMIT"):
        stop_before_commit(int(os.environ["STOP_BEFORE_COMMIT"]), marker)
    docs = get_collection("MyData", embedder=HashEmbedder())
    print(docs.add(folder, progress=False))
'''

FILES = 30
TAG = re.compile(r"File (\d\d) version ([AB])")


def write_corpus(folder: Path, version: str, sentences: int) -> None:
    """Every sentence names its file and version, so each chunk tells where it came from."""
    folder.mkdir(exist_ok=True)
    for i in range(FILES):
        tag = f"File {i:02d} version {version}"
        lines = [f"{tag}, sentence {n}: " + "moss " * 8 for n in range(sentences)]
        (folder / f"file{i:02d}.txt").write_text("\n".join(lines))


@pytest.fixture
def child(tmp_path: Path) -> tuple[Path, Any]:
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    namespace: dict[str, Any] = {"__file__": str(script), "__name__": "child"}
    exec(compile(CHILD, str(script), "exec"), namespace)
    return script, namespace["HashEmbedder"]()


def start(script: Path, folder: Path, marker: Path, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(script), str(folder), str(marker)],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def kill(proc: subprocess.Popen[str]) -> None:
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL


def visible(col: Collection) -> dict[str, list[str]]:
    """What readers see, checked for consistency: every committed source whole, nothing else.
    Returns each source's chunk texts."""
    manifests = {s["source"]: s for s in col.sources()}
    hits = col.query("moss", k=-1)
    texts: dict[str, list[str]] = {}
    for hit in hits:
        texts.setdefault(hit.source, []).append(hit.text)
    assert set(texts) == set(manifests)
    for source, row in manifests.items():
        assert len(texts[source]) == row["chunks"], source
        tags = {tag for text in texts[source] for tag in TAG.findall(text)}
        assert tags in ({(Path(source).stem[4:], "A")}, {(Path(source).stem[4:], "B")}), source
    assert col.count() == len(hits) == sum(r["chunks"] for r in manifests.values())
    pages = Counter(p.source for p in col.pages())
    assert set(pages) == set(manifests) and all(n == 1 for n in pages.values())
    assert {h.source for h in col.first_chunks(k=1)} == set(manifests)
    return texts


def reopen(embedder: Any) -> Collection:
    """The collection as a process starting now sees it (Chroma's per-process caches dropped)."""
    from chromadb.api.shared_system_client import SharedSystemClient

    from h2ogpt_jupyter.documents import _chroma

    _chroma._clients.clear()
    SharedSystemClient.clear_system_cache()
    return get_collection("MyData", embedder=embedder)


def version_of(texts: list[str]) -> str:
    return str(TAG.findall(texts[0])[0][1])


def test_kill_between_writing_chunks_and_committing_them(
    child: tuple[Path, Any], tmp_path: Path
) -> None:
    script, hasher = child
    folder, marker = tmp_path / "corpus", tmp_path / "paused"
    write_corpus(folder, "A", sentences=200)  # ~29 chunks a file: four batches
    get_collection("MyData", embedder=hasher)  # created once, before the child starts
    proc = start(script, folder, marker, STOP_BEFORE_COMMIT="3")
    deadline = time.monotonic() + 120
    while not marker.exists():
        assert proc.poll() is None, proc.communicate()[1][-2000:]
        assert time.monotonic() < deadline, "the child never reached its third commit"
        time.sleep(0.05)
    kill(proc)

    col = reopen(hasher)
    texts = visible(col)
    assert 0 < len(texts) < FILES  # two batches committed, the third written but not
    leftovers = col._chunks.count() - col.count()
    assert leftovers > 0
    assert col.vacuum() >= leftovers and col._chunks.count() == col.count()
    assert visible(col) == texts  # vacuum only removed what nobody could see

    again = col.add(folder, progress=False)
    status = Counter(f.status for f in again.files)
    assert status == {"unchanged": len(texts), "added": FILES - len(texts)}, str(again)
    assert len(visible(col)) == FILES and col._chunks.count() == col.count()
    assert col.vacuum() == 0


def test_kill_mid_replacement_after_the_first_commit(
    child: tuple[Path, Any], tmp_path: Path
) -> None:
    """Killed while a second batch is being written, its first one committed: whatever was
    replaced shows its new version whole, the rest its old one, and nothing disappears."""
    script, hasher = child
    folder = tmp_path / "corpus"
    write_corpus(folder, "A", sentences=200)
    col = get_collection("MyData", embedder=hasher)
    assert col.add(folder, progress=False).ok
    old_hashes = {s["source"]: s["hash"] for s in col.sources()}
    write_corpus(folder, "B", sentences=150)  # every file changes, with fewer chunks: 3 batches
    proc = start(script, folder, tmp_path / "unused", EMBED_DELAY="0.5")
    deadline, committed, low = time.monotonic() + 120, False, 0
    while True:  # watch from outside, as any reader could
        assert proc.poll() is None, proc.communicate()[1][-2000:]
        assert time.monotonic() < deadline, "the child did not get to its second batch"
        raw = col._chunks.count()
        if not committed:
            committed = any(s["hash"] != old_hashes[s["source"]] for s in col.sources())
            low = raw
        elif raw > low:  # new chunks after the first commit (and its old chunks' removal)
            break
        low = min(low, raw)
        time.sleep(0.02)
    kill(proc)

    col = reopen(hasher)
    texts = visible(col)
    assert len(texts) == FILES  # a replacement never hides the old version
    versions = Counter(version_of(t) for t in texts.values())
    assert versions["A"] > 0 and versions["B"] > 0, versions
    assert col._chunks.count() > col.count()  # the second batch's uncommitted chunks
    assert col.vacuum() > 0
    assert col._chunks.count() == col.count() and visible(col) == texts

    again = col.add(folder, progress=False)
    status = Counter(f.status for f in again.files)
    assert status == {"replaced": versions["A"], "unchanged": versions["B"]}, str(again)
    assert {version_of(t) for t in visible(col).values()} == {"B"}
    assert col._chunks.count() == col.count() and col.vacuum() == 0
