"""Real files of every supported type, made here: a two-page PDF written by hand (so no PDF
library is needed to make one), Word, PowerPoint and Excel files from their own libraries, the
text formats, and hostile files that must each fail alone."""

from __future__ import annotations

import io
import json
from pathlib import Path

PDF_PAGES = [
    "The aurora borealis glows green over Tromso.\nSolar wind meets the magnetosphere.",
    "Page two: glaciers carve fjords in western Norway.",
]


def make_pdf(pages: list[str]) -> bytes:
    """A minimal valid PDF, one Helvetica text page per string, with a correct xref table."""
    kids = " ".join(f"{4 + 2 * i} 0 R" for i in range(len(pages)))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    for i, text in enumerate(pages):
        ops = ["BT", "/F1 12 Tf", "14 TL", "72 720 Td"]
        for line in text.split("\n"):
            escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
            ops.append(f"({escaped}) Tj T*")
        ops.append("ET")
        stream = "\n".join(ops).encode("latin-1")
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources "
            f"<< /Font << /F1 3 0 R >> >> /Contents {5 + 2 * i} 0 R >>".encode()
        )
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n%s\nendobj\n" % (number, body))
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(
        b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    )
    return out.getvalue()


def make_docx(path: Path) -> None:
    import docx

    document = docx.Document()
    document.add_heading("Quarterly report", level=1)
    document.add_paragraph("Revenue of the kelp farm rose to 4.2 million crowns.")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "quarter", "revenue"
    table.cell(1, 0).text, table.cell(1, 1).text = "Q3", "4.2M"
    document.save(str(path))


def make_pptx(path: Path) -> None:
    from pptx import Presentation

    deck = Presentation()
    for title, body in [("Volcanoes", "Magma chambers feed eruptions."), ("Tides", "The moon")]:
        slide = deck.slides.add_slide(deck.slide_layouts[1])
        slide.shapes.title.text = title
        slide.placeholders[1].text = body
    deck.slides[1].notes_slide.notes_text_frame.text = "Speaker note about spring tides."
    deck.save(str(path))


def make_xlsx(path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "Birds"
    sheet.append(["species", "wingspan_cm"])
    sheet.append(["albatross", 340])
    other = book.create_sheet("Fish")
    other.append(["species", "depth_m"])
    other.append(["anglerfish", 2000])
    book.save(path)


NOTEBOOK = {
    "cells": [
        {"cell_type": "markdown", "metadata": {}, "source": ["# Penguin census\n", "Counting."]},
        {
            "cell_type": "code",
            "metadata": {},
            "execution_count": 1,
            "source": "print(sum([3, 4]))",
            "outputs": [
                {"output_type": "stream", "name": "stdout", "text": ["7\n"]},
                {
                    "output_type": "execute_result",
                    "execution_count": 1,
                    "metadata": {},
                    "data": {"text/plain": "'emperor penguins'", "image/png": "AAAA"},
                },
            ],
        },
    ],
    "metadata": {"kernelspec": {"name": "python3", "language": "python"}},
    "nbformat": 4,
    "nbformat_minor": 5,
}

TEXTS = {
    "notes.txt": "Bees communicate by dancing; the waggle dance points to nectar.\n",
    "guide.md": "# Sourdough\n\nFeed the starter with rye flour every twelve hours.\n",
    "manual.rst": "Telescope\n=========\n\nCollimate the mirrors before observing Saturn.\n",
    "page.html": (
        "<html><head><title>Cacti</title><style>p{color:red}</style></head><body>"
        "<script>var x = 'ignored script';</script><p>Saguaro cacti store water.</p>"
        "</body></html>"
    ),
    "table.csv": "city,river\nCairo,Nile\nParis,Seine\n",
    "data.json": '{"comet": "Halley", "period_years": 76}',
    "lines.jsonl": '{"planet": "Mars"}\n{"planet": "Venus"}\n',
    "code.py": "def volcano_height(name):\n    '''Height in metres.'''\n    return 1\n",
}


def make_corpus(folder: Path) -> dict[str, Path]:
    """One file of every supported type in ``folder``; returns name -> path."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    for name, text in TEXTS.items():
        files[name] = folder / name
        files[name].write_text(text, encoding="utf-8")
    files["doc.pdf"] = folder / "doc.pdf"
    files["doc.pdf"].write_bytes(make_pdf(PDF_PAGES))
    files["notebook.ipynb"] = folder / "notebook.ipynb"
    files["notebook.ipynb"].write_text(json.dumps(NOTEBOOK), encoding="utf-8")
    for name, maker in [("report.docx", make_docx), ("deck.pptx", make_pptx)]:
        files[name] = folder / name
        maker(files[name])
    files["birds.xlsx"] = folder / "birds.xlsx"
    make_xlsx(files["birds.xlsx"])
    return files


def make_hostile(folder: Path) -> dict[str, Path]:
    """Files that must each fail (or warn) alone: empty, binary, truncated PDF, latin-1,
    a PDF with no text, bad JSON, and a file larger than a 0.01 MB limit."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "empty.txt": b"",
        "blank.md": b"   \n\n  ",
        "binary.txt": bytes(range(256)) * 4,
        "truncated.pdf": make_pdf(PDF_PAGES)[:300],
        "latin1.txt": "Crème brûlée au café, naïve façade.".encode("latin-1"),
        "scanned.pdf": make_pdf([""]),
        "broken.json": b'{"a": 1,,}',
        "huge.txt": b"word " * 4000,
        "fake.docx": b"this is not a zip file at all",
    }
    paths = {}
    for name, data in files.items():
        paths[name] = folder / name
        paths[name].write_bytes(data)
    return paths
