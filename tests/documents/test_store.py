"""Collections on a real Chroma in temporary folders, embedded by a tiny random
sentence-transformer (2 layers, hidden 32, MiniLM's tokenizer) built once per session.

Random vectors carry no meaning, so retrieval here is checked with exact texts: a chunk's own
text is its nearest neighbour. Retrieval quality is the integration test's job
(``test_documents_retrieval.py``).
"""

from __future__ import annotations

import http.server
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from h2ogpt_jupyter.documents import (
    Collection,
    Text,
    _ingest,
    delete_collection,
    embeddings,
    get_collection,
    list_collections,
)
from h2ogpt_jupyter.documents.embeddings import Embedder, get_embedder
from h2ogpt_jupyter.errors import H2OGPTError, InvalidOptionError

from .corpus import PDF_PAGES, TEXTS, make_corpus, make_hostile

# torch warns about its own mkldnn module on import; nothing to do with this code.
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.script_method` is deprecated")


@pytest.fixture
def tiny(tiny_embedder_dir: Path) -> Embedder:
    """fp32, so that a text and its stored chunk embed to the same vector exactly."""
    return get_embedder(tiny_embedder_dir, dtype="float32")


@pytest.fixture
def col(tiny: Embedder) -> Collection:
    return get_collection("MyData", embedder=tiny)


@pytest.fixture(scope="module")
def corpus_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("corpus")
    make_corpus(folder)
    return folder


def raw_chunk_count(collection: Collection) -> int:
    return collection._chunks.count()


def test_every_type_goes_in_with_pages_and_metadata(col: Collection, corpus_dir: Path) -> None:
    report = col.add(corpus_dir)
    assert report.ok and len(report.added) == len(TEXTS) + 5, str(report)
    assert report.status_of("doc.pdf").pages == 2
    assert raw_chunk_count(col) == col.count() == report.chunks
    rows = {Path(r["source"]).name: r for r in col.sources()}
    assert rows["doc.pdf"]["parser"] == "pypdf" and rows["deck.pptx"]["pages"] == 2
    assert len(rows["doc.pdf"]["hash"]) == 64 and rows["doc.pdf"]["date"]

    hit = col.query(PDF_PAGES[1], k=1)[0]
    assert (Path(hit.source).name, hit.page, hit.parser) == ("doc.pdf", 2, "pypdf")
    assert hit.distance == pytest.approx(0, abs=1e-4) and hit.score == pytest.approx(1, abs=1e-4)
    assert hit.metadata["hash"] == rows["doc.pdf"]["hash"] and hit.chunk_id.endswith("-1")
    sheet = col.query("species: anglerfish\ndepth_m: 2000", k=1)[0]
    assert (sheet.page, sheet.metadata["sheet"]) == (2, "Fish")


def test_hostile_batch_reports_each_file_and_loads_the_rest(
    col: Collection, tmp_path: Path
) -> None:
    hostile = make_hostile(tmp_path / "bad")
    good = tmp_path / "good.md"
    good.write_text("# Fine\n\nA perfectly good file.")
    report = col.add([*hostile.values(), good, tmp_path / "missing.txt"], max_file_mb=0.01)
    status = {Path(f.source).name: (f.status, f.message) for f in report.files}
    assert status["good.md"] == ("added", "")
    assert status["latin1.txt"][0] == "added" and "decoded as cp1252" in status["latin1.txt"][1]
    expected = {
        "empty.txt": "empty file",
        "blank.md": "empty file",
        "binary.txt": "binary",
        "truncated.pdf": "truncated",
        "scanned.pdf": "no text layer",
        "broken.json": "invalid JSON",
        "huge.txt": "too large",
        "fake.docx": "corrupt",
        "missing.txt": "no such file",
    }
    for name, words in expected.items():
        assert status[name][0] == "error" and words in status[name][1], (name, status[name])
    assert {Path(s["source"]).name for s in col.sources()} == {"good.md", "latin1.txt"}
    assert "Crème brûlée" in col.query("Crème brûlée au café, naïve façade.", k=1)[0].text
    assert raw_chunk_count(col) == col.count() == report.chunks


def test_reingest_unchanged_changed_and_rechunked(col: Collection, tmp_path: Path) -> None:
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("Alpha version one. " * 20)
    b.write_text("Bravo stays the same.")
    first = col.add(tmp_path)
    assert [f.status for f in first.files] == ["added", "added"]
    again = col.add([a, b])
    assert [f.status for f in again.files] == ["unchanged", "unchanged"] and again.chunks == 0
    assert raw_chunk_count(col) == first.chunks

    a.write_text("Alpha version two, rewritten entirely.")
    changed = col.add(tmp_path)
    assert [f.status for f in changed.files] == ["replaced", "unchanged"]
    assert col.count() == raw_chunk_count(col) == 2
    assert all("version one" not in h.text for h in col.query("Alpha version one.", k=-1))

    b.write_text("Bravo " * 100)
    col.add(b)
    small = col.add(b, chunk_size=64)  # same bytes, new chunking: replaced, no leftovers
    assert small.status_of("b.txt").status == "replaced"
    assert col.count() == raw_chunk_count(col) == 1 + small.chunks
    pages = col.pages(str(b))
    assert len(pages) == 1 and pages[0].text == "Bravo " * 100 and pages[0].page is None


def test_dotdot_names_and_duplicate_file_names(col: Collection, tmp_path: Path) -> None:
    for folder in ("one", "two"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "notes.md").write_text(f"Notes from folder {folder}.")
    dotted = tmp_path / "two" / ".." / "one" / "notes.md"
    report = col.add([tmp_path / "one" / "notes.md", str(dotted), tmp_path / "two"])
    assert [f.source for f in report.files] == [
        str((tmp_path / "one" / "notes.md").resolve()),
        str((tmp_path / "two" / "notes.md").resolve()),
    ]
    assert len(col.sources()) == 2
    with pytest.raises(H2OGPTError, match="matches several sources"):
        col.delete("notes.md")
    assert col.delete("one/notes.md") == 1
    assert [Path(s["source"]).parent.name for s in col.sources()] == ["two"]
    assert col.delete(str(tmp_path / "x" / ".." / "two" / "notes.md")) == 1
    assert col.sources() == [] and raw_chunk_count(col) == 0
    with pytest.raises(H2OGPTError, match=r"no source 'notes\.md'"):
        col.delete("notes.md")


def test_query_options(col: Collection, tmp_path: Path) -> None:
    for i in range(5):
        (tmp_path / f"doc{i}.txt").write_text(f"Document number {i} says something.")
    col.add(tmp_path)
    hits = col.query("Document number 3 says something.", k=3)
    assert len(hits) == 3 and Path(hits[0].source).name == "doc3.txt"
    distances = [h.distance or 0.0 for h in hits]
    assert distances == sorted(distances)
    assert len(col.query("anything", k=-1)) == 5
    assert col.query("Document number 3 says something.", k=5, cut_distance=1e-4)[0].chunk == 0
    assert len(col.query("Document number 3 says something.", k=5, cut_distance=1e-4)) == 1
    only = col.query("Document number 3 says something.", k=5, sources=["doc1.txt", "doc4.txt"])
    assert {Path(h.source).name for h in only} == {"doc1.txt", "doc4.txt"}
    firsts = col.first_chunks(k=1, sources="doc2.txt")
    assert [(Path(h.source).name, h.chunk) for h in firsts] == [("doc2.txt", 0)]
    assert len(col.first_chunks(k=1)) == 5
    for bad in ("", "  "):
        with pytest.raises(InvalidOptionError):
            col.query(bad)
    with pytest.raises(InvalidOptionError):
        col.query("x", k=0)


def test_text_and_named_text(col: Collection) -> None:
    report = col.add(["Loose pasted sentence about owls.", Text("Memo v1", name="memo")])
    assert [f.source for f in report.files][1] == "text:memo"
    assert report.files[0].source.startswith("text:")
    replaced = col.add(Text("Memo v2", name="memo"))
    assert replaced.files[0].status == "replaced"
    assert [p.text for p in col.pages("text:memo")] == ["Memo v2"]
    assert col.delete("text:memo") == 1


def test_pages_keep_whole_pages_for_summaries(col: Collection, corpus_dir: Path) -> None:
    col.add(corpus_dir / "doc.pdf", chunk_size=40)
    pages = col.pages("doc.pdf")
    assert [(p.page, p.text.strip()) for p in pages] == [(1, PDF_PAGES[0]), (2, PDF_PAGES[1])]
    assert col.count() > 2


def test_embedding_model_mismatch_is_refused(
    col: Collection, other_embedder_dir: Path, tiny_embedder_dir: Path
) -> None:
    col.add(Text("Some content.", name="x"))
    other = get_embedder(other_embedder_dir, dtype="float32")
    assert other.model_id != col.model_id
    with pytest.raises(H2OGPTError, match="was built with embedding model tiny-embedder@"):
        get_collection("MyData", hf_embedding_model=other_embedder_dir)
    # Without a model named, the collection's own model is found from its record.
    assert get_collection("MyData").model_id == col.model_id
    # An empty collection simply takes the new model.
    empty = get_collection("Fresh", embedder=col.embedder)
    assert get_collection("Fresh", embedder=other).model_id == other.model_id
    assert empty._chunks.count() == 0


def test_collections_list_delete_and_userdata(
    tiny: Embedder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shared = tmp_path / "shared"
    monkeypatch.setenv("H2OGPT_USERDATA_DIR", str(shared))
    assert list_collections() == []
    get_collection("UserData", embedder=tiny).add(Text("Shared handbook.", name="handbook"))
    get_collection("project-x", embedder=tiny).add(["Alpha note.", "Beta note."])
    rows = list_collections()
    assert [(r["name"], r["scope"], r["documents"], r["chunks"]) for r in rows] == [
        ("UserData", "shared", 1, 1),
        ("project-x", "personal", 2, 2),
    ]
    assert rows[0]["path"] == str(shared) and rows[0]["embedding_model"] == tiny.model_id
    delete_collection("project-x")
    assert [r["name"] for r in list_collections()] == ["UserData"]
    with pytest.raises(H2OGPTError, match="no collection named 'project-x'"):
        get_collection("project-x", create=False)
    with pytest.raises(H2OGPTError, match="no collection named"):
        delete_collection("project-x")
    for bad in ("LLM", "ChatLLM", "", "  ", "a/b", "..\\up", "tab\there", "x" * 201):
        with pytest.raises(InvalidOptionError):
            get_collection(bad, embedder=tiny)


# Chroma's own rule for what it stores: 3-63 of [A-Za-z0-9._-], alphanumeric at both ends.
CHROMA_RULE = r"[A-Za-z0-9][A-Za-z0-9_-]{1,61}[A-Za-z0-9]"


def test_collections_are_named_as_in_h2ogpt(tiny: Embedder) -> None:
    """Any reasonable name: short, spaced, dotted, accented, case kept (so 'UX' and 'ux' are
    two collections), listed and found as typed; Chroma gets a safe key of each."""
    import re

    names = ["UX", "ux", "Q3 report", "x.docs", "Données 2026", "a", "MyData", "team_2"]
    for name in names:
        get_collection(name, embedder=tiny).add(Text(f"Only in {name}.", name="note"))
    listed = {r["name"]: r for r in list_collections()}
    assert sorted(listed) == sorted(names)
    assert all(listed[n]["documents"] == 1 and listed[n]["chunks"] == 1 for n in names)
    keys = {name: get_collection(name, create=False).key for name in names}
    assert len(set(keys.values())) == len(names)
    assert all(re.fullmatch(CHROMA_RULE, k) and len(k) <= 50 for k in keys.values()), keys
    assert keys["MyData"] == "MyData" and keys["team_2"] == "team_2"  # as Chroma takes them
    for name in names:
        hits = get_collection(name, create=False).query("Only in", k=3)
        assert [h.text for h in hits] == [f"Only in {name}."]
    assert get_collection("  Q3 report ", create=False).name == "Q3 report"
    delete_collection("Q3 report")
    assert "Q3 report" not in {r["name"] for r in list_collections()}
    with pytest.raises(H2OGPTError, match="no collection named 'Q3 report'"):
        get_collection("Q3 report", create=False)


def test_a_failed_commit_is_invisible_and_a_rerun_completes_it(
    col: Collection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("Apples, version one.")
    col.add(a)
    a.write_text("Apples, version two.")
    b.write_text("Bananas arrive.")
    real = _ingest._Writer._commit

    def crash(self: _ingest._Writer, *manifests: object) -> None:
        raise OSError("disk full")  # chunks and pages are written, the manifests are not

    monkeypatch.setattr(_ingest._Writer, "_commit", crash)
    report = col.add([a, b])
    assert [f.status for f in report.files] == ["error", "error"]
    assert "could not store: OSError: disk full" in report.files[0].message
    assert raw_chunk_count(col) == 3  # written, but not visible:
    assert [h.text for h in col.query("anything", k=-1)] == ["Apples, version one."]
    assert [Path(s["source"]).name for s in col.sources()] == ["a.txt"] and col.count() == 1

    monkeypatch.setattr(_ingest._Writer, "_commit", real)
    assert col.vacuum() == 4 and raw_chunk_count(col) == 1  # invisible chunks and pages
    assert col.vacuum() == 0
    rerun = col.add([a, b])
    assert [f.status for f in rerun.files] == ["replaced", "added"]
    assert sorted(h.text for h in col.query("anything", k=-1)) == [
        "Apples, version two.",
        "Bananas arrive.",
    ]
    assert raw_chunk_count(col) == col.count() == 2


def test_chroma_never_falls_back_to_its_downloading_default(
    col: Collection, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chromadb.utils.embedding_functions import ONNXMiniLM_L6_V2

    from h2ogpt_jupyter.documents import _chroma

    def no_download(*args: object, **kwargs: object) -> None:
        raise AssertionError("Chroma's default embedding function was used")

    monkeypatch.setattr(ONNXMiniLM_L6_V2, "_download_model_if_not_exists", no_download)
    col.add(Text("Guarded text.", name="g"))
    raw = col._client.get_collection("MyData")  # no embedding function passed
    assert raw.configuration_json["embedding_function"]["name"] == _chroma.EF_NAME
    found = raw.query(query_texts=["Guarded text."], n_results=1)  # embeds with our model
    assert found["documents"][0] == ["Guarded text."]


def test_embedder_basics(tiny_embedder_dir: Path, tmp_path: Path, monkeypatch) -> None:
    vectors = get_embedder(tiny_embedder_dir, dtype="float32").embed(["a", "b c", "d"])
    assert vectors.shape == (3, 32) and vectors.dtype.name == "float32"
    assert abs(float((vectors**2).sum(axis=1).max()) - 1) < 1e-5
    copy = tmp_path / "tiny-embedder"
    shutil.copytree(tiny_embedder_dir, copy)
    assert embeddings.model_id(copy) == embeddings.model_id(tiny_embedder_dir)
    with pytest.raises(H2OGPTError, match="nothing is downloaded"):
        Embedder("sentence-transformers/all-MiniLM-L6-v2")
    monkeypatch.setattr(embeddings, "_cpu_flags", lambda: frozenset({"avx2"}))
    assert embeddings.best_dtype() == "float32"
    monkeypatch.setattr(embeddings, "_cpu_flags", lambda: frozenset({"avx512_bf16"}))
    assert embeddings.best_dtype() == "bfloat16"
    assert embeddings.best_dtype("cuda:0") == "float16"
    monkeypatch.setenv("H2OGPT_HF_EMBEDDING_MODEL", str(copy))
    assert embeddings.resolve_model_path() == copy.resolve()


@pytest.fixture
def web(tmp_path: Path) -> Iterator[str]:
    (tmp_path / "page.html").write_text(
        "<html><head><title>Moss</title></head><body><p>Moss grows north.</p></body></html>"
    )

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, directory=str(tmp_path), **kwargs)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_urls_from_a_local_server_and_a_dead_one(col: Collection, web: str) -> None:
    report = col.add([f"{web}/page.html", f"{web}/missing.html", "http://127.0.0.1:9/x"])
    assert [f.status for f in report.files] == ["added", "error", "error"]
    assert "HTTP 404" in report.files[1].message
    assert "could not fetch" in report.files[2].message
    hit = col.query("Moss grows north.", k=1)[0]
    assert hit.source == f"{web}/page.html" and hit.metadata["title"] == "Moss"


def test_report_renders(col: Collection, tmp_path: Path) -> None:
    (tmp_path / "ok.txt").write_text("fine | with a pipe")
    (tmp_path / "empty.txt").write_text("")
    report = col.add(tmp_path)
    text, markdown = str(report), report._repr_markdown_()
    assert text.startswith("MyData: 1 added, 1 error; 1 chunks in ")
    assert "error     " in text and "empty file" in text
    assert "| added | `" in markdown and "| error |" in markdown
    assert report.to_dict()["files"][0]["status"] in ("added", "error")
    with pytest.raises(InvalidOptionError):
        col.add(tmp_path, chunk_size=10)


