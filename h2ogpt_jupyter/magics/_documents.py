"""The document subcommands of ``%h2ogpt``: ingest, collections, sources, delete, summarize,
extract, and the document options that ``ask`` and ``chat`` accept.

Option names follow h2oGPT, with short forms for the common ones: ``--collection`` (h2oGPT's
``--langchain-mode``), ``--subset`` (``--document-subset``), ``--docs`` (``--document-choice``,
comma-separated or a ``{list}``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from h2ogpt_jupyter.errors import H2OGPTError, InvalidOptionError
from h2ogpt_jupyter.options import INGEST

from ._args import Parsed, checked
from ._display import embedder_ready, show_markdown

if TYPE_CHECKING:
    from ._commands import Commands

DEFAULT_COLLECTION = "MyData"
# magic option -> Chat keyword
DOC_ALIASES = {
    "collection": "collection",
    "langchain_mode": "collection",
    "subset": "document_subset",
    "document_subset": "document_subset",
    "docs": "document_choice",
    "document_choice": "document_choice",
    "top_k_docs": "top_k_docs",
    "cut_distance": "cut_distance",
    "docs_ordering_type": "docs_ordering_type",
    "pre_prompt_query": "pre_prompt_query",
    "prompt_query": "prompt_query",
}
SUMMARY_TEXTS = ("pre_prompt_summary", "prompt_summary", "system_prompt")

HELP = """
| `ingest PATH… [--collection NAME] [--chunk-size 512] [--chunk-overlap 0]` | add files, folders, globs, URLs, `arxiv:ID` (`%%h2ogpt ingest --name NOTE`: the cell's text) |
| `collections` · `sources [--collection NAME]` | list collections; list a collection's documents |
| `delete SOURCE… [--collection NAME]` · `delete --collection NAME --all` | remove documents; remove a whole collection |
| `ask --collection NAME [--subset Relevant\\|RelSources\\|TopKSources] [--docs a.pdf,b.md] QUESTION` | answer from documents, with sources |
| `summarize [--collection NAME] [--docs …] [FOCUS]` · `extract [--collection NAME] [--docs …] WHAT` | summarize (map-reduce) or extract per part |
"""

HELP_OPTIONS = """
Document options for `ask`/`chat`: `--collection NAME` (`LLM`/`ChatLLM`: none), `--subset`,
`--docs`, `--top-k-docs N` (-1 fills the context), `--cut-distance X`,
`--max-input-tokens N`, `--pre-prompt-query TEXT`, `--prompt-query TEXT`.
"""


def doc_options(options: dict[str, Any]) -> dict[str, Any]:
    """The document options of a turn, under the names :class:`~..chat.Chat` takes."""
    out: dict[str, Any] = {}
    for key, value in options.items():
        if key not in DOC_ALIASES:
            continue
        name = DOC_ALIASES[key]
        if name == "document_choice":
            value = choice(value)
        elif name in ("collection", "document_subset", "docs_ordering_type"):
            value = None if value is None else str(value)
        elif name in ("pre_prompt_query", "prompt_query"):
            value = None if value is None else str(value)
        out[name] = value
    return out


def choice(value: Any) -> list[str]:
    """``--docs a.pdf,b.md`` or ``--docs {names}`` as a list of source names."""
    if value is None or value is True:
        raise InvalidOptionError("--docs needs document names, e.g. --docs report.pdf,notes.md")
    if isinstance(value, (list, tuple, set)):
        names = [str(v) for v in value]
    else:
        names = [part.strip() for part in str(value).split(",") if part.strip()]
    if not names:
        raise InvalidOptionError("--docs needs document names, e.g. --docs report.pdf,notes.md")
    return names


def _collection_name(p: Parsed) -> str:
    value = p.options.get("collection", p.options.get("langchain_mode", DEFAULT_COLLECTION))
    if value is None or value is True:
        raise InvalidOptionError("--collection needs a name, e.g. --collection UserData")
    return str(value)


def _check(p: Parsed, allowed: set[str]) -> None:
    unknown = set(p.options) - allowed
    if unknown:
        raise InvalidOptionError(f"unknown option --{sorted(unknown)[0].replace('_', '-')}")


def ingest(cmds: Commands, p: Parsed, cell: str | None) -> None:
    from h2ogpt_jupyter.documents import Text, get_collection

    _check(p, {"collection", "langchain_mode", "chunk_size", "chunk_overlap", "name", "out"})
    inputs: list[Any] = list(p.words)
    if cell is not None and cell.strip():
        name = p.options.get("name")
        inputs.append(Text(cell, name=str(name) if name else ""))
    if not inputs:
        raise H2OGPTError("what to ingest? e.g. %h2ogpt ingest reports/ notes.md")
    sizes = checked(INGEST, {k: p.options[k] for k in INGEST if k in p.options})
    collection = get_collection(_collection_name(p))
    embedder_ready(cmds.shell, collection)
    report = collection.add(inputs, **sizes)
    display_markdown(report._repr_markdown_(), str(report))
    _publish(cmds, p, report)


def collections(cmds: Commands, p: Parsed, cell: str | None) -> None:
    from h2ogpt_jupyter.documents import list_collections

    _check(p, set())
    rows = list_collections()
    if not rows:
        print("No collections yet; add documents with %h2ogpt ingest PATH")
        return
    lines = [
        "| collection | scope | documents | chunks | embedding model | path |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['name']} | {r['scope']} | {r['documents']} | {r['chunks']} "
            f"| {r['embedding_model']} | `{r['path']}` |"
        )
    show_markdown("\n".join(lines))


def sources(cmds: Commands, p: Parsed, cell: str | None) -> None:
    from h2ogpt_jupyter.documents import get_collection

    _check(p, {"collection", "langchain_mode", "out"})
    collection = get_collection(_collection_name(p), create=False)
    rows = collection.sources()
    _publish(cmds, p, rows)
    if not rows:
        print(f"Collection '{collection.name}' is empty.")
        return
    lines = ["| source | chunks | pages | type | added |", "|---|---|---|---|---|"]
    for r in rows:
        lines.append(
            f"| `{r['source']}` | {r['chunks']} | {r['pages'] or '-'} | {r['parser']} "
            f"| {str(r['date'])[:19]} |"
        )
    show_markdown(f"**{collection.name}**: {len(rows)} documents\n\n" + "\n".join(lines))


def delete(cmds: Commands, p: Parsed, cell: str | None) -> None:
    from h2ogpt_jupyter.documents import delete_collection, get_collection

    _check(p, {"collection", "langchain_mode", "all"})
    name = _collection_name(p)
    if p.options.get("all"):
        if p.words:
            raise InvalidOptionError("--all deletes the whole collection: give no sources with it")
        if "collection" not in p.options and "langchain_mode" not in p.options:
            raise InvalidOptionError("name the collection to delete: --collection NAME --all")
        delete_collection(name)
        print(f"Deleted collection '{name}'.")
        return
    if not p.words:
        raise H2OGPTError(
            "which documents? e.g. %h2ogpt delete report.pdf --collection MyData "
            "(or --collection NAME --all for the whole collection)"
        )
    removed = get_collection(name, create=False).delete(p.words)
    print(f"Removed {len(p.words)} source(s), {removed} chunks, from '{name}'.")


def summarize(cmds: Commands, p: Parsed, cell: str | None) -> None:
    _summary_action(cmds, p, extract=False)


def extract(cmds: Commands, p: Parsed, cell: str | None) -> None:
    if not p.text.strip():
        raise H2OGPTError("what to extract? e.g. %h2ogpt extract every date and its event")
    _summary_action(cmds, p, extract=True)


def _summary_action(cmds: Commands, p: Parsed, *, extract: bool) -> None:
    from h2ogpt_jupyter.chat import summaries as actions
    from h2ogpt_jupyter.models.params import GenerationParams

    general = {"collection", "langchain_mode", "docs", "document_choice", "model", "out"}
    display_keys = {"format", "no_stream"}
    gen = {
        k: v for k, v in p.options.items() if k not in general | display_keys | set(SUMMARY_TEXTS)
    }
    GenerationParams.from_options(cmds.params, **gen)  # refuse bad values before any work
    texts = {k: str(p.options[k]) for k in SUMMARY_TEXTS if p.options.get(k) is not None}
    docs = p.options.get("docs", p.options.get("document_choice"))
    model = p.options.get("model")
    cmds._ensure_model(None if model is None else str(model))
    fmt = str(p.options.get("format") or "markdown")
    if fmt not in ("markdown", "text"):
        raise InvalidOptionError(f"--format must be markdown or text, not {fmt!r}")
    shown = cmds._display(p, fmt)
    options = {**cmds.params.as_dict(), **gen, **texts}
    common: dict[str, Any] = {
        "sources": None if docs is None else choice(docs),
        "model": None if model is None else str(model),
        "on_text": shown,
        "on_progress": _progress(),
    }
    name = _collection_name(p)
    if extract:
        response = actions.extract(p.text.strip(), name, **common, **options)
    else:
        response = actions.summarize(name, focus=p.text.strip(), **common, **options)
    shown.finish(response, cmds.shell)
    cmds._publish(response, _out(p))


def _progress() -> Callable[[str], None]:
    def report(message: str) -> None:
        print(f"… {message}", flush=True)

    return report


def _out(p: Parsed) -> str | None:
    out = p.options.get("out")
    return None if out is None else str(out)


def _publish(cmds: Commands, p: Parsed, value: Any) -> None:
    out = _out(p)
    if out:
        if not out.isidentifier():
            raise InvalidOptionError(f"-o needs a variable name, not {out!r}")
        cmds.shell.user_ns[out] = value


def display_markdown(markdown: str, plain: str) -> None:
    from IPython.display import display

    display({"text/markdown": markdown, "text/plain": plain}, raw=True)


COMMANDS: dict[str, Callable[[Commands, Parsed, str | None], None]] = {
    "ingest": ingest,
    "collections": collections,
    "sources": sources,
    "delete": delete,
    "summarize": summarize,
    "extract": extract,
}
