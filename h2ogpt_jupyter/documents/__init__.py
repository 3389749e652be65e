"""Private document Q&A: collections of your files, embedded and searched on this machine.

    from h2ogpt_jupyter.documents import get_collection
    docs = get_collection("MyData")
    print(docs.add(["reports/", "notes.md"]))       # an IngestReport, file by file
    for hit in docs.query("What was the Q3 revenue?", k=4):
        print(hit.citation, hit.text[:80])

Importing this package is instant: Chroma, sentence-transformers, torch and the parsers load
when a collection is first opened, embedded into or a file of their type is parsed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._names import MYDATA, USERDATA, check_name
    from .embeddings import Embedder, get_embedder
    from .hits import Hit, Page
    from .inputs import Text
    from .parsers import ParseError, Record, parse_file
    from .report import FileResult, IngestReport
    from .store import Collection, delete_collection, get_collection, list_collections

__all__ = [
    "MYDATA",
    "USERDATA",
    "Collection",
    "Embedder",
    "FileResult",
    "Hit",
    "IngestReport",
    "Page",
    "ParseError",
    "Record",
    "Text",
    "check_name",
    "delete_collection",
    "get_collection",
    "get_embedder",
    "list_collections",
    "parse_file",
]

_LAZY = {
    "MYDATA": "_names",
    "USERDATA": "_names",
    "check_name": "_names",
    "Collection": "store",
    "Hit": "hits",
    "Page": "hits",
    "delete_collection": "store",
    "get_collection": "store",
    "list_collections": "store",
    "Embedder": "embeddings",
    "get_embedder": "embeddings",
    "Text": "inputs",
    "ParseError": "parsers",
    "Record": "parsers",
    "parse_file": "parsers",
    "FileResult": "report",
    "IngestReport": "report",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
