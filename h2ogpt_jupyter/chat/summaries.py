"""Summarize and extract over whole documents, as h2oGPT's Summarize and Extract actions do.

Both work on the whole parsed pages a collection keeps (not on retrieved chunks), in document
order. Pages are packed into parts that each fit the model's input budget (a page too large
for one part is split on paragraph and sentence boundaries by real token counts).

- **Summarize** is map-reduce: each part is summarized, then the summaries are packed and
  summarized again until one remains; a document that fits in one part takes one call. The
  last call streams. Several documents are summarized one by one, each under its name: one
  call over three short notes let SmolLM2 write about one of them and drop the others.
- **Extract** asks the same question of every part and returns one answer per part, each
  streamed as it comes.

The instruction is h2oGPT's summary template (``pre_prompt_summary`` / ``prompt_summary``),
with "Focusing on …" added when a focus or question is given.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from h2ogpt_jupyter import prompts
from h2ogpt_jupyter.config import settings
from h2ogpt_jupyter.errors import H2OGPTError, InvalidOptionError
from h2ogpt_jupyter.models.manager import ModelManager, get_manager
from h2ogpt_jupyter.models.params import GenerationParams
from h2ogpt_jupyter.models.response import Response, Usage
from h2ogpt_jupyter.prompts import DOCS_JOINER

from . import turns
from .chat import Chat
from .turns import TurnInput

if TYPE_CHECKING:
    from h2ogpt_jupyter.documents import Collection, Page
    from h2ogpt_jupyter.models.manager import LoadedModel

Progress = Callable[[str], None]
NO_DOCUMENTS = "No documents to summarize."
NO_DOCUMENTS_EXTRACT = "No documents to extract from."


def summarize(
    collection: str | Collection = "MyData",
    *,
    sources: str | Sequence[str] | None = None,
    focus: str = "",
    model: str | None = None,
    on_text: Callable[[str], None] | None = None,
    on_progress: Progress | None = None,
    manager: ModelManager | None = None,
    **options: Any,
) -> Response:
    """A summary of the collection, or of ``sources`` in it; ``focus`` steers it.

    Several documents get a summary each, under its name, after a line saying how many.
    ``options``: generation parameters, ``system_prompt``, ``pre_prompt_summary``,
    ``prompt_summary``. The response's ``parts`` are the intermediate summaries of one
    document, or the summary of each of several; its ``sources`` are the pages read.
    """
    job = _Job(collection, sources, focus, model, manager, options, on_progress)
    if not job.pages:
        return Response(NO_DOCUMENTS, model=job.model.alias)
    documents = job.documents()
    if len(documents) == 1:
        final = _summary(job, [p.text for p in job.pages], on_text, "")
        return job.result(final, [])
    # Several documents: each is summarized on its own, so every one is covered (one call
    # over all of them let a small model write about one or two and drop the rest).
    head = f"*{len(documents)} documents, each summarized:*"
    if on_text is not None:
        on_text(head)
    sections: list[str] = []
    for i, (name, pages) in enumerate(documents, 1):
        job.progress(f"summarizing {name} ({i}/{len(documents)})")
        title = f"**{name}**"
        if on_text is not None:
            on_text(f"\n\n{title}\n\n")
        final = _summary(job, [p.text for p in pages], on_text, f"{name}: ")
        sections.append(_plain(final.text))
        if final.finish_reason == "cancelled":
            break
    named = (f"**{name}**\n\n{text}" for (name, _), text in zip(documents, sections, strict=False))
    response = job.result(final, sections)
    response.text = head + "\n\n" + "\n\n".join(named)
    response.params["documents"] = len(documents)
    return response


def _summary(
    job: _Job, texts: list[str], on_text: Callable[[str], None] | None, label: str
) -> Response:
    """Map-reduce over ``texts``: summarize each part, then the summaries, until one part
    remains; the last call streams. ``label`` names the document in progress messages."""
    texts = job.parts(texts)
    level = 0
    while len(texts) > 1:
        level += 1
        summaries: list[str] = []
        for i, part in enumerate(texts, 1):
            job.progress(f"{label}summarizing part {i}/{len(texts)}, round {level}")
            response = job.generate(part, None)
            if response.finish_reason == "cancelled":
                return response
            summaries.append(response.text)
        job.intermediate.extend(summaries)
        shorter = job.parts(summaries)
        if len(shorter) >= len(texts):
            raise H2OGPTError(
                "the partial summaries are too long to combine in this model's window; "
                "lower max_new_tokens or load with a larger max_seq_len"
            )
        texts = shorter or [DOCS_JOINER.join(summaries)]  # every summary came back empty
    if level:
        job.progress(f"{label}writing the summary")
    return job.generate(texts[0], on_text)


def _plain(text: str) -> str:
    """A summary as prose: indented by four spaces, markdown would show it as code."""
    return textwrap.dedent(text).strip()


def extract(
    what: str,
    collection: str | Collection = "MyData",
    *,
    sources: str | Sequence[str] | None = None,
    model: str | None = None,
    on_text: Callable[[str], None] | None = None,
    on_progress: Progress | None = None,
    manager: ModelManager | None = None,
    **options: Any,
) -> Response:
    """Ask ``what`` of every part of the documents; one answer per part in ``parts``.

    The response text joins the answers, each under the part's sources."""
    if not isinstance(what, str) or not what.strip():
        raise InvalidOptionError("what to extract? e.g. extract('the dates of every meeting')")
    job = _Job(collection, sources, what.strip(), model, manager, options, on_progress)
    if not job.pages:
        return Response(NO_DOCUMENTS_EXTRACT, model=job.model.alias)
    texts = job.parts([p.text for p in job.pages])
    answers: list[str] = []
    last: Response | None = None
    for i, part in enumerate(texts, 1):
        if len(texts) > 1:
            job.progress(f"extracting from part {i}/{len(texts)}")
        if on_text is not None and len(texts) > 1:
            on_text(("\n\n" if i > 1 else "") + f"**Part {i}**\n\n")
        last = job.generate(part, on_text)
        answers.append(last.text)
        if last.finish_reason == "cancelled":
            break
    assert last is not None
    response = job.result(last, answers)
    if len(answers) > 1:
        response.text = "\n\n".join(f"**Part {i}**\n\n{a}" for i, a in enumerate(answers, 1))
    return response


