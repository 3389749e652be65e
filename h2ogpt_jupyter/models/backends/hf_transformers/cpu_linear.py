"""Linear layers that keep their speed on a CPU when a batch multiplies a few rows at a time.

In a decoding step of a batch every weight matrix meets a handful of rows, one per request.
torch computes ``x · Wᵀ`` with MKL's sgemm, which for 2–128 rows of float32 runs far below
what the CPU can do: on a two-core AVX2 machine SmolLM2's output layer (576 → 49,152) took
~60 ms for 8 rows, ~4× the time of one row, while the same product written as ``(W · xᵀ)ᵀ``
took ~13 ms, about one row's time. Over a whole SmolLM2 step with 8 requests in flight that
took the matrix products from ~130 ms to ~85 ms; ``bench/concurrency.py`` with the engine
``transformers-torch-linear`` measures the difference.

One row (a lone stream) and long prompts keep torch's own call, which is as fast or faster
there; so do other dtypes (bfloat16 goes through oneDNN, which does not have this problem) and
anything on a GPU. The swap changes only which product MKL is asked for: parameters, state
dicts and adapters (LoRA wraps these layers) are untouched.
"""

from __future__ import annotations

from typing import Any

import torch
from torch.nn import functional

#: row counts that take the ``(W · xᵀ)ᵀ`` route (measured faster or equal for all of
#: SmolLM2's layer shapes; from ~512 rows torch's own call is faster again)
MIN_ROWS = 2
MAX_ROWS = 128


class RowsFirstLinear(torch.nn.Linear):
    """``torch.nn.Linear`` that computes a few float32 rows on a CPU as ``(W · xᵀ)ᵀ``."""

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        weight = self.weight
        rows = input.numel() // self.in_features if self.in_features else 0
        if (
            not MIN_ROWS <= rows <= MAX_ROWS
            or weight.dtype != torch.float32
            or input.dtype != torch.float32
            or weight.device.type != "cpu"
            or (input.requires_grad and torch.is_grad_enabled())
        ):
            return functional.linear(input, weight, self.bias)
        flat = input.reshape(rows, self.in_features)
        if self.bias is None:
            out = torch.mm(weight, flat.t())
        else:
            out = torch.addmm(self.bias[:, None], weight, flat.t())
        return out.t().reshape(*input.shape[:-1], self.out_features)


def use_rows_first(model: Any) -> int:
    """Swap every plain float32 ``nn.Linear`` on the CPU in ``model`` for
    :class:`RowsFirstLinear`; the number swapped. Subclasses (quantized layers) are left alone."""
    swapped = 0
    for module in model.modules():
        if (
            type(module) is torch.nn.Linear
            and module.weight.dtype == torch.float32
            and module.weight.device.type == "cpu"
        ):
            module.__class__ = RowsFirstLinear
            swapped += 1
    return swapped


def use_torch_linear(model: Any) -> int:
    """Undo :func:`use_rows_first` (benchmarks compare the two); the number restored."""
    restored = 0
    for module in model.modules():
        if type(module) is RowsFirstLinear:
            module.__class__ = torch.nn.Linear  # type: ignore[assignment] # the base class
            restored += 1
    return restored