def test_import_is_light() -> None:
    import subprocess
    import sys

    code = (
        "import sys, h2ogpt_jupyter.documents as d; d.Text, d.IngestReport, d.Hit;"
        "heavy = {'torch', 'chromadb', 'sentence_transformers', 'pypdf', 'docx',"
        " 'langchain_text_splitters'};"
        "print(sorted(heavy & {m.split('.')[0] for m in sys.modules}))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "[]", done.stderr


WRITER = '''
import hashlib, sys
from pathlib import Path
from typing import Any
import numpy as np
from h2ogpt_jupyter.documents import Text, get_collection

class HashEmbedder:
    """Deterministic vectors without torch, so the writer processes start fast."""
    model_id, dim, path = "hash-embedder@1", 32, Path(__file__).parent

    def embed(self, texts):
        rows = [np.frombuffer(hashlib.sha256(t.encode()).digest(), np.uint8) for t in texts]
        vectors = np.array(rows, dtype=np.float32) - 127.5
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

if __name__ == "__main__":
    tag = sys.argv[1]
    docs = get_collection("MyData", embedder=HashEmbedder())
    for i in range(12):
        report = docs.add(Text(f"Process {tag} writes document {i}.", name=f"{tag}-{i}"))
        assert report.ok, str(report)
'''


def test_two_processes_ingesting_at_once_lose_nothing(tmp_path: Path) -> None:
    """Both write to one collection at the same time; every document is there afterwards.
    Vectors come from a hash, not a model, so the two processes start in a second."""
    import subprocess
    import sys

    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    namespace: dict[str, Any] = {"__file__": str(script)}
    exec(compile(WRITER, str(script), "exec"), namespace)
    hasher = namespace["HashEmbedder"]()
    get_collection("MyData", embedder=hasher)  # created once, before the race
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), tag],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for tag in ("A", "B")
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err[-2000:]
    docs = get_collection("MyData", embedder=hasher)
    assert len(docs.sources()) == 24 and docs.count() == raw_chunk_count(docs) == 24
    for tag, i in (("A", 11), ("B", 0), ("B", 7)):
        hit = docs.query(f"Process {tag} writes document {i}.", k=1)[0]
        assert hit.source == f"text:{tag}-{i}" and hit.distance == pytest.approx(0, abs=1e-4)