class _Job:
    """One summarize/extract run: the pages, the model, the budget, the calls so far."""

    def __init__(
        self,
        collection: str | Collection,
        sources: str | Sequence[str] | None,
        focus: str,
        model: str | None,
        manager: ModelManager | None,
        options: dict[str, Any],
        on_progress: Progress | None,
    ) -> None:
        from .retrieval import DocQuery

        options = dict(options)
        configured = settings()
        self.pre = options.pop("pre_prompt_summary", None) or configured.pre_prompt_summary
        self.post = options.pop("prompt_summary", None) or configured.prompt_summary
        self.system_prompt = options.pop("system_prompt", "auto")
        self.params = GenerationParams.from_options(**options)
        self.focus = focus
        self.manager = manager or get_manager()
        self.model: LoadedModel = self.manager.get(model)
        query = DocQuery(collection=collection)
        if not query.active:
            raise InvalidOptionError(f"'{query.name}' has no documents to summarize")
        self.pages: list[Page] = query.open().pages(sources)
        self.on_progress = on_progress
        self.calls: list[Response] = []
        self.intermediate: list[str] = []
        self.budget = self._budget()

    def documents(self) -> list[tuple[str, list[Page]]]:
        """The pages grouped by document, in order, each under the name it is shown by: its
        file name, or its whole source where two share a file name."""
        grouped: dict[str, list[Page]] = {}
        for page in self.pages:
            grouped.setdefault(page.source, []).append(page)
        names = [Path(source).name or source for source in grouped]
        return [
            (name if names.count(name) == 1 else source, pages)
            for name, (source, pages) in zip(names, grouped.items(), strict=True)
        ]

    def progress(self, message: str) -> None:
        if self.on_progress is not None:
            self.on_progress(message)

    def _instruction(self, texts: Sequence[str]) -> str:
        return prompts.summary_instruction(
            texts, focus=self.focus, pre_prompt_summary=self.pre, prompt_summary=self.post
        )

    def _budget(self) -> int:
        """Document tokens one call can take: the input limit less the template around them."""
        limit = turns.input_limit(
            self.model, self.params.max_new_tokens, self.params.max_input_tokens
        )
        bare = TurnInput(self._instruction([""]), system_prompt=self.system_prompt)
        budget = limit - turns.prompt_tokens(self.model, bare)
        if budget < 16:
            raise H2OGPTError(
                f"the summary instructions alone fill this model's {limit}-token input budget; "
                "lower max_new_tokens or load with a larger max_seq_len"
            )
        return budget

    def parts(self, texts: Sequence[str]) -> list[str]:
        """Pack ``texts`` in order into parts of at most ``budget`` tokens; split big ones."""
        count = self.model.backend.count_tokens
        pieces: list[tuple[str, int]] = []
        for text in texts:
            if not text.strip():
                continue
            size = count(text + DOCS_JOINER)
            if size <= self.budget:
                pieces.append((text, size))
            else:
                pieces.extend((p, count(p + DOCS_JOINER)) for p in self._split(text))
        parts: list[list[str]] = []
        used = self.budget + 1
        for text, size in pieces:
            if used + size > self.budget:
                parts.append([])
                used = 0
            parts[-1].append(text)
            used += size
        return [DOCS_JOINER.join(p) for p in parts]

    def _split(self, text: str) -> list[str]:
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        count = self.model.backend.count_tokens
        splitter = RecursiveCharacterTextSplitter(
            chunk_size=max(1, self.budget - count(DOCS_JOINER) - 1),
            chunk_overlap=0,
            length_function=count,
        )
        return splitter.split_text(text)

    def generate(self, text: str, on_text: Callable[[str], None] | None) -> Response:
        chat = Chat(
            self.model.alias,
            system_prompt=self.system_prompt,
            params=self.params,
            manager=self.manager,
        )
        response = chat.send(self._instruction([text]), on_text=on_text)
        self.calls.append(response)
        return response

    def result(self, last: Response, parts: list[str]) -> Response:
        """The last call's response, carrying every call's usage, the parts and pages."""
        last.usage = Usage(
            sum(r.usage.prompt_tokens for r in self.calls),
            sum(r.usage.completion_tokens for r in self.calls),
        )
        last.elapsed = sum(r.elapsed for r in self.calls)
        last.parts = parts or list(self.intermediate)
        seen: dict[tuple[str, int | None], Page] = {}
        for page in self.pages:
            seen.setdefault((page.source, page.page), page)
        last.sources = list(seen.values())
        last.params["calls"] = len(self.calls)
        return last
