"""h2oGPT's document question-answering and summary instructions.

When documents go into the prompt (``text_context_list`` or retrieved chunks), h2oGPT wraps
them between a pre-query and a query sentence and hands the result to the prompt format as
the instruction. The sentences and the ``<all_documents>`` fences below are h2oGPT's defaults
("simple" query type), indentation included; both sentences can be replaced, e.g. to ask in
another language.
"""

from __future__ import annotations

from collections.abc import Sequence

PRE_PROMPT_QUERY = (
    "Pay attention and remember the information below, which will help to answer the question "
    "or imperative after the context ends."
)
PROMPT_QUERY = (
    "According to only the information in the document sources provided within the context "
    "above, write an insightful and well-structured response to: "
)
PRE_PROMPT_SUMMARY = "In order to write a concise summary, pay attention to the following text."
PROMPT_SUMMARY = (
    "Using only the information in the document sources above, write a condensed and concise "
    "well-structured Markdown summary of key results."
)
DOCS_JOINER = "\n\n"
_OPEN = "\n    <all_documents>\n    "
_CLOSE = "\n    </all_documents>\n    "


def document_query(
    question: str,
    documents: Sequence[str],
    *,
    iinput: str = "",
    pre_prompt_query: str | None = None,
    prompt_query: str | None = None,
) -> str:
    """The instruction h2oGPT builds to answer ``question`` from ``documents``.

    With no documents it is the question alone, as in h2oGPT.
    """
    if iinput:
        question = f"{question}\n{iinput}"
    if not documents:
        return question
    pre = PRE_PROMPT_QUERY if pre_prompt_query is None else pre_prompt_query
    post = PROMPT_QUERY if prompt_query is None else prompt_query
    return f"{pre}{_OPEN}{DOCS_JOINER.join(documents)}{_CLOSE}{post}\n{question}"


def summary_instruction(
    documents: Sequence[str],
    *,
    focus: str = "",
    pre_prompt_summary: str | None = None,
    prompt_summary: str | None = None,
) -> str:
    """The instruction h2oGPT builds to summarize (or, with ``focus``, to extract from) text."""
    pre = PRE_PROMPT_SUMMARY if pre_prompt_summary is None else pre_prompt_summary
    post = PROMPT_SUMMARY if prompt_summary is None else prompt_summary
    if focus:
        post = f"Focusing on {focus}, {post}"
    return f"{pre}{_OPEN}{DOCS_JOINER.join(documents)}{_CLOSE}{post}\n"
