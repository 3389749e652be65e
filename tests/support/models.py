"""Tiny random models made at test time, so unit tests need no downloads and run in
milliseconds: a sentence-transformer with MiniLM's real vocabulary."""

from __future__ import annotations

from pathlib import Path


def build_tiny_embedder(folder: Path, seed: int) -> Path:
    """A random 2-layer BERT with MiniLM's vocabulary, saved as a sentence-transformers folder."""
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Pooling, Transformer
    from transformers import AutoTokenizer, BertConfig, BertModel

    from h2ogpt_jupyter.documents import embeddings

    tokenizer = AutoTokenizer.from_pretrained(str(embeddings.default_model_path()))
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=512,
    )
    torch.manual_seed(seed)
    bert_dir = folder / "bert"
    BertModel(config).save_pretrained(bert_dir)
    tokenizer.save_pretrained(bert_dir)
    word = Transformer(str(bert_dir), max_seq_length=256)
    pooling = Pooling(32, pooling_mode="mean")
    out = folder / "tiny-embedder"
    SentenceTransformer(modules=[word, pooling], device="cpu").save(str(out))
    return out
