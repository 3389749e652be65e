"""Parsing, chunking and input expansion on real files of every supported type.

The files are made by :mod:`.corpus`; nothing here loads Chroma or an embedding model.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from h2ogpt_jupyter.documents import chunking, inputs, parsers
from h2ogpt_jupyter.documents.parsers import ParseError, parse_bytes, parse_file
from h2ogpt_jupyter.errors import InvalidOptionError

from .corpus import make_corpus, make_hostile


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