def test_arxiv_ids_are_parsed_and_need_their_prefix() -> None:
    from h2ogpt_jupyter.documents.inputs import arxiv_id, expand

    assert arxiv_id("arxiv:2301.00001") == "2301.00001"
    assert arxiv_id(" arXiv:2301.00001v2 ") == "2301.00001v2"
    assert arxiv_id("ARXIV: 1412.1234") == "1412.1234"
    assert arxiv_id("arxiv:hep-th/9901001") == "hep-th/9901001"
    assert arxiv_id("arxiv:math.GT/0309136v1") == "math.GT/0309136v1"
    for other in ("2301.00001", "arxiv:2313.00001", "arxiv:2301.001", "arxiv:2301.00001 and"):
        assert arxiv_id(other) is None, other
    items = expand(["arXiv:2301.00001v2", "arxiv:hep-th/9901001", "2301.00001", "arxiv:99"])
    assert [(i.source, i.kind, i.url) for i in items[:2]] == [
        ("arxiv:2301.00001v2", "url", "https://arxiv.org/pdf/2301.00001v2"),
        ("arxiv:hep-th/9901001", "url", "https://arxiv.org/pdf/hep-th/9901001"),
    ]
    assert items[2].kind == "text"  # a bare id could be any number: it stays text
    assert (items[3].kind, items[3].message[:16]) == ("error", "not an arXiv id ")


