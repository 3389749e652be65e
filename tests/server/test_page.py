"""The server's own pages on a real server with an API key: ``/`` (status, how to connect, a
chat) and ``/docs`` with Swagger UI from the package, both complete with nothing fetched from
the network, and open without the key while the API stays guarded."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from h2ogpt_jupyter.server.process import ServerProcess, start_server
from tests.support.servers import env_for, tiny_args

KEY = "sk-page-key"

pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.script_method` is deprecated")


@pytest.fixture(scope="module")
def server(
    tiny_model_dir: Path, tiny_embedder_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    env = env_for(tmp_path_factory.mktemp("page-data"), tiny_embedder_dir)
    with start_server(tiny_args(tiny_model_dir, "--api-key", KEY), env=env) as srv:
        yield srv


def assets(page: str) -> list[str]:
    """Every script, style sheet and image a page loads."""
    return re.findall(r'(?:src|href)="([^"]+\.(?:js|css|png))"', page)


def test_the_page_loads_without_a_key_and_tells_where_it_is(server: ServerProcess) -> None:
    r = httpx.get(f"{server.url}/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    facts = json.loads(html.unescape(re.search(r'data-facts="([^"]*)"', r.text).group(1)))
    assert facts["rootPath"] == "" and facts["keyRequired"] is True and facts["version"]
    loaded = assets(r.text)
    assert loaded == ["/static/page.css", "/static/page.js"]
    for path in loaded:
        got = httpx.get(f"{server.url}{path}")
        assert got.status_code == 200 and got.content, path
    # the page is open, the API it calls is not
    assert httpx.get(f"{server.api_base}/models").status_code == 401
    assert httpx.get(f"{server.url}/static/../v1/models").status_code in (401, 404)


def test_docs_are_swagger_ui_and_redoc_from_a_package(server: ServerProcess) -> None:
    headers = {"Authorization": f"Bearer {KEY}"}
    for page, marker in (("docs", "SwaggerUIBundle"), ("redoc", "<redoc")):
        got = httpx.get(f"{server.url}/{page}", headers=headers)
        assert got.status_code == 200 and marker in got.text, page
        assert "cdn." not in got.text, page
        loaded = re.findall(r"""['"](/static/docs/[^'"]+)['"]""", got.text)
        assert loaded, got.text
        for path in loaded:
            asset = httpx.get(f"{server.url}{path}")
            assert asset.status_code == 200 and len(asset.content) > 500, path
    docs = httpx.get(f"{server.url}/docs", headers=headers).text
    assert "/openapi.json" in docs
    spec = httpx.get(f"{server.url}/openapi.json", headers=headers).json()
    assert "/" not in spec["paths"] and spec["openapi"].startswith("3.")
