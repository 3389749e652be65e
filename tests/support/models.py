"""Tiny random models made at test time, so unit tests need no downloads and run in
milliseconds: a sentence-transformer with MiniLM's real vocabulary."""

from __future__ import annotations

from pathlib import Path

from h2ogpt_jupyter.config import loading_weights


@loading_weights()  # as every load in the package: never beside another
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


@loading_weights()
def build_talking_llama(tiny_dir: Path, folder: Path) -> Path:
    """The tiny random Llama made to say visible words: the embedding rows of tokens that
    decode to blank text (and of special tokens) are zeroed, so their logits are 0 and greedy
    decoding always picks a word. The plain tiny model answers in newlines, which strip to ''."""
    import torch
    from transformers import AutoTokenizer, LlamaForCausalLM

    tokenizer = AutoTokenizer.from_pretrained(str(tiny_dir))
    model = LlamaForCausalLM.from_pretrained(str(tiny_dir))
    blank = [i for i in range(len(tokenizer)) if not tokenizer.decode([i]).strip()]
    blank += tokenizer.all_special_ids
    with torch.no_grad():
        model.get_input_embeddings().weight[blank] = 0.0  # tied: the output rows too
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@loading_weights()
def greedy_text(
    model_dir: Path, prompt: str, max_new_tokens: int, repetition_penalty: float
) -> str:
    """What plain ``transformers`` generates for ``prompt`` greedily: the expected answer,
    worked out without this package's code."""
    import torch
    from transformers import AutoTokenizer, LlamaForCausalLM

    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    model = LlamaForCausalLM.from_pretrained(str(model_dir), torch_dtype=torch.float32).eval()
    ids = tokenizer(prompt, return_tensors="pt").input_ids
    with torch.inference_mode():
        out = model.generate(
            ids,
            max_new_tokens=max_new_tokens,
            do_sample=False,
            repetition_penalty=repetition_penalty,
            pad_token_id=tokenizer.eos_token_id,
        )
    return str(tokenizer.decode(out[0, ids.shape[1] :], skip_special_tokens=True))
