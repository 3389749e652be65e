"""Rows-first linear layers: the same numbers as ``nn.Linear`` for every row count, used by the
transformers backend on CPU float32 models only, and invisible to state dicts and generation."""

from __future__ import annotations

import pytest
import torch

from h2ogpt_jupyter.models.backends.hf_transformers.cpu_linear import (
    MAX_ROWS,
    RowsFirstLinear,
    use_rows_first,
    use_torch_linear,
)


@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("shape", [(1, 1), (1, 2), (2, 4), (1, 8), (3, 5), (1, MAX_ROWS), (1, 200)])
def test_same_numbers_as_nn_linear(bias, shape):
    torch.manual_seed(0)
    plain = torch.nn.Linear(48, 96, bias=bias)
    fast = torch.nn.Linear(48, 96, bias=bias)
    fast.load_state_dict(plain.state_dict())
    assert use_rows_first(fast) == 1
    assert type(fast) is RowsFirstLinear
    x = torch.randn(*shape, 48)
    with torch.inference_mode():
        expected, got = plain(x), fast(x)
    assert got.shape == expected.shape == (*shape, 96)
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)


def test_rows_first_route_is_the_one_taken_for_a_few_rows(monkeypatch):
    layer = torch.nn.Linear(16, 32)
    use_rows_first(layer)
    calls: list[str] = []
    real_addmm, real_linear = torch.addmm, torch.nn.functional.linear
    monkeypatch.setattr(torch, "addmm", lambda *a, **k: calls.append("rows") or real_addmm(*a, **k))
    monkeypatch.setattr(
        "h2ogpt_jupyter.models.backends.hf_transformers.cpu_linear.functional.linear",
        lambda *a, **k: calls.append("torch") or real_linear(*a, **k),
    )
    with torch.inference_mode():
        layer(torch.randn(8, 16))  # a decoding step of 8 requests
        layer(torch.randn(1, 16))  # a lone stream
        layer(torch.randn(1, 600, 16))  # a long prompt
    assert calls == ["rows", "torch", "torch"]


def test_other_dtypes_and_training_keep_torch_call():
    layer = torch.nn.Linear(16, 32).to(torch.bfloat16)
    assert use_rows_first(layer) == 0  # bf16 goes through oneDNN: left alone
    trained = torch.nn.Linear(16, 32)
    use_rows_first(trained)
    x = torch.randn(4, 16, requires_grad=True)
    trained(x).sum().backward()  # the autograd path is torch's own, gradients flow
    assert x.grad is not None and x.grad.shape == x.shape


def test_swap_keeps_parameters_and_undoes():
    model = torch.nn.Sequential(torch.nn.Linear(8, 8), torch.nn.ReLU(), torch.nn.Linear(8, 4))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    assert use_rows_first(model) == 2
    assert model.state_dict().keys() == before.keys()
    assert use_torch_linear(model) == 2
    assert all(type(m) is not RowsFirstLinear for m in model.modules())
    for key, value in model.state_dict().items():
        assert torch.equal(value, before[key])


def test_transformers_backend_uses_it_and_generates_the_same(manager, tiny_model_dir):
    from h2ogpt_jupyter.chat import Chat

    tiny = manager.load(str(tiny_model_dir), alias="tiny", dtype="float32")
    model = tiny.backend.model
    fast = [m for m in model.modules() if type(m) is RowsFirstLinear]
    assert fast, "the fp32 CPU model's linear layers should be rows-first"
    prompt = "Tell me something about rivers and the sea."
    chat = Chat("tiny", manager=manager)
    first = chat.send(prompt, max_new_tokens=12, min_new_tokens=12).text
    use_torch_linear(model)
    second = Chat("tiny", manager=manager).send(prompt, max_new_tokens=12, min_new_tokens=12).text
    assert first == second
    assert manager.load(str(tiny_model_dir), alias="tiny16", dtype="bfloat16")
    bf16 = manager.get("tiny16").backend.model
    assert not any(type(m) is RowsFirstLinear for m in bf16.modules())
