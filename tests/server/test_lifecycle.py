"""Starting, finding and stopping servers from Python (what ``%h2ogpt server`` calls): a real
server process for the tiny model, found through its runtime file and stopped again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from h2ogpt_jupyter.errors import H2OGPTError
from h2ogpt_jupyter.server import lifecycle


def test_what_to_serve_is_the_model_as_the_kernel_loaded_it(manager: Any, tiny_model_dir: Path):
    manager.load(str(tiny_model_dir), alias="tiny", dtype="float32", max_seq_len=512)
    model, label = lifecycle.what_to_serve(manager, None)
    assert model == f"tiny={tiny_model_dir.resolve()}?dtype=float32&max_seq_len=512"
    assert label == "'tiny'"
    assert lifecycle.what_to_serve(manager, "smollm2") == ("smollm2", "smollm2")
    with pytest.raises(H2OGPTError, match="no model name"):
        lifecycle.what_to_serve(manager, "?dtype=float32")


def test_nothing_running_is_one_clear_error_each(manager: Any) -> None:
    with pytest.raises(H2OGPTError, match="no h2oGPT server is running; start one"):
        lifecycle.find()
    with pytest.raises(H2OGPTError, match="no h2oGPT server is running on port 1"):
        lifecycle.find(1)
    with pytest.raises(H2OGPTError, match="this kernel has no server running"):
        lifecycle.stop()
    with pytest.raises(H2OGPTError, match="no model is loaded to serve"):
        lifecycle.what_to_serve(manager, None)


def test_start_find_use_and_stop(manager: Any, tiny_model_dir: Path) -> None:
    manager.load(str(tiny_model_dir), alias="tiny", dtype="float32")
    model, _ = lifecycle.what_to_serve(manager, "tiny")
    server = lifecycle.start(model, port=0, api_key="k")
    try:
        found = lifecycle.find()
        assert found["port"] == server.port and found["models"] == ["tiny"]
        assert found["api_key_required"] and lifecycle.started_by(found) == "this kernel"
        with pytest.raises(H2OGPTError, match=f"port {server.port} on 127.0.0.1 is in use"):
            lifecycle.pick_port("127.0.0.1", server.port)
        key = lifecycle.client_key(found, None)  # the key it was started with, remembered
        assert key == "k"
        with pytest.raises(H2OGPTError, match="needs an API key: pass --api-key KEY"):
            lifecycle.client_key({**found, "port": 1}, None)  # a server started elsewhere
        headers = {"Authorization": f"Bearer {key}"}
        listed = httpx.get(f"{server.api_base}/models", headers=headers, timeout=30).json()
        assert listed["data"][0]["id"] == "tiny"  # then the embedding model
    finally:
        stopped = lifecycle.stop()
    assert stopped == [(server.api_base, server.pid)]
    assert server.process.poll() is not None and not lifecycle.ours()
    with pytest.raises(H2OGPTError):
        lifecycle.find(server.port)
