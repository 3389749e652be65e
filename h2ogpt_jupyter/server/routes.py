"""The small routes: models, collections, embeddings, health, status and metrics.

Embeddings use the documents' embedding model (the packaged all-MiniLM-L6-v2 unless
``hf_embedding_model`` / ``--embedding-model`` names another local folder), so vectors a client
computes here match the ones in this machine's collections. It is listed by
``GET /v1/models`` after the chat models, and loads on the first embeddings request.
"""

from __future__ import annotations

import base64
from typing import Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from .completions import state_of
from .errors import APIError, from_exception
from .jobs import ClientGone, Job
from .schemas import EmbeddingRequest
from .state import EMBEDDINGS

router = APIRouter()


def _model_card(state: Any, alias: str) -> dict[str, Any]:
    model = state.manager.get(alias)
    info = model.info()
    return {
        "id": alias,
        "object": "model",
        "created": int(state.started),
        "owned_by": "h2ogpt",
        "h2ogpt": {
            "model": info["model"],
            "backend": info["backend"],
            "prompt_type": info["prompt_type"],
            "context_length": info["context_length"],
            "default": alias == state.served()[0],
        },
    }


def _embedding_card(state: Any) -> dict[str, Any]:
    return {
        "id": state.embedding_name,
        "object": "model",
        "created": int(state.started),
        "owned_by": "h2ogpt",
        "h2ogpt": {"type": "embedding"},
    }


@router.get("/v1/models", tags=["models"])
def list_models(request: Request) -> dict[str, Any]:
    """The served models, the default first; the embedding model last."""
    state = state_of(request)
    state.require_ready()
    data = [_model_card(state, alias) for alias in state.served()]
    if state.embedding_name:
        data.append(_embedding_card(state))
    return {"object": "list", "data": data}


@router.get("/v1/models/{model}", tags=["models"])
def get_model(model: str, request: Request) -> dict[str, Any]:
    state = state_of(request)
    state.require_ready()
    if model and model == state.embedding_name:
        return _embedding_card(state)
    return _model_card(state, state.model(model).alias)


@router.post("/v1/embeddings", tags=["embeddings"], response_model=None)
async def embeddings(body: EmbeddingRequest, request: Request) -> Response:
    """Unit-length vectors from the documents' embedding model."""
    state = state_of(request)
    state.require_ready()
    embedder = state.embedder(body.model)
    texts = [body.input] if isinstance(body.input, str) else list(body.input)
    if body.dimensions is not None and body.dimensions != embedder.dim:
        raise APIError(400, f"dimensions: this model gives {embedder.dim}", param="dimensions")

    def work(job: Job) -> None:
        vectors = embedder.embed(texts)
        try:
            counted = embedder.model.tokenizer(texts, truncation=True, return_length=True)
            tokens = int(sum(counted["length"]))
        except Exception:  # a model without a text tokenizer: a rough count will do
            tokens = sum(len(t.split()) for t in texts)
        job.emit("end", (vectors, tokens))

    job = Job(state, EMBEDDINGS, streaming=False)
    job.start(work)
    result: Any = None
    try:
        while True:
            kind, payload = await job.next(request.is_disconnected)
            if kind == "error":
                raise from_exception(payload)
            if kind == "finished":
                break
            result = payload
    except ClientGone:
        return Response(status_code=499)
    vectors, tokens = result
    data = []
    for i, vector in enumerate(vectors):
        if body.encoding_format == "base64":
            value: Any = base64.b64encode(vector.astype("<f4").tobytes()).decode("ascii")
        else:
            value = vector.tolist()
        data.append({"object": "embedding", "index": i, "embedding": value})
    usage = {"prompt_tokens": tokens, "total_tokens": tokens}
    return JSONResponse(
        {"object": "list", "data": data, "model": state.embedding_name, "usage": usage}
    )


@router.get("/health", tags=["server"], response_model=None)
def health(request: Request) -> Response:
    """200 once every model has loaded (no key needed); 503 while they load."""
    state = state_of(request)
    try:
        state.require_ready()
    except APIError as exc:
        return exc.response()
    return JSONResponse({"status": "ok", "models": state.served()})


@router.get("/v1/collections", tags=["documents"])
def list_collections(request: Request) -> dict[str, Any]:
    """h2oGPT's document collections on this machine (personal and shared), for a client's
    picker; ask with ``collection`` in a chat request to answer from one."""
    from h2ogpt_jupyter.documents import list_collections as listed

    data = [
        {
            "id": row["name"],
            "object": "collection",
            "scope": row.get("scope"),
            "documents": row.get("documents"),
            "chunks": row.get("chunks"),
        }
        for row in listed()
    ]
    return {"object": "list", "data": data}


@router.get("/status", tags=["server"], response_model=None)
def status(request: Request) -> Response:
    """How the server is, always with 200 (no key needed): ``loading`` (and what),
    ``ready`` (and its models) or ``failed`` (and why). For front ends that poll while a
    model loads; ``/health`` says the same with 503s, as probes want."""
    state = state_of(request)
    if state.load_error is not None:
        body: dict[str, Any] = {"state": "failed", "error": state.load_error}
    elif not state.ready.is_set():
        body = {"state": "loading", "loading": state.loading}
    else:
        body = {"state": "ready", "models": state.served()}
    return JSONResponse({**body, "queue": state.gauges()["queue"]})


@router.get("/metrics", tags=["server"], response_model=None)
def metrics(
    request: Request, format: Literal["prometheus", "json"] = Query("prometheus")
) -> Response:
    """Requests, tokens, queue depth and in-flight requests (Prometheus text or JSON)."""
    state = state_of(request)
    gauges = state.gauges()
    if format == "json":
        return JSONResponse(state.metrics.as_json(gauges))
    return PlainTextResponse(
        state.metrics.as_prometheus(gauges), media_type="text/plain; version=0.0.4"
    )
