"""Collections on a real Chroma server (``chroma run`` from the installed chromadb), started
once for this module on a free port and stopped at the end.

Each test acts as its own JupyterHub user, so the personal collections of different tests
never meet on the shared server — which is itself what the naming scheme promises.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from h2ogpt_jupyter import config
from h2ogpt_jupyter.documents import (
    Text,
    delete_collection,
    get_collection,
    list_collections,
)
from h2ogpt_jupyter.documents._names import personal_database
from h2ogpt_jupyter.documents.embeddings import Embedder, get_embedder
from h2ogpt_jupyter.errors import H2OGPTError, InvalidOptionError

pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.script_method` is deprecated")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def chroma_command() -> list[str]:
    """The ``chroma`` CLI of this environment (its script, else the same entry point)."""
    script = Path(sys.executable).with_name("chroma")
    if script.exists():
        return [str(script)]
    found = shutil.which("chroma")
    if found:
        return [found]
    entry = "import sys; from chromadb.cli.cli import app; sys.argv[0] = 'chroma'; app()"
    return [sys.executable, "-c", entry]


def wait_for_heartbeat(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"chroma exited with {proc.returncode}: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{url}/api/v2/heartbeat", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"no heartbeat from {url} in 60 s: {log.read_text()[-2000:]}")


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("chroma-server")
    port = free_port()
    log = folder / "server.log"
    with log.open("wb") as out:
        where = ["--path", str(folder / "db"), "--port", str(port), "--host", "127.0.0.1"]
        proc = subprocess.Popen(
            [*chroma_command(), "run", *where],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            wait_for_heartbeat(url, proc, log)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def act_as(user: str, url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("H2OGPT_CHROMA_URL", url)
    monkeypatch.setenv("JUPYTERHUB_USER", user)
    config.reset()


@pytest.fixture
def tiny(tiny_embedder_dir: Path) -> Embedder:
    return get_embedder(tiny_embedder_dir, dtype="float32")


def databases(url: str) -> set[str]:
    import chromadb
    from chromadb.config import Settings

    host, port = url.removeprefix("http://").split(":")
    admin = chromadb.AdminClient(
        Settings(
            anonymized_telemetry=False,
            chroma_api_impl="chromadb.api.fastapi.FastAPI",
            chroma_server_host=host,
            chroma_server_http_port=int(port),
        )
    )
    return {d["name"] for d in admin.list_databases()}


def test_a_collection_works_the_same_on_the_server(
    chroma_server: str, tiny: Embedder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    act_as("carol", chroma_server, monkeypatch)
    for i in range(3):
        (tmp_path / f"note{i}.md").write_text(f"# Note {i}\n\nServer note number {i} is here.")
    col = get_collection("MyData", embedder=tiny)
    assert col.path is None and col.place.database == "h2ogpt-user-carol"
    report = col.add([tmp_path, Text("A pasted memo on the server.", name="memo")])
    assert report.ok and len(report.added) == 4, str(report)
    hit = col.query("A pasted memo on the server.", k=1)[0]
    assert hit.source == "text:memo" and hit.distance == pytest.approx(0, abs=1e-4)
    assert len(col.query("anything", k=-1)) == col.count() == col._chunks.count() == 4
    names = {Path(s["source"]).name for s in col.sources()}
    assert names == {"note0.md", "note1.md", "note2.md", "text:memo"}
    assert [p.text for p in col.pages("text:memo")] == ["A pasted memo on the server."]
    assert col.add(tmp_path / "note1.md").files[0].status == "unchanged"
    assert col.delete("note1.md") == 1 and col.count() == 3
    assert col.vacuum() == 0
    info = col.info()
    assert info["path"] == f"{chroma_server}/default_tenant/h2ogpt-user-carol"
    assert info["documents"] == 3 and "carol" in repr(col)

    rows = list_collections()
    assert [(r["name"], r["scope"], r["documents"], r["chunks"]) for r in rows] == [
        ("MyData", "personal", 3, 3)
    ]
    assert rows[0]["embedding_model"] == tiny.model_id
    # Nothing was written to the local folders.
    assert not (config.settings().data_path / "collections").exists()

    delete_collection("MyData")
    assert list_collections() == []
    with pytest.raises(H2OGPTError, match="no collection named 'MyData'"):
        get_collection("MyData", create=False)
    with pytest.raises(H2OGPTError, match="no collection named 'MyData'"):
        delete_collection("MyData")


def test_users_sharing_a_server_keep_personal_collections_apart(
    chroma_server: str, tiny: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    act_as("alice", chroma_server, monkeypatch)
    get_collection("MyData", embedder=tiny).add(Text("Alice's private diary.", name="diary"))
    get_collection("UserData", embedder=tiny).add(Text("The team handbook.", name="handbook"))
    act_as("bob@example.org", chroma_server, monkeypatch)
    # A user who has stored nothing yet sees the shared collection and no database is made.
    assert [(r["name"], r["scope"]) for r in list_collections()] == [("UserData", "shared")]
    assert personal_database() not in databases(chroma_server)
    with pytest.raises(H2OGPTError, match="no collection named 'MyData'"):
        get_collection("MyData", create=False)

    bob = get_collection("MyData", embedder=tiny)
    assert bob.sources() == []
    bob.add(Text("Bob's shopping list.", name="list"))
    assert [s["source"] for s in bob.sources()] == ["text:list"]
    shared = get_collection("UserData", embedder=tiny)
    assert [h.source for h in shared.query("The team handbook.", k=1)] == ["text:handbook"]
    assert [(r["name"], r["scope"]) for r in list_collections()] == [
        ("UserData", "shared"),
        ("MyData", "personal"),
    ]
    assert {"h2ogpt-user-alice", personal_database()} <= databases(chroma_server)
    assert personal_database().startswith("h2ogpt-user-bob_example_org-")

    act_as("alice", chroma_server, monkeypatch)
    assert [s["source"] for s in get_collection("MyData", embedder=tiny).sources()] == [
        "text:diary"
    ]
    delete_collection("UserData")


def test_reembedding_on_the_server(
    chroma_server: str,
    tiny: Embedder,
    other_embedder_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    act_as("dave", chroma_server, monkeypatch)
    col = get_collection("papers", embedder=tiny)
    col.add([Text(f"Paper {i} abstract.", name=f"p{i}") for i in range(5)])
    other = get_embedder(other_embedder_dir, dtype="float32")
    assert col.reembed(embedder=other) == 5
    hit = col.query("Paper 3 abstract.", k=1)[0]
    assert hit.source == "text:p3" and hit.distance == pytest.approx(0, abs=1e-4)
    assert [r["name"] for r in list_collections()] == ["papers"]
    assert list_collections()[0]["embedding_model"] == other.model_id


def test_an_unreachable_server_is_one_clear_error(
    tiny: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    act_as("erin", url, monkeypatch)
    for call in (
        lambda: get_collection("MyData", embedder=tiny),
        list_collections,
        lambda: delete_collection("MyData"),
    ):
        with pytest.raises(H2OGPTError) as caught:
            call()
        message = str(caught.value)
        assert f"cannot reach the Chroma server at {url}" in message and "\n" not in message
    for bad in ("ftp://host:1", "http://host:8000/some/path", "http://host:port"):
        act_as("erin", bad, monkeypatch)
        with pytest.raises(InvalidOptionError, match="bad Chroma server URL"):
            list_collections()


def test_chroma_url_setting_and_user_databases(monkeypatch: pytest.MonkeyPatch) -> None:
    from traitlets.config import Config

    monkeypatch.setenv("H2OGPT_CHROMA_URL", "http://from-env:8000")
    assert config.H2OGPT().chroma_url == "http://from-env:8000"
    cfg = Config()
    cfg.H2OGPT.chroma_url = "http://from-config:9000"
    assert config.H2OGPT(config=cfg).chroma_url == "http://from-config:9000"
    monkeypatch.delenv("H2OGPT_CHROMA_URL")
    assert config.H2OGPT().chroma_url == ""

    assert personal_database("alice") == "h2ogpt-user-alice"
    assert personal_database("a@x") != personal_database("a_x") == "h2ogpt-user-a_x"
    assert personal_database("..").startswith("h2ogpt-user-")
    assert personal_database("..")[-1].isalnum()
    monkeypatch.setenv("JUPYTERHUB_USER", "hubuser")
    assert personal_database() == "h2ogpt-user-hubuser"
