"""A server inside a running Python process (a kernel): started with no models of its own, it
serves whatever that process's manager holds, through the same app."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import openai
import uvicorn

from h2ogpt_jupyter.server import ServerConfig, create_app
from h2ogpt_jupyter.server.serve import bind


def test_a_server_in_this_process_serves_what_its_manager_holds(
    manager, tiny_model_dir: Path
) -> None:
    manager.load(str(tiny_model_dir), alias="mine", dtype="float32")
    app = create_app(ServerConfig(max_queue=4), manager=manager)
    sock = bind("127.0.0.1", 0)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not (server.started and app.state.h2ogpt.is_ready) and time.monotonic() < deadline:
            time.sleep(0.02)
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/v1"
        client = openai.OpenAI(base_url=url, api_key="none", max_retries=0)
        assert client.models.list().data[0].id == "mine"
        r = client.completions.create(model="mine", prompt="Hello", max_tokens=3)
        assert r.usage is not None and r.usage.completion_tokens == 3
        manager.unload("mine")  # unloaded in the notebook: gone from the server too
        assert [m.id for m in client.models.list().data if m.id == "mine"] == []
    finally:
        server.should_exit = True
        thread.join(15)
        sock.close()
