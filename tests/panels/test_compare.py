"""The compare panel on two copies of the tiny model: columns run at the same time and each
streams, statistics and a reward-model score per answer (a tiny random BERT classifier with
MiniLM's vocabulary), Stop, one model under different settings, and errors per column."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import pytest

from h2ogpt_jupyter.errors import H2OGPTError, InvalidOptionError
from h2ogpt_jupyter.models.manager import ModelManager
from h2ogpt_jupyter.panels import ComparePanel

from .comm import (
    front,
    loaded,
    sent,
    updates,
    wait_for,
)

pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.script_method` is deprecated")


@pytest.fixture(scope="module")
def two(tiny_model_dir: Path) -> Iterator[ModelManager]:
    """The tiny model loaded twice, as 'a' and 'b': two engines that can run side by side."""
    yield from loaded(tiny_model_dir, "a", "b")


@pytest.fixture(scope="module")
def reward_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    from h2ogpt_jupyter.documents import embeddings

    tokenizer = AutoTokenizer.from_pretrained(str(embeddings.default_model_path()))
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=512,
        num_labels=1,
    )
    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("tiny-reward")
    BertForSequenceClassification(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def reference_score(folder: Path, question: str, answer: str) -> float:
    """h2oGPT's score_model by hand, without the class under test: the pair (question,
    answer) truncated to 512 tokens, the sigmoid of the first logit."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    model = AutoModelForSequenceClassification.from_pretrained(str(folder)).eval()
    inputs = tokenizer(question, answer, return_tensors="pt", truncation=True, max_length=512)
    with torch.inference_mode():
        logit = float(model(**inputs).logits[0, 0])
    return 1.0 / (1.0 + math.exp(-logit))


def test_columns_generate_at_the_same_time_with_stats_and_scores(
    two: ModelManager, reward_dir: Path
) -> None:
    panel = ComparePanel(
        ["a", "b"],
        prompt="Name three rivers.",
        score_model=reward_dir,
        manager=two,
        min_new_tokens=48,
        max_new_tokens=48,
    )
    panel.wait()
    a, b = panel.columns
    assert [a["label"], b["label"]] == ["a", "b"] and panel.scoring
    for col in (a, b):
        assert col["status"] == "done" and col["error"] == ""
        assert col["tokens"] == 48 and col["tokens_per_second"] > 0
        assert col["time_to_first_token"] is not None and col["elapsed"] > 0
        assert 0.0 < col["score"] < 1.0
    assert max(a["started"], b["started"]) < min(a["finished"], b["finished"])  # overlapped
    deltas = sent(panel, "delta")
    for i, col in enumerate((a, b)):
        mine = [d for d in deltas if d["column"] == i]
        assert mine and "".join(d["text"] for d in mine).strip() == col["text"]
    assert len({d["_thread"] for d in deltas}) == 2  # one thread per column
    # the score is h2oGPT's: sigmoid of the first logit for (question, answer), on a real
    # answer; the panel rounds it to 4 places, float32 logits add well under 1e-6
    _, shown = updates(panel, "columns")[-1]  # the last state sent to the browser
    for i, col in enumerate((a, b)):
        assert col["text"].strip()
        expected = reference_score(reward_dir, "Name three rivers.", col["text"])
        assert col["score"] == pytest.approx(expected, abs=5e-5 + 1e-6)
        assert shown[i]["score"] == col["score"] and shown[i]["text"] == col["text"]
    assert panel.responses[0] is not None and panel.responses[0].text == a["text"]


def test_one_model_under_different_settings_run_from_the_front_end(two: ModelManager) -> None:
    panel = ComparePanel(
        [{"model": "a", "label": "greedy"}, {"model": "a", "temperature": 0.7, "seed": 3}],
        manager=two,
        max_new_tokens=6,
    )
    assert [c["label"] for c in panel.columns] == ["greedy", "a · temperature=0.7, seed=3"]
    assert all(c["status"] == "idle" for c in panel.columns) and not panel.scoring
    front(panel, {"type": "run", "prompt": "Hi"})
    panel.wait()
    assert panel.prompt == "Hi" and [c["status"] for c in panel.columns] == ["done", "done"]
    assert panel.columns[0]["score"] is None
    front(panel, {"type": "run", "prompt": "  "})
    assert "the prompt is empty" in panel.errors[-1]["message"]


def test_stop_ends_every_column(two: ModelManager) -> None:
    panel = ComparePanel(["a", "b"], manager=two, min_new_tokens=400, max_new_tokens=450)
    front(panel, {"type": "run", "prompt": "Go on and on."})
    wait_for(lambda: {d["column"] for d in sent(panel, "delta")} == {0, 1})
    front(panel, {"type": "run", "prompt": "again"})
    assert "still working" in panel.errors[-1]["message"]
    front(panel, {"type": "stop"})
    panel.wait()
    assert [c["finish_reason"] for c in panel.columns] == ["cancelled", "cancelled"]
    assert all(c["tokens"] < 400 for c in panel.columns) and not panel.busy


def test_a_failing_column_does_not_stop_the_others(two: ModelManager) -> None:
    panel = ComparePanel(["a", "ghost"], prompt="Hi", manager=two, max_new_tokens=4)
    panel.wait()
    ok, bad = panel.columns
    assert ok["status"] == "done" and bad["status"] == "error"
    assert "no model loaded as 'ghost'" in bad["error"]
    assert panel.errors == []  # a user mistake stays in its column


def test_what_is_refused_up_front(two: ModelManager, tmp_path: Path) -> None:
    with pytest.raises(InvalidOptionError, match="2 to 4"):
        ComparePanel(["a"], manager=two)
    with pytest.raises(InvalidOptionError, match="2 to 4"):
        ComparePanel(["a", "b", "a", "b", "a"], manager=two)
    with pytest.raises(InvalidOptionError, match="temperature"):
        ComparePanel(["a", {"model": "b", "temperature": 7}], manager=two)
    with pytest.raises(InvalidOptionError, match="unknown generation option"):
        ComparePanel(["a", "b"], manager=two, warmth=1)
    with pytest.raises(H2OGPTError, match="score model folder not found"):
        ComparePanel(["a", "b"], manager=two, score_model=tmp_path / "missing")
    broken = tmp_path / "empty"
    broken.mkdir()
    panel = ComparePanel(
        ["a", "b"], prompt="Hi", manager=two, score_model=broken, min_new_tokens=3, max_new_tokens=3
    )
    panel.wait()
    for col in panel.columns:
        assert col["status"] == "done" and col["score"] is None
        assert "cannot load score model" in col["error"] and "no config.json" in col["error"]
