"""The table of built-in prompt formats, transcribed from h2oGPT 0.2.1 ``get_prompt``.

Every string here is load-bearing: a model only behaves if its prompt matches what it was
trained on, and users switching from h2oGPT expect the exact same prompts, so values are
copied verbatim (quirks included, e.g. ``vicuna11`` keeps a lone space when the system prompt
is empty).  The golden tests compare against h2oGPT itself, so any typo shows up there.

Not included: ``template``/``unknown`` (those use the tokenizer's chat template, see
``_chat_template``) and ``dai_faq`` (its separators are lists, so h2oGPT cannot chat with it).
"""

from __future__ import annotations

from typing import Any

from ._spec import FormatSpec as F
from ._texts import (
    BELUGA,
    CONVERSATION,
    DEEPSEEK_CODER_SYSTEM_PROMPT,
    FOLLOWS_WELL,
    GEMMA,
    GOOGLE,
    GPTJ_PREAMBLE,
    IDEFICS2_SYSTEM_PROMPT,
    JAIS_SYSTEM_PROMPT,
    LLAMA2_SYSTEM_PROMPT,
    ONE_SHOT_PREAMBLE,
    OPENAI,
    ORCA2,
    QUALITY,
    TASK,
    TASK_WITH_INPUT,
    VICUNA_HUMAN,
    VICUNA_USER,
    XWINCODER,
)

S = "{system}"

# Stop words h2oGPT's get_stopping() uses for the "### Human:/### Assistant:" families.
_HUMAN_ASSISTANT_STOPS = (
    "### Human:",
    "\n### Human:",
    "\n### Human:\n",
    "###  Human:  ",
    "###  Human:",
    "### Assistant:",
    "\n### Assistant:",
    "\n### Assistant:\n",
    "###  Assistant:  ",
    "###  Assistant:",
)
_HUMAN_BOT_STOPS = ("<human>:", "<bot>:", "\n<human>:", "\n<bot>:")

_INSTRUCTION = "\n### Instruction:\n"
_INPUT = "\n### Input:\n"
_RESPONSE = "\n### Response:\n"
_VICUNA_STOPS = ("### Human:", "###  Human:  ", " ###  Human:", "###  Assistant:")


def _same_tags(pre_instruct: str, pre_response: str, sep: str = "\n", **kw: Any) -> F:
    """Common case: humanstr/botstr are the tags themselves and both separators are equal."""
    return F(pre_instruct, pre_response, sep, sep, pre_instruct, pre_response, **kw)


def _raw(chat_sep: str) -> F:
    """plain-style passthrough: no tags at all."""
    return F(None, None, chat_sep, "\n", None, None, prompt_a=None, prompt_b=None)


def _tokens(human: str, bot: str, eos: str, *extra: str) -> F:
    """prompt_answer/open_assistant style: special tokens, eos between turns."""
    return F(human, bot, eos, eos, human, bot, terminate=(human, bot, *extra, eos))


def _open_chat(role: str) -> F:
    user, assistant, eot = f"{role} User: ", f"{role} Assistant:", "<|end_of_turn|>"
    return F(user, assistant, eot, eot, user, assistant, (assistant, eot), context_suffix=" ")


def _api() -> F:
    """Chat-API formats: the endpoint does the templating, so prompts are bare text."""
    return F("", "", "", "\n", None, None, can_handle_system=True)


# Helpers and table are laid out by hand (several fields per line); keep them unformatted.
# fmt: off
def _chatml(block: str, default: str, turn_sep: str, user: str, assistant: str, *stops: str) -> F:
    return F(
        user, assistant, "", turn_sep, user, assistant, stops,
        system_default=default, system_block=block, can_handle_system=True,
    )


def _user_assistant(block: str, default: str, response: str = "ASSISTANT:") -> F:
    """xwin family: 'USER: ... ASSISTANT:' with the system text on the same line."""
    return F(
        "USER: ", response, "\n", "\n", "USER: ", response, (response, "ASSISTANT:", "</s>"),
        system_default=default, system_block=block, can_handle_system=True, context_suffix=" ",
    )


