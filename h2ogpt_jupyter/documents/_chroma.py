"""Chroma clients and the embedding function every collection is opened with.

Imported only when a collection is used, since ``import chromadb`` takes seconds.

Chroma falls back to its own default embedding function — which downloads an ONNX model —
whenever a collection is opened without one, and even when it is created with ``None`` and
later asked to embed text. So every collection is created and opened with
:class:`LocalEmbeddingFunction`, registered under its own name: Chroma persists that name, a
process that opens the collection without this package gets an error instead of a download,
and one with it embeds with the local sentence-transformers folder. Our own code always
passes vectors, so this function is a guard more than a path.

Clients are ``PersistentClient`` s on local folders, or ``HttpClient`` s on a Chroma server when
one is configured (see :mod:`._names` for which database holds what there).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import chromadb
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
from chromadb.config import Settings
from chromadb.utils.embedding_functions import register_embedding_function

from h2ogpt_jupyter.errors import H2OGPTError, InvalidOptionError

from ._names import Place

EF_NAME = "h2ogpt-jupyter-local"


@register_embedding_function
class LocalEmbeddingFunction(EmbeddingFunction[Documents]):
    """Embeds with a local sentence-transformers folder; never downloads anything."""

    def __init__(self, model_path: str = "", model_id: str = "") -> None:
        self.model_path = model_path
        self.model_id = model_id

    def __call__(self, input: Documents) -> Embeddings:
        from .embeddings import get_embedder

        if not self.model_path or not Path(self.model_path).is_dir():
            raise H2OGPTError(
                f"embedding model {self.model_id or '?'} is not on this machine "
                f"({self.model_path or 'no path recorded'})"
            )
        return list(get_embedder(self.model_path).embed(list(input)))

    @staticmethod
    def name() -> str:
        return EF_NAME

    def get_config(self) -> dict[str, Any]:
        return {"model_path": self.model_path, "model_id": self.model_id}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> LocalEmbeddingFunction:
        return LocalEmbeddingFunction(config.get("model_path", ""), config.get("model_id", ""))

    def default_space(self) -> Any:
        return "l2"

    def validate_config_update(
        self, old_config: dict[str, Any], new_config: dict[str, Any]
    ) -> None:
        return None


_clients: dict[Any, Any] = {}
_lock = threading.Lock()
# Local folders only: where this process last saw the write log, and how many times it has
# reopened the folder (collection handles compare it to know theirs are out of date).
_seen: dict[str, int | None] = {}
_reopened: dict[str, int] = {}


def client(where: Place | Path, *, create: bool = True) -> Any:
    """The Chroma client for a place, cached per process; telemetry off.

    A local folder gets a ``PersistentClient``; a server place an ``HttpClient`` bound to its
    tenant and database. With ``create=False`` a place holding nothing yet (no folder, no
    database) gives ``None`` instead of being created.
    """
    if isinstance(where, Path):
        where = Place(folder=where)
    if where.url:
        return _server_client(where, create)
    assert where.folder is not None
    key = str(where.folder.expanduser().resolve())
    with _lock:
        if key not in _clients:
            if not create and not (Path(key) / "chroma.sqlite3").exists():
                return None
            try:
                Path(key).mkdir(parents=True, exist_ok=True)
                _clients[key] = _persistent(key)
                _seen[key] = log_position(Path(key))
            except PermissionError:
                raise H2OGPTError(f"cannot open collections at {key}: permission denied") from None
            except Exception as exc:
                raise H2OGPTError(f"cannot open collections at {key}: {exc}") from exc
        return _clients[key]


def _persistent(key: str) -> Any:
    return chromadb.PersistentClient(
        path=key, settings=Settings(anonymized_telemetry=False, allow_reset=False)
    )


# A local Chroma keeps each collection's vector index in the memory of the process that
# loaded it and never rereads it: after another process (another kernel, a colleague's ingest
# into a shared UserData) writes, searches here would miss its chunks and return ids it
# deleted. Every write goes through the folder's write log in SQLite, so its last position
# tells whether anything changed; if it moved and not by this process's own writes, the
# folder's client is reopened, which rereads the index.


def log_position(folder: Path) -> int | None:
    """The last entry of the folder's write log (None if there is none yet)."""
    import sqlite3

    database = folder / "chroma.sqlite3"
    try:
        con = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5)
    except sqlite3.Error:
        return None
    try:
        row = con.execute("SELECT max(seq_id) FROM embeddings_queue").fetchone()
    except sqlite3.Error:
        return None
    finally:
        con.close()
    return None if row is None or row[0] is None else int(row[0])


