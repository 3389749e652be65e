"""Prompt assembly, stop strings and response cleanup, reproducing h2oGPT's chat path.

h2oGPT builds a chat prompt in two steps (``gen.get_limited_prompt``): earlier turns are
rendered one by one into a *context* string (``history_to_context``: ``reduced=True``,
``making_context=True``, each turn closed with ``chat_turn_sep``), then the new instruction is
rendered after that context (``reduced`` only if there were earlier turns) and the format's
preamble/system block is put in front.  Formats that cannot take a system prompt get it as a
fake first exchange instead.  This module performs the same steps so prompts are identical.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

from ._formats import FORMATS, TRAILING_FRAGMENTS
from ._spec import CUSTOM_KEYS, FormatSpec, PromptFormat, render_turn, resolve, resolve_system

#: User message of the fake first exchange that carries a system prompt for formats that have
#: no system slot (h2oGPT's ``user_prompt_for_fake_system_prompt0``).
FAKE_SYSTEM_USER_PROMPT = "Who are you and what do you do?"

#: h2oGPT's default ``system_prompt`` setting: each format picks its own default.
DEFAULT_SYSTEM_PROMPT = "auto"

#: What ``system_prompt='auto'`` turns into, per prompt type (types without one are absent).
DEFAULT_SYSTEM_PROMPTS: Mapping[str, str] = MappingProxyType(
    {name: spec.system_default for name, spec in FORMATS.items() if spec.system_default}
)

#: All supported prompt type names (built-in formats plus ``custom``).
PROMPT_TYPES: tuple[str, ...] = (*FORMATS, "custom")

History = Sequence[tuple[str | None, str | None]]


def _custom_spec(prompt_dict: Mapping[str, Any] | str | None) -> FormatSpec:
    """Turn a custom ``prompt_dict`` into a spec with h2oGPT's custom semantics.

    h2oGPT ignores ``generates_leading_space``/``can_handle_system_prompt`` for custom and never
    blanks promptA/promptB on later turns, so neither do we.
    """
    if isinstance(prompt_dict, str):
        import ast  # only needed for h2oGPT-style string dicts; keep import time low

        try:
            prompt_dict = ast.literal_eval(prompt_dict)
        except (ValueError, SyntaxError) as exc:
            raise ValueError(f"prompt_dict string is not a Python dict literal: {exc}") from exc
    if not isinstance(prompt_dict, Mapping):
        raise ValueError(
            "prompt_type 'custom' requires a prompt_dict with keys: " + ", ".join(CUSTOM_KEYS)
        )
    fmt = PromptFormat.from_dict(prompt_dict)  # refuses missing keys, naming them
    for key in ("chat_sep", "chat_turn_sep"):
        if not isinstance(prompt_dict[key], str):
            raise ValueError(f"custom prompt_dict[{key!r}] must be a str")
    return FormatSpec(
        pre_instruct=fmt.PreInstruct,
        pre_response=fmt.PreResponse,
        chat_sep=fmt.chat_sep,
        chat_turn_sep=fmt.chat_turn_sep,
        humanstr=fmt.humanstr,
        botstr=fmt.botstr,
        terminate=tuple(fmt.terminate_response),
        pre_input=fmt.PreInput,
        prompt_a=fmt.promptA,
        prompt_b=fmt.promptB,
        keep_preamble_when_reduced=True,
    )


def _spec_for(prompt_type: str, prompt_dict: Mapping[str, Any] | str | None) -> FormatSpec:
    if prompt_type == "custom":
        return _custom_spec(prompt_dict)
    spec = FORMATS.get(prompt_type)
    if spec is None:
        raise ValueError(
            f"Unknown prompt_type {prompt_type!r}; choose one of: {', '.join(PROMPT_TYPES)}"
        )
    return spec


def get_prompt_format(
    prompt_type: str,
    prompt_dict: Mapping[str, Any] | str | None = None,
    system_prompt: str | None = "auto",
) -> PromptFormat:
    """Resolve a format as h2oGPT's ``Prompter`` sees it (first turn, not reduced).

    ``system_prompt``: ``'auto'`` (or ``None``, as in h2oGPT) selects the format's default,
    if it has one; ``''`` means no system prompt; any other text is used as is.  ``prompt_dict`` is
    only read for ``prompt_type='custom'``.
    """
    spec = _spec_for(prompt_type, prompt_dict)
    system = resolve_system(spec, system_prompt)
    return resolve(spec, system, reduced=False, making_context=False)


def build_prompt(
    prompt_type: str,
    history: History,
    instruction: str,
    system_prompt: str | None = "auto",
    prompt_dict: Mapping[str, Any] | str | None = None,
    *,
    iinput: str = "",
) -> str:
    """Return the exact prompt h2oGPT sends to the model for a chat turn.

    ``history`` holds earlier ``(user, assistant)`` turns, oldest first, *without* the new
    instruction; ``iinput`` is h2oGPT's second input field for the new turn.  No length
    limiting is done here: fitting history to a token budget is the conversation's job.
    """
    spec = _spec_for(prompt_type, prompt_dict)
    system = resolve_system(spec, system_prompt)
    view = resolve(spec, system, reduced=False, making_context=False)

    turns: list[tuple[str | None, str | None]] = list(history)
    if not spec.can_handle_system and system:
        # No system slot: h2oGPT injects it as the first exchange and drops it elsewhere.
        turns.insert(0, (FAKE_SYSTEM_USER_PROMPT, system))
        system = ""

    turn_sep = spec.chat_turn_sep
    context = ""
    used_turns = 0
    for histi, (user, bot) in enumerate(turns):
        if user is None:  # h2oGPT marks non-LLM entries (errors, sources) with user=None
            continue
        used_turns += 1
        if bot is None:
            continue
        fmt = resolve(spec, system, reduced=True, making_context=True, histi=histi)
        piece = render_turn(fmt, "", user, bot).replace("<br>", turn_sep)
        if not piece.endswith(turn_sep):
            piece += turn_sep
        context += piece
    if context and not context.endswith(turn_sep):
        context += turn_sep

    from_history = used_turns > 0
    final = resolve(spec, system, reduced=from_history, making_context=False)
    prompt = render_turn(final, context, instruction, iinput=iinput)
    preamble = view.promptA if iinput and view.promptA else view.promptB
    if context and from_history and preamble:
        # The later-turn render had no preamble; h2oGPT restores it in front of everything.
        prompt = preamble + prompt
    return prompt


def stop_strings(prompt_type: str, prompt_dict: Mapping[str, Any] | str | None = None) -> list[str]:
    """This format's stop strings: h2oGPT's ``Prompter.stop_sequences`` (terminate strings
    plus the bot tag) together with the words ``stopping.get_stopping`` watches for.

    Order is stable (terminate strings first); duplicates and empty strings are removed.
    """
    spec = _spec_for(prompt_type, prompt_dict)
    view = resolve(spec, "", reduced=False, making_context=False)
    found: list[str] = []
    for stop in (*view.terminate_response, *spec.stop_words, view.PreResponse):
        if stop and stop not in found:
            found.append(stop)
    return found


def clean_response(
    prompt_type: str, text: str, prompt_dict: Mapping[str, Any] | str | None = None
) -> str:
    """Cut generated text like h2oGPT's ``Prompter.get_response(only_new_text=True)``.

    The text is cut before the *first terminate string in list order* that occurs anywhere
    (not the earliest occurrence), then a few known partial tags are trimmed from the end.
    Nothing is stripped: h2oGPT keeps leading/trailing whitespace on this path.
    """
    spec = _spec_for(prompt_type, prompt_dict)
    for term in spec.terminate:
        cut = text.find(term)
        if cut >= 0:
            text = text[:cut]
            break
    for fragment in TRAILING_FRAGMENTS.get(prompt_type, ()):
        if text.endswith(fragment):
            text = text[: -len(fragment)]
    return text
