"""Chat-template path: let the model's own template format the conversation.

h2oGPT uses the tokenizer's chat template when no prompt type is set
(``prompter.apply_chat_template`` plus the probe in ``gen.get_limited_prompt``).  Many
templates reject a ``system`` role (Gemma, Mistral v0.1 raise) or silently drop it; h2oGPT then
carries the system prompt as a fake first exchange instead.  The renderer is passed in as a
callable so this module works with transformers, llama.cpp's Jinja or anything else, and never
imports a backend itself.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ._build import FAKE_SYSTEM_USER_PROMPT

Message = dict[str, str]
History = Sequence[tuple[str | None, str | None]]

_NO_SYSTEM = (None, "", "auto")


def chat_messages(
    history: History, instruction: str | None, system_prompt: str | None = None
) -> list[Message]:
    """OpenAI-style ``[{"role": ..., "content": ...}]`` list for a conversation.

    Same rules as h2oGPT's ``structure_to_messages``: a system message only for real text
    (``None``/``''``/``'auto'`` give none), turns with a ``None`` side are skipped, empty
    messages are left out, and the new instruction comes last.
    """
    messages: list[Message] = []
    if system_prompt not in _NO_SYSTEM:
        messages.append({"role": "system", "content": str(system_prompt)})
    for turn in history:
        if len(turn) != 2:
            continue
        user, assistant = turn
        if user is None or assistant is None:
            continue
        if user:
            messages.append({"role": "user", "content": user})
        if assistant:
            messages.append({"role": "assistant", "content": assistant})
    if instruction:
        messages.append({"role": "user", "content": instruction})
    return messages


def _keeps_system(render: Callable[[list[Message]], str], system_prompt: str) -> bool:
    """h2oGPT's probe: render a one-line chat and check the system text survived."""
    try:
        probe = render(chat_messages([], "Test", system_prompt))
    except Exception:  # any template error means "no system role"
        return False
    return system_prompt in probe


def chat_template_prompt(
    render: Callable[[list[Message]], str],
    history: History,
    instruction: str,
    system_prompt: str | None,
) -> str:
    """Render a chat prompt through ``render(messages)`` with h2oGPT's system-prompt fallback.

    ``render`` is e.g. ``lambda m: tok.apply_chat_template(m, tokenize=False,
    add_generation_prompt=True)``.  ``system_prompt`` ``None``/``''``/``'auto'`` means none
    (a chat template has no format default to pick).  If the template raises on a system
    message or its output lacks the system text, the system prompt is sent as the first
    exchange ``(FAKE_SYSTEM_USER_PROMPT, system_prompt)`` instead.
    """
    if system_prompt is None or system_prompt in _NO_SYSTEM:
        return render(chat_messages(history, instruction, None))
    if _keeps_system(render, system_prompt):
        try:
            return render(chat_messages(history, instruction, system_prompt))
        except Exception:  # template accepted the probe but not this conversation
            pass
    with_fake_turn = [(FAKE_SYSTEM_USER_PROMPT, system_prompt), *history]
    return render(chat_messages(with_fake_turn, instruction, None))
