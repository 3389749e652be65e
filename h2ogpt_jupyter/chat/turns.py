"""Build the prompt for one turn of a conversation and fit it into the model's window.

Three ways to speak to a model, chosen once at load (``LoadedModel.prompt_type``): one of
h2oGPT's prompt formats, the model's own chat template, or role/content messages for chat
servers. In each case the oldest turns are dropped until prompt plus ``max_new_tokens`` fit
the context window, counted with the model's real tokenizer; the system prompt is never
dropped, and when even a bare prompt leaves too little room the answer budget shrinks as
h2oGPT does.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from h2ogpt_jupyter import prompts
from h2ogpt_jupyter.errors import H2OGPTError
from h2ogpt_jupyter.models import stop_strings
from h2ogpt_jupyter.models.backends import Messages
from h2ogpt_jupyter.models.manager import TEMPLATE, LoadedModel

History = list[tuple[str, str]]

# h2oGPT's ``min_max_new_tokens``: answer room that history trimming keeps free.
MIN_MAX_NEW_TOKENS = 512
# Below this many free tokens a prompt is refused rather than answered in a few words.
MIN_NEW_TOKENS_AFTER_FIT = 32


class PromptTooLongError(H2OGPTError):
    """Even without history the prompt leaves no room for an answer."""


@dataclass
class TurnInput:
    """Everything h2oGPT lets a user put around one instruction."""

    instruction: str
    history: History = field(default_factory=list)
    system_prompt: str | None = "auto"
    context: str = ""  # raw text placed before the whole prompt (h2oGPT's ``context``)
    iinput: str = ""  # h2oGPT's second input field, joined to the instruction
    text_context_list: list[str] = field(default_factory=list)  # documents given directly
    pre_prompt_query: str | None = None  # None: h2oGPT's sentence before the documents
    prompt_query: str | None = None  # None: h2oGPT's sentence after them


@dataclass
class BuiltPrompt:
    prompt: str
    messages: Messages | None
    prompt_tokens: int
    max_new_tokens: int
    turns_used: int  # how many earlier turns survived fitting
    stop: list[str]


def input_limit(model: LoadedModel, max_new_tokens: int, max_input_tokens: int = -1) -> int:
    """Most prompt tokens allowed: the window less h2oGPT's answer reserve
    (``min(max_new_tokens, 512)``), and no more than ``max_input_tokens`` when that is set."""
    limit = model.backend.context_length - min(max_new_tokens, MIN_MAX_NEW_TOKENS)
    return min(limit, max_input_tokens) if max_input_tokens > 0 else limit


def prompt_tokens(model: LoadedModel, turn: TurnInput) -> int:
    """Tokens of the prompt for ``turn`` with all of its history, before any fitting."""
    return _render(model, turn, list(turn.history))[2]


def build(
    model: LoadedModel, turn: TurnInput, max_new_tokens: int, max_input_tokens: int = -1
) -> BuiltPrompt:
    """The prompt for ``turn``, with as much recent history as fits.

    Like h2oGPT, history is trimmed to leave room for ``min(max_new_tokens, 512)`` answer
    tokens (``min_max_new_tokens``) and to stay under ``max_input_tokens``, then the answer
    budget is cut to whatever room is left, so a long conversation does not lose all its
    turns just because the budget is generous.
    """
    window = model.backend.context_length
    limit = input_limit(model, max_new_tokens, max_input_tokens)
    history = list(turn.history)
    built = _render(model, turn, history)
    dropped = 0
    if built[2] > limit:
        # Binary search for the fewest dropped (oldest) turns that fit under the limit.
        lo, hi = 1, len(history)
        best = _render(model, turn, [])
        dropped = len(history)
        while lo <= hi:
            mid = (lo + hi) // 2
            candidate = _render(model, turn, history[mid:])
            if candidate[2] <= limit:
                best, dropped, hi = candidate, mid, mid - 1
            else:
                lo = mid + 1
        built = best
    room = window - built[2]
    if room < min(max_new_tokens, MIN_NEW_TOKENS_AFTER_FIT):
        raise PromptTooLongError(
            f"the prompt takes {built[2]} tokens, leaving no room to answer in this model's "
            f"{window}-token window; shorten it or load with a larger max_seq_len"
        )
    prompt, messages, tokens = built
    return BuiltPrompt(
        prompt,
        messages,
        tokens,
        min(max_new_tokens, room),
        len(history) - dropped,
        stop_strings.for_model(model),
    )


def finalize(model: LoadedModel, text: str) -> str:
    """h2oGPT's response cleaning for its formats; templates and servers just trim."""
    if model.prompt_type in (TEMPLATE, "openai_chat"):
        return text.strip()
    return prompts.clean_response(model.prompt_type, text, model.options.prompt_dict).strip()


def _instruction(turn: TurnInput) -> str:
    if turn.text_context_list:
        return prompts.document_query(
            turn.instruction,
            turn.text_context_list,
            iinput=turn.iinput,
            pre_prompt_query=turn.pre_prompt_query,
            prompt_query=turn.prompt_query,
        )
    return turn.instruction


def _system_prompt(model: LoadedModel, turn: TurnInput) -> str | None:
    if model.prompt_type == TEMPLATE:
        # 'auto' leaves the template's own default system prompt in place.
        return None if turn.system_prompt in (None, "", "auto") else turn.system_prompt
    fmt = prompts.get_prompt_format(
        model.prompt_type, model.options.prompt_dict, turn.system_prompt
    )
    return fmt.system_prompt or None


def _render(
    model: LoadedModel, turn: TurnInput, history: History
) -> tuple[str, Messages | None, int]:
    instruction = _instruction(turn)
    iinput = "" if turn.text_context_list else turn.iinput
    if model.prompt_type in (TEMPLATE, "openai_chat"):
        if iinput:
            instruction = f"{instruction}\n{iinput}"
        system = _system_prompt(model, turn)
        if model.prompt_type == "openai_chat":
            messages = prompts.chat_messages(history, instruction, system)
            text = "\n".join(m["content"] for m in messages)
            return turn.context + text, messages, model.backend.count_tokens(turn.context + text)
        render = model.backend.chat_template()
        assert render is not None
        if not history and not instruction:  # templates refuse an empty conversation
            return turn.context, None, model.backend.count_tokens(turn.context)
        prompt = turn.context + prompts.chat_template_prompt(render, history, instruction, system)
        return prompt, None, model.backend.count_tokens(prompt)
    prompt = turn.context + prompts.build_prompt(
        model.prompt_type,
        history,
        instruction,
        system_prompt=turn.system_prompt,
        prompt_dict=model.options.prompt_dict,
        iinput=iinput,
    )
    return prompt, None, model.backend.count_tokens(prompt)