def test_arxiv_offline_is_a_per_paper_error(
    col: Collection, web: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A proxy nobody listens on makes every https request fail as offline, on any machine.
    for name in ("HTTPS_PROXY", "https_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.setenv(name, "127.0.0.1,localhost")
    report = col.add(["arxiv:2301.00001", f"{web}/page.html", "arXiv:2301.0001x"])
    assert [(f.source, f.status) for f in report.files] == [
        ("arxiv:2301.00001", "error"),
        (f"{web}/page.html", "added"),
        ("arXiv:2301.0001x", "error"),
    ]
    message = report.files[0].message
    assert message.startswith("https://arxiv.org/pdf/2301.00001: could not fetch")
    assert "offline?" in message and "\n" not in message
    assert [Path(s["source"]).name for s in col.sources()] == ["page.html"]


def test_userdata_can_be_made_read_only_for_users(
    tiny: Embedder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from h2ogpt_jupyter import config

    shared = get_collection("UserData", embedder=tiny)
    assert shared.add(Text("The VPN gateway is vpn.example.org.", name="vpn")).ok
    monkeypatch.setenv("H2OGPT_ALLOW_UPLOAD_TO_USER_DATA", "0")
    config.reset()
    reader = get_collection("UserData", embedder=tiny)
    assert reader.query("The VPN gateway is vpn.example.org.", k=1)[0].source == "text:vpn"
    for change in (
        lambda: reader.add(Text("mine", name="mine")),
        lambda: reader.delete("vpn"),
        lambda: reader.vacuum(),
        lambda: delete_collection("UserData"),
    ):
        with pytest.raises(H2OGPTError, match="read-only here"):
            change()
    assert [s["source"] for s in reader.sources()] == ["text:vpn"]
    personal = get_collection("MyData", embedder=tiny)  # personal collections stay writable
    assert personal.add(Text("mine", name="mine")).ok


def test_opening_a_collection_starts_loading_its_model(tiny_embedder_dir: Path) -> None:
    """The embedder loads in the background as soon as a collection opens, so the first
    question or ingest does not wait for it from the start."""
    import time

    fresh = Embedder(tiny_embedder_dir, dtype="float32")  # not the shared, loaded one
    assert not fresh.loaded
    col = get_collection("Warm", embedder=fresh)
    deadline = time.monotonic() + 60
    while not fresh.loaded and time.monotonic() < deadline:
        time.sleep(0.05)
    assert fresh.loaded
    col.add(Text("Warm up.", name="w"))
    assert [h.text for h in col.query("Warm up.", k=1)] == ["Warm up."]
