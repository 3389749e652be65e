"""Data model for prompt formats and the rules that turn a format into text.

h2oGPT describes every format with one long ``if/elif`` chain (``get_prompt``) whose outputs
depend on four inputs: the system prompt, ``reduced`` (building a later turn, so no preamble),
``making_context`` (rendering an *earlier* turn, so the bot tag gets the space the model would
have produced) and ``histi`` (index of the turn, because some formats emit BOS only once).
Here each format is a flat, immutable :class:`FormatSpec` record, and :func:`resolve` applies
those four inputs uniformly.  :class:`PromptFormat` is the public, resolved view with
h2oGPT's ``prompt_dict`` field names so dictionaries round-trip with h2oGPT configs.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, NamedTuple

#: Keys a ``prompt_type='custom'`` dictionary must provide (what h2oGPT reads for custom).
CUSTOM_KEYS: tuple[str, ...] = (
    "promptA",
    "promptB",
    "PreInstruct",
    "PreInput",
    "PreResponse",
    "terminate_response",
    "chat_sep",
    "chat_turn_sep",
    "humanstr",
    "botstr",
)

SYSTEM_PLACEHOLDER = "{system}"


@dataclass(frozen=True)
class PromptFormat:
    """A fully resolved prompt format, field for field like h2oGPT's ``prompt_dict``.

    ``None`` for a marker means "not used" (e.g. ``plain`` has no tags at all), which h2oGPT
    distinguishes from ``''`` in a few places, so the distinction is preserved.
    """

    promptA: str | None
    promptB: str | None
    PreInstruct: str | None
    PreInput: str | None
    PreResponse: str | None
    terminate_response: list[str] = field(default_factory=list)
    chat_sep: str = "\n"
    chat_turn_sep: str = "\n"
    humanstr: str | None = None
    botstr: str | None = None
    generates_leading_space: bool = False
    system_prompt: str = ""
    can_handle_system_prompt: bool = False

    def to_dict(self) -> dict[str, Any]:
        """Return a plain ``dict`` usable as an h2oGPT ``prompt_dict``."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PromptFormat:
        """Build from a ``prompt_dict``; the ten structural keys are required."""
        missing = [key for key in CUSTOM_KEYS if key not in data]
        if missing:
            raise ValueError(f"prompt_dict is missing required keys: {', '.join(missing)}")
        terminate = data["terminate_response"]
        return cls(
            promptA=data["promptA"],
            promptB=data["promptB"],
            PreInstruct=data["PreInstruct"],
            PreInput=data["PreInput"],
            PreResponse=data["PreResponse"],
            terminate_response=list(terminate) if terminate else [],
            chat_sep=data["chat_sep"],
            chat_turn_sep=data["chat_turn_sep"],
            humanstr=data["humanstr"],
            botstr=data["botstr"],
            generates_leading_space=bool(data.get("generates_leading_space", False)),
            system_prompt=data.get("system_prompt") or "",
            can_handle_system_prompt=bool(data.get("can_handle_system_prompt", False)),
        )


class FormatSpec(NamedTuple):
    """Static description of one format, as seen when building the live (last) turn.

    ``humanstr``, ``botstr`` and ``terminate`` are stored as h2oGPT's ``Prompter`` sees them
    (first turn, not making context) because only that view ever uses them.
    """

    pre_instruct: str | None
    pre_response: str | None
    chat_sep: str
    chat_turn_sep: str
    humanstr: str | None
    botstr: str | None
    terminate: tuple[str, ...] = ()
    pre_input: str | None = None
    prompt_a: str | None = ""
    prompt_b: str | None = ""
    # 'auto' resolves to this; None means 'auto' resolves to no system prompt.
    system_default: str | None = None
    # Template (with {system}) for the system block; None if the format ignores system text.
    system_block: str | None = None
    # Whether the block is still emitted for an empty system prompt (e.g. ``"%s\n" % ""``).
    block_if_empty: bool = True
    # llama2 puts the block inside the opening [INST] instead of before it.
    block_in_opening: bool = False
    can_handle_system: bool = False
    # PreInstruct on the opening turn when it differs (BOS tokens); None = same as pre_instruct.
    opening_instruct: str | None = None
    # Appended to PreResponse when rendering an earlier turn (the space the model emits).
    context_suffix: str = ""
    leading_space: bool = False
    # human_bot_orig prefixes the current date and time.
    dated_preamble: bool = False
    # custom keeps promptA/promptB even on later turns (h2oGPT never blanks them for custom).
    keep_preamble_when_reduced: bool = False
    # Extra stop words h2oGPT's get_stopping() adds for this family.
    stop_words: tuple[str, ...] = ()


