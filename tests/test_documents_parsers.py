"""Parsing, chunking and input expansion on real files of every supported type.

The files are generated here: a two-page PDF written by hand (so no PDF library is needed to
make one), Word, PowerPoint and Excel files from their own libraries, and the text formats.
``make_corpus`` and ``make_hostile`` are reused by the collection tests. Nothing here loads
Chroma or an embedding model.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from h2ogpt_jupyter.documents import chunking, inputs, parsers
from h2ogpt_jupyter.documents.parsers import ParseError, parse_bytes, parse_file
from h2ogpt_jupyter.errors import InvalidOptionError

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


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make_corpus(tmp_path_factory.mktemp("corpus"))


def texts_of(path: Path) -> str:
    return "\n".join(r.text for r in parse_file(path).records)


def test_pdf_keeps_one_record_per_page(corpus: dict[str, Path]) -> None:
    parsed = parse_file(corpus["doc.pdf"])
    assert parsed.parser == "pypdf"
    assert [r.metadata["page"] for r in parsed.records] == [1, 2]
    assert "aurora borealis" in parsed.records[0].text
    assert "glaciers" in parsed.records[1].text
    assert parsed.records[0].metadata["source"] == str(corpus["doc.pdf"].resolve())


def test_office_formats(corpus: dict[str, Path]) -> None:
    word = parse_file(corpus["report.docx"])
    assert word.records[0].text.startswith("# Quarterly report")
    assert "kelp farm" in word.records[0].text and "Q3 | 4.2M" in word.records[0].text
    slides = parse_file(corpus["deck.pptx"])
    assert [r.metadata["page"] for r in slides.records] == [1, 2]
    assert "Magma" in slides.records[0].text and "spring tides" in slides.records[1].text
    sheets = parse_file(corpus["birds.xlsx"])
    assert [(r.metadata["page"], r.metadata["sheet"]) for r in sheets.records] == [
        (1, "Birds"),
        (2, "Fish"),
    ]
    assert "species: albatross\nwingspan_cm: 340" in sheets.records[0].text


def test_text_formats(corpus: dict[str, Path]) -> None:
    assert "waggle dance" in texts_of(corpus["notes.txt"])
    assert parse_file(corpus["guide.md"]).language == "markdown"
    assert "Collimate" in texts_of(corpus["manual.rst"])
    html = parse_file(corpus["page.html"])
    assert "Saguaro" in html.records[0].text and "ignored script" not in html.records[0].text
    assert html.records[0].metadata["title"] == "Cacti"
    assert "city: Paris\nriver: Seine" in texts_of(corpus["table.csv"])
    assert '"comet": "Halley"' in texts_of(corpus["data.json"])
    assert '{"planet": "Venus"}' in texts_of(corpus["lines.jsonl"])
    code = parse_file(corpus["code.py"])
    assert (code.parser, code.language) == ("code", "python")


def test_notebook_has_markdown_code_and_text_outputs(corpus: dict[str, Path]) -> None:
    text = texts_of(corpus["notebook.ipynb"])
    assert "# Penguin census" in text
    assert "```python\nprint(sum([3, 4]))\n```" in text
    assert "Output:\n7" in text and "emperor penguins" in text and "AAAA" not in text


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("empty.txt", "empty file"),
        ("blank.md", "empty file"),
        ("binary.txt", "binary"),
        ("truncated.pdf", "truncated"),
        ("scanned.pdf", "no text layer"),
        ("broken.json", "invalid JSON at line 1"),
        ("fake.docx", "corrupt or not a .docx"),
    ],
)
def test_hostile_files_fail_with_a_reason(tmp_path: Path, name: str, message: str) -> None:
    path = make_hostile(tmp_path)[name]
    with pytest.raises(ParseError, match=message):
        parse_file(path)


def test_too_large_is_refused_before_reading(tmp_path: Path) -> None:
    path = make_hostile(tmp_path)["huge.txt"]
    with pytest.raises(ParseError, match=r"too large: 0.0 MB > limit 0.01 MB"):
        parse_file(path, max_file_mb=0.01)
    assert parse_file(path).records


def test_latin1_is_decoded_with_a_warning(tmp_path: Path) -> None:
    parsed = parse_file(make_hostile(tmp_path)["latin1.txt"])
    assert parsed.records[0].text == "Crème brûlée au café, naïve façade."
    assert parsed.warnings == ["not UTF-8 (bad byte at offset 2): decoded as cp1252"]


def test_non_latin_legacy_encoding_is_detected() -> None:
    text = "Это проверка кодировки текста для загрузки документов в коллекцию. " * 3
    parsed = parse_bytes(text.encode("cp1251"), "ru.txt")
    assert parsed.records[0].text == text
    assert "decoded as cp1251" in parsed.warnings[0]


def test_unknown_suffix_is_sniffed() -> None:
    parsed = parse_bytes(b"plain words", "notes.weird")
    assert parsed.records[0].text == "plain words"
    assert parsed.warnings == ["unknown type .weird: read as text"]
    with pytest.raises(ParseError, match=r"unsupported file type \.weird: binary"):
        parse_bytes(b"\x00\x01\x02", "blob.weird")
    with pytest.raises(ParseError, match="images are not supported"):
        parse_bytes(b"\x89PNG", "photo.png")


def test_bad_jsonl_lines_are_skipped_with_a_warning() -> None:
    parsed = parse_bytes(b'{"a": 1}\nnot json\n{"b": 2}\n', "x.jsonl")
    assert parsed.records[0].text == '{"a": 1}\n\n{"b": 2}'
    assert parsed.warnings == ["skipped 1 invalid line(s): 2"]


def test_chunks_keep_their_page_and_a_running_index(corpus: dict[str, Path]) -> None:
    records = parse_file(corpus["doc.pdf"]).records
    chunks = chunking.split(records, chunk_size=40, chunk_overlap=0)
    assert [c.index for c in chunks] == list(range(len(chunks)))
    assert {c.page for c in chunks} == {1, 2}
    assert all(len(c.text) <= 40 for c in chunks)
    assert chunks[-1].page == 2


def test_overlap_and_code_splitting() -> None:
    text = " ".join(f"word{i}" for i in range(200))
    record = parsers.Record(text, {"page": 0})
    plain = chunking.split([record], chunk_size=100, chunk_overlap=0)
    overlapping = chunking.split([record], chunk_size=100, chunk_overlap=30)
    assert len(overlapping) > len(plain)
    assert plain[1].text.split()[0] not in plain[0].text.split()
    assert overlapping[1].text.split()[0] in overlapping[0].text.split()
    code = "\n\n".join(f"def f{i}(x):\n    return x + {i}\n" for i in range(20))
    pieces = chunking.split([parsers.Record(code, {"page": 0})], chunk_size=64, language="python")
    assert all(p.text.startswith("def f") for p in pieces)


@pytest.mark.parametrize(("size", "overlap"), [(10, 0), (512, 512), (512, -1), (1.5, 0)])
def test_bad_chunk_sizes_are_refused(size: int, overlap: int) -> None:
    with pytest.raises(InvalidOptionError):
        chunking.check_sizes(size, overlap)


def test_expand_resolves_paths_walks_folders_and_globs(tmp_path: Path) -> None:
    (tmp_path / "a" / "sub").mkdir(parents=True)
    (tmp_path / "b").mkdir()
    for rel in ["a/notes.md", "a/sub/deep.txt", "b/notes.md", "a/image.png", "a/.hidden.txt"]:
        (tmp_path / rel).write_text("x")
    (tmp_path / "a" / ".git").mkdir()
    (tmp_path / "a" / ".git" / "config.txt").write_text("x")
    dotted = tmp_path / "a" / "sub" / ".." / "notes.md"
    items = inputs.expand([tmp_path / "a", str(dotted), f"{tmp_path}/b/*.md"])
    found = {(Path(i.source).relative_to(tmp_path).as_posix(), i.kind) for i in items}
    assert found == {
        ("a/notes.md", "file"),
        ("a/sub/deep.txt", "file"),
        ("a/image.png", "skipped"),
        ("b/notes.md", "file"),
    }
    assert len(items) == 4  # the ../ spelling of a/notes.md is the same source


def test_expand_tells_text_urls_and_missing_paths_apart(tmp_path: Path) -> None:
    items = inputs.expand(
        [
            "What is 2*3? Nobody knows.",
            "https://example.com/page",
            "missing.pdf",
            inputs.Text("named text", name="memo"),
            str(tmp_path / "nothing" / "*.txt"),
        ]
    )
    assert [i.kind for i in items] == ["text", "url", "error", "text", "error"]
    assert items[3].source == "text:memo"
    assert items[2].message == "no such file or directory"
    assert items[4].message == "no files match this pattern"
