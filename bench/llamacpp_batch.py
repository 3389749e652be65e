"""How far llama.cpp's own batching goes on this CPU: aggregate tokens/s of one context
decoding 1, 2, 4, 8 and 16 sequences together, each step one token per sequence.

This is the ceiling for any batching of the packaged SmolLM2 GGUF on the machine — one
``llama_decode`` per step with every sequence in the batch, greedy picks from the logits, no
sampling chain, no detokenizing, no Python per token beyond the argmax — so it says whether a
multi-sequence llama.cpp path would reach what transformers' batching loop cannot (8 clients
≥ 6× one). The prompt is SmolLM2's chat prompt for one question; its prefill is not timed.

    .venv/bin/python bench/llamacpp_batch.py --repeats 3 --wait-idle 30
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from typing import Any

import llama_cpp as lc
import numpy as np
from _common import wait_idle

from h2ogpt_jupyter.models.backends.names import packaged_path

PROMPT = (
    "<|im_start|>user\nWrite a long story about a dragon who learns to bake bread.<|im_end|>\n"
    "<|im_start|>assistant\n"
)


class Batch:
    """A context with room for ``sequences`` sequences and a reusable ``llama_batch``."""

    def __init__(self, path: str, sequences: int) -> None:
        lc.llama_backend_init()
        self.model = lc.llama_model_load_from_file(path.encode(), lc.llama_model_default_params())
        self.vocab = lc.llama_model_get_vocab(self.model)
        self.n_vocab = lc.llama_vocab_n_tokens(self.vocab)
        params = lc.llama_context_default_params()
        params.n_ctx, params.n_batch, params.n_ubatch = 4096, 1024, 1024
        params.n_seq_max = sequences
        params.n_threads = params.n_threads_batch = os.cpu_count() or 1
        self.ctx = lc.llama_init_from_model(self.model, params)
        self.batch = lc.llama_batch_init(1024, 0, sequences)
        self.prompt = self._tokenize(PROMPT)

    def _tokenize(self, text: str) -> list[int]:
        raw = text.encode()
        out = (lc.llama_token * (len(raw) + 8))()
        n = lc.llama_tokenize(self.vocab, raw, len(raw), out, len(out), False, True)
        return list(out[:n])

    def _decode(self, rows: list[tuple[int, int, int, bool]]) -> None:
        """rows: (token, position, sequence, wants logits)."""
        b: Any = self.batch
        for i, (token, pos, seq, logits) in enumerate(rows):
            b.token[i], b.pos[i], b.n_seq_id[i], b.logits[i] = token, pos, 1, logits
            b.seq_id[i][0] = seq
        b.n_tokens = len(rows)
        if lc.llama_decode(self.ctx, self.batch) != 0:
            raise RuntimeError("llama_decode failed")

    def _argmax(self, index: int) -> int:
        logits = lc.llama_get_logits_ith(self.ctx, index)
        return int(np.ctypeslib.as_array(logits, shape=(self.n_vocab,)).argmax())

    def run(self, sequences: int, steps: int) -> float:
        """Aggregate tokens/s of ``steps`` decoding steps over ``sequences`` sequences."""
        lc.llama_memory_clear(lc.llama_get_memory(self.ctx), True)
        n = len(self.prompt)
        self._decode(
            [(t, i, s, i == n - 1) for s in range(sequences) for i, t in enumerate(self.prompt)]
        )
        last = [s * n + n - 1 for s in range(sequences)]  # where each sequence's logits are
        start = time.perf_counter()
        for step in range(steps):
            tokens = [self._argmax(i) for i in last]
            self._decode([(t, n + step, s, True) for s, t in enumerate(tokens)])
            last = list(range(sequences))
        return sequences * steps / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sequences", default="1,2,4,8,16")
    parser.add_argument("--steps", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--wait-idle", type=float, default=0.0, metavar="S")
    args = parser.parse_args()
    counts = [int(c) for c in args.sequences.split(",")]
    batch = Batch(str(packaged_path("smollm2")), max(counts))
    batch.run(1, 4)  # warm-up
    runs: dict[int, list[float]] = {c: [] for c in counts}
    for r in range(args.repeats):
        for c in counts if r % 2 == 0 else counts[::-1]:
            wait_idle(args.wait_idle)
            runs[c].append(batch.run(c, args.steps))
            print(f"  round {r + 1}: {c:2d} sequences {runs[c][-1]:7.1f} tok/s", flush=True)
    one = runs[counts[0]]
    print(f"\nsmollm2 Q4_1, llama.cpp, one context, {args.steps} steps, nproc={os.cpu_count()}\n")
    print("| sequences | tok/s | ÷ 1 sequence |")
    print("|---:|---:|---:|")
    for c in counts:
        ratio = statistics.median(a / b for a, b in zip(runs[c], one, strict=True))
        print(f"| {c} | {statistics.median(runs[c]):.1f} | {ratio:.2f} |")


if __name__ == "__main__":
    main()
