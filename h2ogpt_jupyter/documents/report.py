"""What an ingest did, file by file.

A batch never stops at a bad file: each input ends up here as added, replaced, unchanged,
skipped (a folder walk met a type we do not read) or error, with the reason, so the user sees
at a glance what went in and what to fix. Printed as a plain table, shown as Markdown in a
notebook.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

STATUSES = ("added", "replaced", "unchanged", "skipped", "error")


@dataclass
class FileResult:
    """One input's outcome. ``message`` holds the error or the warnings (e.g. not UTF-8)."""

    source: str
    status: str
    chunks: int = 0
    pages: int = 0
    parser: str = ""
    message: str = ""

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


@dataclass
class IngestReport:
    """Per-file results of one ``Collection.add`` call, plus totals and wall time."""

    collection: str
    files: list[FileResult] = field(default_factory=list)
    seconds: float = 0.0

    def by_status(self, status: str) -> list[FileResult]:
        return [f for f in self.files if f.status == status]

    @property
    def added(self) -> list[FileResult]:
        return self.by_status("added")

    @property
    def replaced(self) -> list[FileResult]:
        return self.by_status("replaced")

    @property
    def unchanged(self) -> list[FileResult]:
        return self.by_status("unchanged")

    @property
    def errors(self) -> list[FileResult]:
        return self.by_status("error")

    @property
    def ok(self) -> bool:
        """True when no input failed (skipped files are not failures)."""
        return not self.errors

    @property
    def chunks(self) -> int:
        """Chunks written by this call (added and replaced files)."""
        return sum(f.chunks for f in self.files if f.status in ("added", "replaced"))

    def status_of(self, source: str) -> FileResult:
        """The result for ``source`` (full path, or a unique file name / suffix of it)."""
        for item in self.files:
            if item.source == source:
                return item
        matches = [f for f in self.files if f.source.endswith(source)]
        if len(matches) == 1:
            return matches[0]
        raise KeyError(f"{source!r} is not {'unique ' if matches else ''}in this report")

    def summary(self) -> str:
        counts = [f"{len(self.by_status(s))} {s}" for s in STATUSES if self.by_status(s)]
        rate = ""
        if self.seconds and self.chunks:
            rate = f", {self.chunks / self.seconds:.0f} chunks/s"
        return (
            f"{self.collection}: {', '.join(counts) or 'nothing to do'}; {self.chunks} chunks "
            f"in {self.seconds:.1f}s{rate}"
        )

    def __str__(self) -> str:
        lines = [self.summary()]
        for f in self.files:
            detail = f" — {f.message}" if f.message else ""
            size = f" ({f.chunks} chunks, {f.pages} pages)" if f.chunks else ""
            lines.append(f"  {f.status:<9} {f.source}{size}{detail}")
        return "\n".join(lines)

    def _repr_markdown_(self) -> str:
        rows = [
            f"**{_cell(self.summary())}**",
            "",
            "| status | source | chunks | pages | parser | note |",
            "|---|---|---:|---:|---|---|",
        ]
        for f in self.files:
            rows.append(
                f"| {f.status} | `{_cell(f.source)}` | {f.chunks} | {f.pages} | {f.parser} "
                f"| {_cell(f.message)} |"
            )
        return "\n".join(rows)

    def to_dict(self) -> dict[str, Any]:
        return {
            "collection": self.collection,
            "seconds": self.seconds,
            "files": [f.to_dict() for f in self.files],
        }