def _instruct(prompt_a: str, prompt_b: str, terminate: tuple[str, ...] = (), **kw: Any) -> F:
    return F(
        _INSTRUCTION, _RESPONSE, "\n", "\n", _INSTRUCTION, _RESPONSE, terminate,
        pre_input=_INPUT, prompt_a=prompt_a, prompt_b=prompt_b, **kw,
    )


_AQUILA_STOPS = ("###Human:", "###", "</s>", "[UNK]")
_MISTRAL_STOPS = ("[INST]", "</s>")
_SYS_LLAMA = "<<SYS>>\n" + S + "\n<</SYS>>\n\n"
_ZEPHYR_STOPS = ("<|assistant|>", "</s>")

FORMATS: dict[str, F] = {
    "plain": _raw("\n"),
    "simple_instruct": _raw("\n"),
    "llava": _raw(""),
    "instruct": _instruct(TASK_WITH_INPUT + "\n", TASK + "\n"),
    "instruct_with_end": _instruct(
        TASK_WITH_INPUT + "\n", TASK + "\n", ("### End",), stop_words=_HUMAN_ASSISTANT_STOPS
    ),
    "quality": _instruct(
        QUALITY + " by following the Instruction as applied on the Input.\n",
        QUALITY + " by following the Instruction.\n",
    ),
    "instruct_simple": _instruct("", ""),
    "human_bot": F(
        "<human>: ", "<bot>:", "\n", "\n", "<human>:", "<bot>:",
        ("\n<human>:", "\n<bot>:", "<human>:", "<bot>:", "<bot>:"),
        context_suffix=" ", leading_space=True, stop_words=_HUMAN_BOT_STOPS,
    ),
    "human_bot_orig": F(
        "<human>: ", "<bot>:", "\n", "\n", "<human>:", "<bot>:",
        ("\n<human>:", "\n<bot>:", "<human>:", "<bot>:", "<bot>:"),
        context_suffix=" ", leading_space=True, stop_words=_HUMAN_BOT_STOPS, dated_preamble=True,
    ),
    "summarize": _same_tags("## Main Text\n\n", "\n\n## Summary\n\n", pre_input=""),
    "instruct_vicuna": _same_tags(
        "\n### Human:\n", "\n### Assistant:\n", terminate=_VICUNA_STOPS,
        system_default=VICUNA_HUMAN, system_block=S, can_handle_system=True,
        stop_words=_HUMAN_ASSISTANT_STOPS,
    ),
    "instruct_vicuna2": _same_tags(
        "\nHUMAN:\n", "\nASSISTANT:\n", terminate=("HUMAN:",),
        stop_words=tuple(s.upper() for s in _HUMAN_ASSISTANT_STOPS),
    ),
    "instruct_vicuna3": _same_tags(
        "\n### User:\n", "\n### Assistant:\n", terminate=("### User:",),
        stop_words=tuple(s.replace("Human", "User") for s in _HUMAN_ASSISTANT_STOPS),
    ),
    "prompt_answer": _tokens("<|prompt|>", "<|answer|>", "<|endoftext|>"),
    "prompt_answer_openllama": _tokens("<|prompt|>", "<|answer|>", "</s>"),
    "danube": _tokens("<|prompt|>", "<|answer|>", "</s>")._replace(system_default=""),
    "open_assistant": _tokens("<|prompter|>", "<|assistant|>", "</s>", "<|prefix_end|>"),
    "mistrallite": _tokens("<|prompter|>", "<|assistant|>", "</s>", "<|prefix_end|>"),
    "wizard_lm": F(
        "", "\n\n### Response\n", "</s>", "</s>", "", "\n\n### Response\n",
        ("\n\n### Response\n", "</s>"),
    ),
    "wizard_mega": _same_tags(
        _INSTRUCTION, "\n### Assistant:\n", terminate=("\n### Assistant:\n",)
    ),
    "wizard2": _same_tags(
        _INSTRUCTION, _RESPONSE, terminate=(_RESPONSE,),
        system_default=TASK, system_block=S, can_handle_system=True,
    ),
    "wizard3": _same_tags(
        "USER: ", "ASSISTANT: ", terminate=("ASSISTANT: ",),
        system_default=VICUNA_USER, system_block=S, can_handle_system=True,
    ),
    "wizard3nospace": _same_tags(
        "USER: ", "ASSISTANT:", terminate=("ASSISTANT:",),
        prompt_a=VICUNA_USER, prompt_b=VICUNA_USER,
    ),
    "wizard_vicuna": _same_tags("USER: ", "ASSISTANT: ", terminate=("ASSISTANT: ",)),
    "guanaco": _same_tags(
        "### Human: ", "### Assistant:", terminate=("### Human:",),
        stop_words=_HUMAN_ASSISTANT_STOPS,
    ),
    "one_shot": _same_tags(
        "\n### Human: ", "\n### Assistant:", terminate=_VICUNA_STOPS,
        prompt_a=ONE_SHOT_PREAMBLE, prompt_b=ONE_SHOT_PREAMBLE, stop_words=_HUMAN_ASSISTANT_STOPS,
    ),
    "openai": _same_tags(
        "\nHuman: ", "\nAI:", terminate=("\nAI:", " Human:", " AI:"),
        system_default=OPENAI, system_block=S, can_handle_system=True,
    ),
    "openai_chat": _api(),
    "anthropic": _api(),
    "google": _api()._replace(system_default=GOOGLE),
    "mistralai": _api(),
    "groq": _api(),
    "gptj": _same_tags(
        "\n### Prompt: ", "\n### Response: ",
        terminate=("\n### Response: ", "Prompt:", "Response:"),
        prompt_a=GPTJ_PREAMBLE, prompt_b=GPTJ_PREAMBLE,
    ),
    "vicuna11": F(
        "USER: ", "ASSISTANT:", " ", "</s>", "USER: ", "ASSISTANT:", ("ASSISTANT:", "</s>"),
        system_default=VICUNA_USER, system_block=S + " ", can_handle_system=True,
        context_suffix=" ",
    ),
    "vicuna11nosys": F(
        "USER: ", "ASSISTANT:", " ", "</s>", "USER: ", "ASSISTANT:", ("ASSISTANT:", "</s>"),
        system_default=VICUNA_USER, context_suffix=" ",
    ),
    "mptinstruct": F(
        "\n### Instruction\n", "\n### Response\n", "\n", "\n",
        "\n### Instruction\n", "\n### Response\n", pre_input="\n### Input\n",
        system_default=TASK, system_block=S + "\n", can_handle_system=True,
    ),
    "mptchat": _chatml(
        "<|im_start|>system\n" + S + "\n<|im_end|>", CONVERSATION, "<|im_end|>",
        "<|im_start|>user\n", "<|im_end|><|im_start|>assistant\n", "<|im_end|>",
    ),
    "orca2": _chatml(
        "<|im_start|>system\n" + S + "\n<|im_end|>", ORCA2, "<|im_end|>",
        "<|im_start|>user\n", "<|im_end|><|im_start|>assistant\n", "<|im_end|>",
    ),
    "yi": _chatml(
        "<|im_start|>system\n" + S + "<|im_end|>", CONVERSATION, "<|im_end|>",
        "\n<|im_start|>user\n", "<|im_end|>\n<|im_start|>assistant\n",
        "<|im_end|>", "<|endotftext|>",
    ),
    "qwen": _chatml(
        "<|im_start|>system\n" + S + "<|im_end|>\n", CONVERSATION, "<|im_end|>\n",
        "<|im_start|>user\n", "<|im_end|>\n<|im_start|>assistant\n", "<|im_end|>",
    ),
    "aya": _chatml(
        "<|im_start|>system\n" + S + "<|im_end|>\n", CONVERSATION, "<|im_end|>\n",
        "<|im_start|>user\n", "<|im_end|>\n<|im_start|>assistant\n",
        "<|im_end|>", "<|im_start|>",
    ),
    "falcon": F(
        "User: ", "Assistant:", "\n\n", "\n\n", "User: ", "Assistant:",
        ("\nUser", "<|endoftext|>"), context_suffix=" ",
    ),
    "falcon_chat": F(
        "User: ", "Falcon:", "\n", "\n", "User: ", "Falcon:",
        ("\nUser:", "<|endoftext|>", " User:", "###"),
        system_default="You are an intelligent and helpful assistant.",
        system_block="System: " + S + "\n", block_if_empty=False, can_handle_system=True,
        context_suffix=" ",
    ),
    "llama2": F(
        "<s>[INST] ", "[/INST]", " ", " </s>", "[INST]", "[/INST]", _MISTRAL_STOPS,
        system_default=LLAMA2_SYSTEM_PROMPT, system_block=_SYS_LLAMA, block_if_empty=False,
        block_in_opening=True, can_handle_system=True, context_suffix=" ",
    ),
    "mistral": F(
        "[INST] ", "[/INST]", " ", "</s> ", "[INST]", "[/INST]", _MISTRAL_STOPS,
        opening_instruct="<s>[INST] ",
    ),
    "mixtral": F(
        "[INST] ", "[/INST]", " ", "</s> ", "[INST]", "[/INST]", _MISTRAL_STOPS,
        opening_instruct="<s> [INST] ", system_default=FOLLOWS_WELL, system_block=_SYS_LLAMA,
        block_if_empty=False, can_handle_system=True,
    ),
    "mixtralnosys": F(
        "[INST] ", "[/INST]", " ", "</s> ", "[INST]", "[/INST]", _MISTRAL_STOPS,
        opening_instruct="<s> [INST] ",
    ),
    "beluga": F(
        "### User:\n", "\n### Assistant:\n", "\n", "\n\n", "### User:", "### Assistant:",
        ("### Assistant:", "</s>"), system_default=BELUGA,
        system_block="### System:\n" + S + "\n\n", block_if_empty=False, can_handle_system=True,
    ),
    "sciphi": F(
        "### Instruction:\n", "\n### Response:\n", "\n", "\n\n", "### Instruction:",
        "### Response:", ("### Response:", "</s>", "### Instruction:"),
        system_default=CONVERSATION, system_block="### System:\n" + S + "\n\n",
        block_if_empty=False, can_handle_system=True,
    ),
    "zephyr0": F(
        "</s>\n<|user|>\n", "</s>\n<|assistant|>\n", "\n", "</s>\n", "<|user|>", "<|assistant|>",
        _ZEPHYR_STOPS, system_default=FOLLOWS_WELL, system_block="<|system|>\n" + S,
        block_if_empty=False, can_handle_system=True,
    ),
    "zephyr": F(
        "<|user|>\n", "</s>\n<|assistant|>\n", "", "</s>\n", "<|user|>", "<|assistant|>",
        _ZEPHYR_STOPS, system_default=FOLLOWS_WELL, system_block="<|system|>\n" + S + "</s>\n",
        block_if_empty=False, can_handle_system=True,
    ),
    "xwin": _user_assistant(S + " ", VICUNA_USER),
    "xwinmath": _user_assistant(
        S + " ",
        VICUNA_USER,
        "Give your solution in detail. In the end, write your final answer in the format of "
        "'The answer is: <ANSWER>.'. ASSISTANT:",
    ),
    "mistralgerman": _user_assistant(S + " ", "Du bist ein hilfreicher"),
    "xwincoder": F(
        "<user>: ", "<AI>:", "\n", "\n", "<user>: ", "<AI>:", ("<AI>:", "<AI>:", "</s>"),
        system_default=XWINCODER, system_block="<system>: " + S + "\n", can_handle_system=True,
        context_suffix=" ",
    ),
    "aquila": F(
        "Human: ", "Assistant:", "###", "</s>", "Human: ", "Assistant:", _AQUILA_STOPS,
        system_default=VICUNA_HUMAN, system_block=S + "###", can_handle_system=True,
        context_suffix=" ",
    ),
    "aquila_simple": F(
        "###Human: ", "###Assistant:", "", "", "###Human: ", "###Assistant:", _AQUILA_STOPS,
        system_default=VICUNA_HUMAN, system_block=S, can_handle_system=True,
    ),
    "aquila_legacy": F(
        "### Human: ", "### Assistant: ", "\n", "</s>", "### Human: ", "### Assistant:",
        ("### Human:", "</s>", "[UNK]"), system_default=VICUNA_HUMAN + "\n\n", system_block=S,
        can_handle_system=True,
    ),
    "aquila_v1": F(
        "<|startofpiece|>", "<|endofpiece|>", "", "</s>", "<|startofpiece|>", "<|endofpiece|>",
        ("</s>", "<|endoftext|>"),
    ),
    "deepseek_coder": F(
        "### Instruction:\n", "### Response:\n", "\n", "\n<|EOT|>\n", "### Instruction:\n",
        "### Response:\n", ("### Response:\n", "<｜end▁of▁sentence｜>", "<|EOT|>"),
        system_default=DEEPSEEK_CODER_SYSTEM_PROMPT, system_block=S, can_handle_system=True,
    ),
    "open_chat": _open_chat("GPT4"),
    "open_chat_correct": _open_chat("GPT4 Correct"),
    "open_chat_code": _open_chat("Code"),
    "open_chat_math": _open_chat("Math Correct"),
    "jais": F(
        "\n### Input: [|Human|] ", "\n### Response: [|AI|]", "", "",
        "\n### Input: [|Human|] ", "\n### Response: [|AI|]",
        ("\n### Response: [|AI|]", "\n### Input: [|Human|] "), system_default=JAIS_SYSTEM_PROMPT,
        system_block="### Instruction: " + S + " [|Human|] and [|AI|]:", can_handle_system=True,
        context_suffix=" ",
    ),
    "docsgpt": _same_tags(
        "### Instruction\n", "### Answer\n", terminate=("### Answer", "### Instruction"),
        system_default=TASK, can_handle_system=True,
    ),
    "orion": F(
        "</s>Human: ", "\n\nAssistant: </s>", "", "", "<s>Human: ", "\n\nAssistant: </s>",
        ("Human:", "</s>", "[UNK]", "Assistant:"), opening_instruct="<s>Human: ",
    ),
    "beacon": F(
        "\nQuestion: ", "\nAnswer:", "\n", "\n\n", "Question:", "Answer:",
        ("Question:", "</s>", "Answer:"), context_suffix=" ",
    ),
    "beacon2": F("", "", "\n", "\n\n", "Question:", "Answer:", ("</s>",), context_suffix=" "),
    "gemma": F(
        "<start_of_turn>user\n", "<end_of_turn>\n<start_of_turn>model\n", "", "<end_of_turn>\n",
        "<bos><start_of_turn>user\n", "<end_of_turn>\n<start_of_turn>model\n",
        (
            "<bos><start_of_turn>user\n", "<end_of_turn>\n<start_of_turn>model\n",
            "<bos>", "<end_of_turn>",
        ),
        opening_instruct="<bos><start_of_turn>user\n", system_default=GEMMA, system_block=S,
        can_handle_system=True,
    ),
    "sealion": F(
        "### USER:\n", "\n\n### RESPONSE:\n", "\n", "\n\n", "### USER:", "### RESPONSE:",
        ("### RESPONSE:", "</s>", "<|endoftext|>"),
    ),
    "idefics2": F(
        "User: ", "Assistant:", "<end_of_utterance>\n", "<end_of_utterance>\n", "User: ",
        "Assistant:", ("User:", "Assistant:"), system_default=IDEFICS2_SYSTEM_PROMPT,
        system_block="System: " + S + "<end_of_utterance>\n", block_if_empty=False,
        can_handle_system=True, context_suffix=" ",
    ),
}
# fmt: on

# Post-processing h2oGPT's Prompter.fix_text applies: strip these if the text *ends* with them.
TRAILING_FRAGMENTS: dict[str, tuple[str, ...]] = {
    "human_bot": ("<human", "<bot"),
    "docsgpt": ("### Inst",),
    "vicuna11": ("</s",),
    "one_shot": ("### Human",),
}
