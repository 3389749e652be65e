"""A server's shared state: which models it serves, whether they have loaded, and admission.

Models load on a background thread once the socket is bound, so ``/health`` can say 503 while
they do. Admission is the server's only queue: at most ``max_queue`` requests are held at once
(running or waiting for a model); the next one is refused with 429 and ``Retry-After``. The
server adds no lock of its own: each request runs on its own worker thread and the model's
:class:`~h2ogpt_jupyter.models.generation.Generation` decides what may run together (it takes the
backend's lock unless the backend declares itself ``concurrent``). That is also how the
queue depth is derived: a non-concurrent model runs one request and the rest of its requests
are waiting.
"""

from __future__ import annotations

import collections
import math
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .config import ServerConfig
from .errors import APIError, model_not_found
from .metrics import Metrics

if TYPE_CHECKING:
    from h2ogpt_jupyter.documents.embeddings import Embedder
    from h2ogpt_jupyter.models.manager import LoadedModel, ModelManager

    from .jobs import Job

EMBEDDINGS = "<embeddings>"  # admission key of embedding requests


class Admission:
    """Counts the requests held per model and refuses the one too many."""

    def __init__(self, limit: int, metrics: Metrics) -> None:
        self.limit = limit
        self.metrics = metrics
        self._held: collections.Counter[str] = collections.Counter()
        self._durations: collections.deque[float] = collections.deque(maxlen=32)
        self._lock = threading.Lock()

    def acquire(self, key: str) -> None:
        with self._lock:
            if sum(self._held.values()) >= self.limit:
                self.metrics.count_rejected()
                raise APIError(
                    429,
                    f"The server is busy ({self.limit} requests queued or running); retry later",
                    type="rate_limit_error",
                    code="rate_limit_exceeded",
                    headers={"Retry-After": str(self._retry_after())},
                )
            self._held[key] += 1

    def release(self, key: str, seconds: float) -> None:
        with self._lock:
            self._held[key] -= 1
            if self._held[key] <= 0:
                del self._held[key]
            self._durations.append(seconds)

    def _retry_after(self) -> int:
        """Whole seconds until a slot is likely free: the recent mean request time."""
        if not self._durations:
            return 1
        mean = sum(self._durations) / len(self._durations)
        return max(1, min(60, math.ceil(mean)))

    def gauges(self, concurrent: dict[str, bool]) -> dict[str, int]:
        with self._lock:
            held = dict(self._held)
        running = sum(n if concurrent.get(k, True) else min(n, 1) for k, n in held.items())
        total = sum(held.values())
        return {"depth": total - running, "in_flight": running, "limit": self.limit}


class ServerState:
    """Models, readiness, admission and metrics of one server."""

    def __init__(self, config: ServerConfig, manager: ModelManager | None = None) -> None:
        if manager is None:
            from h2ogpt_jupyter.models.manager import get_manager

            manager = get_manager()
        self.config = config
        self.manager = manager
        self.metrics = Metrics()
        self.admission = Admission(config.max_queue, self.metrics)
        self.aliases: list[str] = []
        self.loading: str | None = None
        self.load_error: str | None = None
        self.ready = threading.Event()  # set when loading ended, well or not
        self.started = time.time()
        self.embedding_name: str | None = None
        self.embedding_error: str | None = None
        self._embedder: Embedder | None = None
        self._thread: threading.Thread | None = None
        self.jobs: set[Job] = set()  # running or waiting; stopped when the server stops
        self.on_stop: list[Callable[[], None]] = []  # run once the server stops serving

    def stop_all(self) -> None:
        """Stop every answer still running, then run the ``on_stop`` callbacks."""
        for job in list(self.jobs):
            job.stop()
        for callback in self.on_stop:
            callback()

    # --- loading ----------------------------------------------------------------------------
    def start_loading(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._load, name="h2ogpt-load", daemon=True)
            self._thread.start()

    def _load(self) -> None:
        try:
            for arg in self.config.models:
                self.loading = arg.alias or arg.name
                options = {**self.config.load_options, **arg.options}
                model = self.manager.load(arg.name, alias=arg.alias, **options)
                if model.alias in self.aliases:
                    raise APIError(500, f"two models were given the alias '{model.alias}'")
                self.aliases.append(model.alias)
        except Exception as exc:  # reported by /health and by the command that started us
            message = exc.message if isinstance(exc, APIError) else str(exc)
            self.load_error = f"could not load '{self.loading}': {message}"
        finally:
            self.loading = None
        self._resolve_embedder()
        self.ready.set()

    def _resolve_embedder(self) -> None:
        """Find the embedding model now (cheap: no torch); it loads on the first request."""
        from h2ogpt_jupyter.documents.embeddings import DEFAULT_MODEL_NAME, get_embedder

        try:
            self._embedder = get_embedder(self.config.embedding_model)
        except Exception as exc:
            self.embedding_error = str(exc)
            return
        name = self._embedder.model_id.split("@")[0]
        self.embedding_name = name or DEFAULT_MODEL_NAME

    @property
    def is_ready(self) -> bool:
        return self.ready.is_set() and self.load_error is None

    def require_ready(self) -> None:
        if self.load_error is not None:
            raise APIError(503, self.load_error, type="server_error", code="model_load_failed")
        if not self.ready.is_set():
            doing = f" ({self.loading})" if self.loading else ""
            raise APIError(
                503,
                f"Models are loading{doing}; retry shortly",
                type="server_error",
                code="model_loading",
                headers={"Retry-After": "1"},
            )

    # --- models -----------------------------------------------------------------------------
    def served(self) -> list[str]:
        """Aliases clients may ask for, the default first. A server started with no models
        serves whatever its manager holds (in a kernel: what the notebook loaded)."""
        if self.config.models:
            return list(self.aliases)
        held = [m["alias"] for m in self.manager.list()]
        default = self.manager.default
        return sorted(held, key=lambda a: a != default)

    def model(self, name: str | None) -> LoadedModel:
        served = self.served()
        if not served:
            raise APIError(404, "No model is loaded on this server", code="model_not_found")
        alias = name or served[0]
        if alias not in served:
            raise model_not_found(alias, served)
        try:
            return self.manager.get(alias)
        except LookupError:  # unloaded from the kernel since it was listed
            raise model_not_found(alias, self.served()) from None

    def embedder(self, name: str | None) -> Embedder:
        if self._embedder is None:
            raise APIError(
                404,
                f"No embedding model on this server: {self.embedding_error or 'none configured'}",
                param="model",
                code="model_not_found",
            )
        if name and name != self.embedding_name:
            raise APIError(
                404,
                f"The embedding model '{name}' does not exist on this server "
                f"(served: {self.embedding_name})",
                param="model",
                code="model_not_found",
            )
        return self._embedder

    def concurrency(self) -> dict[str, bool]:
        """Per admission key: whether its requests all run at once."""
        flags = {EMBEDDINGS: True}
        for alias in self.served():
            try:
                backend = self.manager.get(alias).backend
            except LookupError:
                continue
            flags[alias] = bool(getattr(backend, "concurrent", False))
        return flags

    def gauges(self) -> dict[str, Any]:
        return {
            "queue": self.admission.gauges(self.concurrency()),
            "models_ready": int(self.is_ready),
        }
