"""Answering from a document collection: which chunks to retrieve and how many fit.

h2oGPT's ``langchain_mode`` names the collection to answer from (``LLM`` and ``ChatLLM`` are
its no-document modes) and ``document_subset`` says how: ``Relevant`` retrieves the chunks
nearest the question and answers from them, ``RelSources`` returns those chunks without
asking a model, ``TopKSources`` returns the first chunks of the chosen documents, with no
similarity search and no model. ``document_choice`` limits everything to some sources.

Chunks are fitted into the prompt the way h2oGPT balances them against the conversation:
documents may take whatever the rest of the prompt leaves, and at least half of the input
budget (``doc_importance`` 0.5) even when that costs the oldest turns. With
``top_k_docs=-1`` as many chunks as fit go in; a single chunk larger than the budget is cut
to it. The best chunk is placed nearest the question (h2oGPT's ``best_near_prompt``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from h2ogpt_jupyter.errors import InvalidOptionError
from h2ogpt_jupyter.options import DOCUMENTS
from h2ogpt_jupyter.prompts import DOCS_JOINER

from . import turns
from .turns import BuiltPrompt, PromptTooLongError, TurnInput

if TYPE_CHECKING:
    from h2ogpt_jupyter.documents import Collection, Hit
    from h2ogpt_jupyter.models.manager import LoadedModel

SOURCES_ONLY = ("RelSources", "TopKSources")
NO_DOCS = ("LLM", "ChatLLM")
FILL_CANDIDATES = 100  # top_k_docs=-1 considers this many nearest chunks, as h2oGPT does
DOC_IMPORTANCE = 0.5


@dataclass
class DocQuery:
    """How a chat uses documents; ``collection=None`` (or ``LLM``/``ChatLLM``) uses none."""

    collection: str | Collection | None = None
    document_subset: str = DOCUMENTS["document_subset"].default
    document_choice: list[str] = field(default_factory=list)
    top_k_docs: int = DOCUMENTS["top_k_docs"].default
    cut_distance: float | None = DOCUMENTS["cut_distance"].default  # h2oGPT's, for squared L2
    docs_ordering_type: str = DOCUMENTS["docs_ordering_type"].default

    def __post_init__(self) -> None:
        if isinstance(self.document_choice, str):
            self.document_choice = [self.document_choice]
        self.document_choice = [str(c) for c in self.document_choice or []]
        for name in ("document_subset", "docs_ordering_type", "cut_distance"):
            setattr(self, name, DOCUMENTS[name].parse(getattr(self, name)))
        top_k = self.top_k_docs
        if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k == 0 or top_k < -1:
            raise InvalidOptionError(f"top_k_docs must be a positive integer or -1, not {top_k!r}")
        if isinstance(self.collection, str):
            from h2ogpt_jupyter.documents import check_name

            name = self.collection.strip()
            self.collection = name if name in NO_DOCS else check_name(name)

    @property
    def name(self) -> str | None:
        """The collection's name, or the no-document mode."""
        col = self.collection
        return col if col is None or isinstance(col, str) else col.name

    @property
    def active(self) -> bool:
        return self.name is not None and self.name not in NO_DOCS

    @property
    def one_turn(self) -> bool:
        """h2oGPT's ``LLM`` mode forgets the conversation; every other mode keeps it."""
        return self.name == "LLM"

    @property
    def sources_only(self) -> bool:
        return self.active and self.document_subset in SOURCES_ONLY

    def open(self) -> Collection:
        from h2ogpt_jupyter.documents import Collection, get_collection

        col = self.collection
        if isinstance(col, Collection):
            return col
        assert isinstance(col, str)
        return get_collection(col, create=False)

    def retrieve(self, question: str) -> list[Hit]:
        """The chunks this query mode wants for ``question``, best first."""
        if not self.active:
            return []
        col = self.open()
        sources = self.document_choice or None
        if self.document_subset == "TopKSources":
            per_source = 1000 if self.top_k_docs == -1 else self.top_k_docs
            return col.first_chunks(per_source, sources=sources)
        k = FILL_CANDIDATES if self.top_k_docs == -1 else self.top_k_docs
        return col.query(question, k=k, cut_distance=self.cut_distance, sources=sources)

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["collection"] = self.name
        return data


def fit(
    model: LoadedModel,
    turn: TurnInput,
    hits: Sequence[Hit],
    max_new_tokens: int,
    max_input_tokens: int = -1,
    ordering: str = "best_near_prompt",
) -> tuple[BuiltPrompt, list[Hit]]:
    """The prompt for ``turn`` with as many of ``hits`` (best first) as fit, and those hits.

    Documents get the room the rest of the prompt leaves, but never less than half the input
    budget; then history is trimmed around them. If the estimate still overflows (token
    counts are not additive at the joins), the weakest chunk goes and the fit is retried.
    """
    count = model.backend.count_tokens
    limit = turns.input_limit(model, max_new_tokens, max_input_tokens)
    probe = dataclasses.replace(turn, text_context_list=[*turn.text_context_list, ""])
    with_history = turns.prompt_tokens(model, probe)
    bare = turns.prompt_tokens(model, dataclasses.replace(probe, history=[]))
    budget = max(limit - with_history, int(DOC_IMPORTANCE * (limit - bare)))
    texts: list[str] = []
    used: list[Hit] = []
    total = 0
    for hit in hits:
        size = count(hit.text + DOCS_JOINER)
        if total + size > budget:
            if not used and budget > 0:  # h2oGPT's one_doc_size: cut the best chunk to fit
                texts.append(_truncate(hit.text, budget, count))
                used.append(hit)
            break
        texts.append(hit.text)
        used.append(hit)
        total += size
    while True:
        ordered = texts[::-1] if ordering == "best_near_prompt" else texts
        fitted = dataclasses.replace(turn, text_context_list=[*turn.text_context_list, *ordered])
        try:
            return turns.build(model, fitted, max_new_tokens, max_input_tokens), used
        except PromptTooLongError:
            if not texts:
                raise
            texts.pop()
            used.pop()


def _truncate(text: str, budget: int, count: Any) -> str:
    """The longest start of ``text`` that takes at most ``budget`` tokens."""
    lo, hi = 0, len(text)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if count(text[:mid]) <= budget:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo]


def sources_text(hits: Sequence[Hit]) -> str:
    """The retrieved chunks themselves as the answer (``RelSources``/``TopKSources``)."""
    if not hits:
        return "No matching documents."
    from h2ogpt_jupyter.models.citations import source_line

    blocks = []
    for i, hit in enumerate(hits, 1):
        quoted = hit.text.strip().replace("\n", "\n> ")
        blocks.append(f"**{i}. {source_line(hit)}**\n\n> {quoted}")
    return "\n\n".join(blocks)