def resolve_system(spec: FormatSpec, system_prompt: str | None) -> str:
    """Apply h2oGPT's rule: ``'auto'`` and ``None`` pick the format's default, ``''`` none."""
    if system_prompt is None or system_prompt == "auto":
        return spec.system_default or ""
    return system_prompt


def _dated_preamble() -> str:
    # Same format strings as h2oGPT (including its '%H ... %p' oddity).
    date = time.strftime("%Y-%m-%d")
    clock = time.strftime("%H:%M:%S %p %Z")
    return f"Current Date: {date}\nCurrent Time: {clock}\n\n"


def resolve(
    spec: FormatSpec,
    system: str,
    *,
    reduced: bool,
    making_context: bool,
    histi: int = -1,
) -> PromptFormat:
    """Resolve ``spec`` for one call of h2oGPT's ``get_prompt``.

    ``system`` must already be resolved (see :func:`resolve_system`).
    """
    block = ""
    if spec.system_block is not None and (system or spec.block_if_empty):
        block = spec.system_block.replace(SYSTEM_PLACEHOLDER, system)

    # Formats that emit BOS (or the llama2 system block) only on the very first turn.
    opening = (making_context and histi == 0) or (not making_context and not reduced)
    pre_instruct = spec.pre_instruct
    if opening:
        if spec.opening_instruct is not None:
            pre_instruct = spec.opening_instruct
        if spec.block_in_opening and pre_instruct is not None:
            pre_instruct += block

    if reduced and not spec.keep_preamble_when_reduced:
        prompt_a = "" if spec.prompt_a is not None else None
        prompt_b = "" if spec.prompt_b is not None else None
    elif spec.dated_preamble:
        prompt_a = prompt_b = _dated_preamble()
    elif spec.system_block is not None and not spec.block_in_opening:
        prompt_a = prompt_b = block
    else:
        prompt_a, prompt_b = spec.prompt_a, spec.prompt_b

    pre_response = spec.pre_response
    if making_context and pre_response is not None:
        pre_response += spec.context_suffix

    return PromptFormat(
        promptA=prompt_a,
        promptB=prompt_b,
        PreInstruct=pre_instruct,
        PreInput=spec.pre_input,
        PreResponse=pre_response,
        terminate_response=list(spec.terminate),
        chat_sep=spec.chat_sep,
        chat_turn_sep=spec.chat_turn_sep,
        humanstr=spec.humanstr,
        botstr=spec.botstr,
        generates_leading_space=spec.leading_space,
        system_prompt=system,
        can_handle_system_prompt=spec.can_handle_system,
    )


def render_turn(
    fmt: PromptFormat, context: str, instruction: str, output: str = "", iinput: str = ""
) -> str:
    """h2oGPT's ``generate_prompt`` for a chat turn, including its ``input`` field.

    An empty instruction contributes neither the human tag nor ``chat_sep``; an empty output
    leaves the prompt ending in the bot tag.  Both are h2oGPT behaviours.  With ``iinput``,
    h2oGPT's own order of cases decides where the input goes (``promptA``/``PreInput``).
    """
    prompt = context
    if iinput and fmt.promptA:
        prompt += fmt.promptA
    elif fmt.promptB:
        prompt += fmt.promptB
    pre_i, pre_in = fmt.PreInstruct, fmt.PreInput
    body: str | None
    if instruction and iinput:
        if pre_i is not None and pre_in is not None:
            body = f"{pre_i}{instruction}{pre_in}{iinput}"
        elif pre_i is None and pre_in is not None:
            body = f"{pre_in}{instruction}\n{iinput}"
        elif pre_i is not None:
            body = f"{pre_i}{instruction}\n{iinput}"
        else:
            body = f"{instruction}: {iinput}"
    elif iinput:
        body = f"{pre_in}{iinput}" if pre_in is not None else iinput
    elif instruction:
        body = f"{pre_i}{instruction}" if pre_i is not None else instruction
    else:
        body = None
    if body is not None:
        prompt += body
        if fmt.chat_sep:
            prompt += fmt.chat_sep
    if fmt.PreResponse is not None:
        prompt += fmt.PreResponse
    if output:
        prompt += output
    return prompt
