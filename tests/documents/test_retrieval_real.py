"""Retrieval quality with the real packaged all-MiniLM-L6-v2: a paraphrased question finds the
document that answers it, and the fast precision finds the same as fp32."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from h2ogpt_jupyter.documents import embeddings, get_collection

pytestmark = [
    pytest.mark.integration,
    pytest.mark.filterwarnings("ignore:`torch.jit.script_method` is deprecated"),
]

DOCUMENTS = {
    "bees.md": "Honey bees tell their hive mates where flowers are by performing a waggle "
    "dance; the angle of the dance points toward the nectar source.",
    "volcano.txt": "Mount Etna in Sicily erupts several times a year, sending lava flows "
    "down its slopes and ash clouds over Catania airport.",
    "bread.md": "To bake sourdough, feed the starter with flour and water, let the dough "
    "proof overnight in the fridge, then bake it in a hot Dutch oven.",
    "finance.txt": "In the third quarter the company's revenue grew to 4.2 million dollars, "
    "driven by subscription sales in Europe.",
    "chess.txt": "Castling moves the king two squares toward a rook and places the rook on "
    "the other side; it is allowed only if neither piece has moved.",
    "sleep.md": "Adults need seven to nine hours of sleep; caffeine late in the day delays "
    "melatonin release and makes falling asleep harder.",
}

QUESTIONS = {
    "How do insects show each other where to find food?": "bees.md",
    "Which Italian mountain keeps spewing molten rock?": "volcano.txt",
    "How much money did the firm make in Q3?": "finance.txt",
    "What is the rule for the special king and rook move?": "chess.txt",
    "Why does coffee in the evening keep me awake?": "sleep.md",
    "How do I make a naturally leavened loaf?": "bread.md",
}


def test_a_paraphrased_question_finds_its_document(tmp_path: Path) -> None:
    for name, text in DOCUMENTS.items():
        (tmp_path / name).write_text(text)
    docs = get_collection("MyData")  # no model named: the packaged MiniLM
    assert docs.model_id.startswith("all-MiniLM-L6-v2@") and docs.embedder.dim == 384
    report = docs.add(tmp_path)
    assert report.ok and len(report.added) == 6
    for question, expected in QUESTIONS.items():
        hits = docs.query(question, k=3)
        assert Path(hits[0].source).name == expected, (question, [h.citation for h in hits])
        assert (hits[0].score or 0) > (hits[1].score or 0)
    assert docs.query("What was the Q3 revenue?", k=4, cut_distance=1.2)[0].text.startswith(
        "In the third quarter"
    )


@pytest.mark.skipif(embeddings.best_dtype() == "float32", reason="no native bf16 on this CPU")
def test_bf16_embeddings_match_fp32() -> None:
    texts = list(DOCUMENTS.values()) + list(QUESTIONS)
    fast = embeddings.Embedder(dtype="auto")
    exact = embeddings.Embedder(dtype="float32")
    assert fast.dtype == "bfloat16"
    cosines = (fast.embed(texts) * exact.embed(texts)).sum(axis=1)
    assert float(np.min(cosines)) > 0.995
