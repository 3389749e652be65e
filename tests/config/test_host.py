"""The Jupyter server a kernel runs under, read as Jupyter leaves it for its kernels (its pid in
``JPY_PARENT_PID``, ``jpserver-<pid>.json`` in the runtime folder), and the links that open a
document in JupyterLab from the notebook's output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from h2ogpt_jupyter.host import JupyterHost, file_link, notebook_dir, this_jupyter
from h2ogpt_jupyter.models.citations import sources_markdown, sources_text


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A Jupyter server on port 8888 serving ``root/``, this kernel its child, the notebook in
    ``root/work/``."""
    runtime, root = tmp_path / "runtime", tmp_path / "root"
    runtime.mkdir()
    (root / "work").mkdir(parents=True)
    (root / "docs").mkdir()
    info = {
        "url": "http://0.0.0.0:8888/user/alice/",
        "token": "t0k",
        "root_dir": str(root),
        "pid": 4242,
        "sock": "",
    }
    (runtime / "jpserver-4242.json").write_text(json.dumps(info))
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(runtime))
    monkeypatch.setenv("JPY_PARENT_PID", "4242")
    monkeypatch.setenv("JPY_SESSION_NAME", "work/ask.ipynb")
    return root


def test_the_kernel_finds_its_jupyter_server(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    host = this_jupyter()
    assert host == JupyterHost("http://127.0.0.1:8888/user/alice/", "t0k", root, 4242)
    assert host.url_for("h2ogpt/v1") == "http://127.0.0.1:8888/user/alice/h2ogpt/v1"
    assert notebook_dir(host) == (root / "work").resolve()
    monkeypatch.setenv("JPY_PARENT_PID", "999")  # another server's kernel: not this one
    assert this_jupyter() is None
    monkeypatch.delenv("JPY_PARENT_PID")  # plain IPython
    assert this_jupyter() is None


def test_links_open_files_under_the_root_from_the_notebooks_folder(root: Path) -> None:
    pdf, notes = root / "docs" / "Q3 report.pdf", root / "work" / "notes.md"
    pdf.write_bytes(b"%PDF-1.4")
    notes.write_text("x")
    outside = root.parent / "elsewhere.txt"
    outside.write_text("x")
    assert file_link(str(pdf), 3) == "../docs/Q3%20report.pdf#page=3"
    assert file_link(str(notes), 2) == "notes.md"  # pages are for PDFs
    assert file_link(str(outside)) is None  # JupyterLab cannot open it
    assert file_link(str(root / "docs" / "gone.pdf")) is None
    assert file_link("https://example.org/a.pdf") is None


def test_sources_link_to_their_files_and_fold_their_excerpts(root: Path) -> None:
    from h2ogpt_jupyter.documents.hits import Hit

    pdf = root / "docs" / "report.pdf"
    pdf.write_bytes(b"%PDF-1.4")
    chunk = "Revenue rose <b>12%</b> in Q3.\n\nCosts fell."
    hits = [
        Hit(chunk, str(pdf), 2, 0.4, 0.8, "c1", 0),
        Hit("Elsewhere.", "/not/under/root.txt", None, 0.6, 0.7, "c2", 0),
    ]
    text = sources_markdown(hits)
    assert '<a href="../docs/report.pdf#page=2" title="' in text
    assert ">report.pdf</a> p.2</summary>" in text
    assert "Revenue rose &lt;b&gt;12%&lt;/b&gt; in Q3. Costs fell." in text  # escaped, one line
    assert "<code>/not/under/root.txt</code>" in text
    assert "\n\n" not in text.split("**Sources**\n\n", 1)[1].rstrip()  # one HTML block
    assert sources_text(hits).splitlines()[1] == f"  1. score 0.80 · {pdf} p.2"


def test_without_jupyter_sources_are_paths(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from h2ogpt_jupyter.documents.hits import Hit

    monkeypatch.delenv("JPY_PARENT_PID", raising=False)
    path = tmp_path / "a.txt"
    path.write_text("x")
    text = sources_markdown([Hit("x", str(path), None, 0.2, 0.9, "c", 0)])
    assert f"<code>{path}</code>" in text and "<a " not in text
