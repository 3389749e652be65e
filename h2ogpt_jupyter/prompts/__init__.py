"""Prompt formats for local LLMs, reproducing h2oGPT's prompting character for character.

Pure standard library and cheap to import, so notebooks, servers and backends can all use it
without pulling in torch/transformers.

* :func:`build_prompt` - the full chat prompt h2oGPT would send for a prompt type.
* :func:`get_prompt_format` - the resolved format (h2oGPT ``prompt_dict`` fields).
* :func:`stop_strings` / :func:`clean_response` - where to stop and how to trim output.
* :func:`prompt_type_for_model` - h2oGPT's model-name -> prompt-type auto-selection.
* :func:`chat_template_prompt` / :func:`chat_messages` - the tokenizer chat-template path.
"""

from __future__ import annotations

from ._build import (
    DEFAULT_SYSTEM_PROMPT,
    DEFAULT_SYSTEM_PROMPTS,
    FAKE_SYSTEM_USER_PROMPT,
    PROMPT_TYPES,
    build_prompt,
    clean_response,
    get_prompt_format,
    stop_strings,
)
from ._chat_template import chat_messages, chat_template_prompt
from ._documents import (
    DOCS_JOINER,
    PRE_PROMPT_QUERY,
    PRE_PROMPT_SUMMARY,
    PROMPT_QUERY,
    PROMPT_SUMMARY,
    document_query,
    summary_instruction,
)
from ._models import prompt_type_for_model
from ._spec import CUSTOM_KEYS, PromptFormat

#: h2oGPT's "Generic" entry in its system prompt menu.
GENERIC_SYSTEM_PROMPT = (
    "A chat between a curious human and an artificial intelligence assistant.  "
    "The assistant gives helpful, detailed, and polite answers to the human's questions."
)

__all__ = [
    "CUSTOM_KEYS",
    "DEFAULT_SYSTEM_PROMPT",
    "DEFAULT_SYSTEM_PROMPTS",
    "DOCS_JOINER",
    "FAKE_SYSTEM_USER_PROMPT",
    "GENERIC_SYSTEM_PROMPT",
    "PRE_PROMPT_QUERY",
    "PRE_PROMPT_SUMMARY",
    "PROMPT_QUERY",
    "PROMPT_SUMMARY",
    "PROMPT_TYPES",
    "PromptFormat",
    "build_prompt",
    "chat_messages",
    "chat_template_prompt",
    "clean_response",
    "document_query",
    "get_prompt_format",
    "prompt_type_for_model",
    "stop_strings",
    "summary_instruction",
]
