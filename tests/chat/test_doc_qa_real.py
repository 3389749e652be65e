"""Document Q&A end to end with the real packaged models: all-MiniLM-L6-v2 embeddings in a
real Chroma collection, SmolLM2 on llama.cpp answering. The answers must carry the fact from
the right document and cite it."""

from __future__ import annotations

from pathlib import Path

import pytest

from h2ogpt_jupyter.chat import Chat
from h2ogpt_jupyter.chat.summaries import extract, summarize
from h2ogpt_jupyter.documents import get_collection
from h2ogpt_jupyter.models.manager import ModelManager

pytestmark = [
    pytest.mark.integration,
    pytest.mark.filterwarnings("ignore:`torch.jit.script_method` is deprecated"),
]

FILES = {
    "finance.md": "# Quarterly report\n\nIn the third quarter (Q3) the company's revenue was "
    "4.2 million dollars, driven by subscription sales in Europe.",
    "bees.md": "Honey bees tell their hive mates where flowers are by performing a waggle dance.",
    "etna.txt": "Mount Etna in Sicily erupts several times a year, sending lava down its slopes.",
    "team.txt": "The data team is led by Ana Souza. The platform on-call rota is run by Bo Chen.",
}


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("reports")
    for name, text in FILES.items():
        (folder / name).write_text(text)
    mgr = ModelManager()
    mgr.load("smollm2", alias="smol")
    yield mgr, folder
    mgr.unload_all()


def test_answers_cite_the_document_that_holds_the_fact(setup) -> None:
    mgr, folder = setup
    docs = get_collection("Reports")  # the packaged MiniLM
    assert docs.add(folder).ok
    chat = Chat("smol", manager=mgr, collection="Reports", params={"max_new_tokens": 48})
    revenue = chat.send("What was the Q3 revenue?")
    assert "4.2" in revenue.text, revenue.text
    assert Path(revenue.sources[0].source).name == "finance.md"
    assert revenue.sources[0].score is not None and revenue.sources[0].score > 0.3
    lead = chat.send("Who leads the data team?", collection="Reports")
    assert "Ana" in lead.text and Path(lead.sources[0].source).name == "team.txt"

    found = Chat(manager=mgr, collection="Reports", document_subset="RelSources").send(
        "volcano eruptions"
    )
    assert Path(found.sources[0].source).name == "etna.txt"

    summary = summarize("Reports", sources="finance.md", model="smol", manager=mgr)
    assert "4.2" in summary.text and [Path(p.source).name for p in summary.sources] == [
        "finance.md"
    ]
    names = extract("the names of people", "Reports", sources="team.txt", model="smol", manager=mgr)
    assert "Ana" in names.text and "Bo" in names.text