def wrote(folder: Path | None) -> None:
    """Record that this process's own writes moved the log: its index already has them."""
    if folder is None:
        return
    key = str(folder.expanduser().resolve())
    with _lock:
        if key in _clients:
            _seen[key] = log_position(Path(key))


def reopened(folder: Path | None) -> int:
    """How many times the folder's client was reopened; reopens it first when another
    process wrote since this one last looked."""
    if folder is None:
        return 0
    key = str(folder.expanduser().resolve())
    with _lock:
        if key not in _clients:
            return _reopened.get(key, 0)
        position = log_position(Path(key))
        if position != _seen.get(key):
            from chromadb.api.shared_system_client import SharedSystemClient

            system = SharedSystemClient._identifier_to_system.pop(key, None)
            SharedSystemClient._identifier_to_refcount.pop(key, None)
            if system is not None:
                try:
                    system.stop()
                except Exception:
                    pass  # reopening matters, not a clean stop of the stale copy
            _clients[key] = _persistent(key)
            _seen[key] = position
            _reopened[key] = _reopened.get(key, 0) + 1
        return _reopened.get(key, 0)


def parse_url(url: str) -> tuple[str, int, bool]:
    """Host, port and TLS flag of a Chroma server URL (``http://host:8000``, ``https://h``)."""
    from urllib.parse import urlsplit

    parts = urlsplit(url if "://" in url else f"http://{url}")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidOptionError(
            f"bad Chroma server URL {url!r}: expected http://host:port or https://host"
        )
    if parts.path.strip("/"):
        raise InvalidOptionError(f"bad Chroma server URL {url!r}: give no path, only host:port")
    ssl = parts.scheme == "https"
    try:
        port = parts.port or (443 if ssl else 8000)
    except ValueError:
        raise InvalidOptionError(f"bad Chroma server URL {url!r}: bad port") from None
    return parts.hostname, port, ssl


def _server_settings(host: str, port: int, ssl: bool) -> Settings:
    return Settings(
        anonymized_telemetry=False,
        chroma_api_impl="chromadb.api.fastapi.FastAPI",
        chroma_server_host=host,
        chroma_server_http_port=port,
        chroma_server_ssl_enabled=ssl,
    )


def unreachable(url: str, exc: BaseException) -> H2OGPTError:
    """The one-line error for a server that cannot be reached or answers strangely."""
    reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return H2OGPTError(
        f"cannot reach the Chroma server at {url} ({reason}); is it running? "
        "(set by H2OGPT_CHROMA_URL or the chroma_url setting)"
    )


def _server_client(where: Place, create: bool) -> Any:
    key = (where.url, where.tenant, where.database)
    with _lock:
        if key in _clients:
            return _clients[key]
        host, port, ssl = parse_url(where.url)

        def connect() -> Any:
            return chromadb.HttpClient(
                host=host,
                port=port,
                ssl=ssl,
                settings=_server_settings(host, port, ssl),
                tenant=where.tenant,
                database=where.database,
            )

        try:
            try:
                made = connect()  # checks the server, the tenant and the database
            except Exception as exc:
                if not is_not_found(exc):
                    raise
                if not create:
                    return None
                _create_database(where, host, port, ssl)
                made = connect()
        except H2OGPTError:
            raise
        except Exception as exc:
            raise unreachable(where.url, exc) from exc
        _clients[key] = made
        return made


def _create_database(where: Place, host: str, port: int, ssl: bool) -> None:
    admin = chromadb.AdminClient(_server_settings(host, port, ssl))
    try:
        admin.create_database(where.database, tenant=where.tenant)
    except Exception as exc:
        if "already exists" not in str(exc):  # another process made it first: fine
            raise


def forget(path: Path) -> None:
    """Drop a cached client (e.g. after its folder was removed)."""
    with _lock:
        _clients.pop(str(path.expanduser().resolve()), None)


def upsert_batches(
    target: Any, batch: int, ids: list[str], vectors: Any, docs: list[str], metas: Any
) -> None:
    """Upsert rows in slices of at most ``batch`` (the client's limit per call)."""
    for start in range(0, len(ids), batch):
        end = start + batch
        target.upsert(
            ids=ids[start:end],
            embeddings=vectors[start:end],
            documents=docs[start:end],
            metadatas=metas[start:end],
        )


def is_not_found(exc: Exception) -> bool:
    from chromadb.errors import NotFoundError

    return isinstance(exc, NotFoundError) or "does not exist" in str(exc)
