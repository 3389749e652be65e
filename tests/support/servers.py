"""Arguments and environment for server processes on the tiny model, shared by the tests."""

from __future__ import annotations

import socket
from pathlib import Path


def tiny_args(tiny_model_dir: Path, *extra: str) -> list[str]:
    """``serve`` arguments for the tiny model (fp32, any free port) plus ``extra``."""
    return ["--model", f"tiny={tiny_model_dir}?dtype=float32", "--port", "0", *extra]


def env_for(data_dir: Path, embedder: Path | None = None, **extra: str) -> dict[str, str]:
    """A server's environment: its own data folder, offline, the tiny embedder if given."""
    env = {"H2OGPT_DATA_DIR": str(data_dir), "HF_HUB_OFFLINE": "1"}
    if embedder is not None:
        env["H2OGPT_USERDATA_DIR"] = str(data_dir / "userdata")
        env["H2OGPT_HF_EMBEDDING_MODEL"] = str(embedder)
    return {**env, **extra}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
