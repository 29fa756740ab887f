"""Plain text out of attachments: PDF, DOCX, PPTX, XLSX, ODF (odt/ods/odp) and plain text.

Parsing a file someone uploaded is risky (huge, broken or hostile files), so
:func:`extract_text` runs the parser in a child process (this file run as a script)
bounded in wall time, CPU time and memory, and caps the characters it keeps. Whatever goes
wrong, the answer is a result with ``status == "failed"``: the attachment is then indexed
by its name only. Never call this from a request: the indexer does it in the background.
"""

import resource
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

MAX_CHARS = 200_000
TIMEOUT_SECONDS = 20.0
MEMORY_LIMIT_BYTES = 1024 * 1024 * 1024
TEXT_EXTENSIONS = {".txt", ".md", ".markdown", ".csv", ".tsv", ".html", ".htm", ".json", ".xml"}
ODF_EXTENSIONS = {".odt", ".ods", ".odp", ".ott"}


@dataclass(frozen=True)
class Extracted:
    status: str  # "ok" or "failed"
    text: str = ""


def detect_kind(path: Path, filename: str = "", content_type: str = "") -> str | None:
    """pdf, docx, pptx, xlsx, odf, text, or None (a format we do not read)."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(8)
    except OSError:
        return None
    suffix = Path(filename or path.name).suffix.lower()
    if head.startswith(b"%PDF"):
        return "pdf"
    if head.startswith(b"PK"):
        try:
            with zipfile.ZipFile(path) as archive:
                names = set(archive.namelist())
                if "word/document.xml" in names:
                    return "docx"
                if "ppt/presentation.xml" in names:
                    return "pptx"
                if "xl/workbook.xml" in names:
                    return "xlsx"
                if "mimetype" in names and "content.xml" in names:
                    return "odf"
        except (zipfile.BadZipFile, OSError):
            return None
        return None
    if suffix in TEXT_EXTENSIONS or content_type.startswith("text/"):
        return "text"
    return None


def extract_text(
    path: Path,
    filename: str = "",
    content_type: str = "",
    *,
    max_chars: int = MAX_CHARS,
    timeout: float = TIMEOUT_SECONDS,
) -> Extracted:
    """The text of the file at ``path`` (bounded), parsed in a child process."""
    kind = detect_kind(path, filename, content_type)
    if kind is None:
        return Extracted("failed")
    try:
        completed = subprocess.run(
            # -I: isolated, so the child imports neither ``kb`` nor this directory's modules.
            [sys.executable, "-I", __file__, kind, str(path), str(max_chars)],
            capture_output=True,
            timeout=timeout,
        )
    except (subprocess.TimeoutExpired, OSError):
        return Extracted("failed")
    if completed.returncode != 0:
        return Extracted("failed")
    text = completed.stdout.decode("utf-8", errors="replace")[:max_chars]
    return Extracted("ok", text)


# --- parsers, run inside the child process ------------------------------------------------


class _Collector:
    """Accumulates text pieces until ``limit`` characters, then stops the parser."""

    class Full(Exception):
        pass

    def __init__(self, limit: int):
        self.limit = limit
        self.size = 0
        self.parts: list[str] = []

    def add(self, text) -> None:
        if text is None:
            return
        text = str(text).strip()
        if not text:
            return
        self.parts.append(text)
        self.size += len(text) + 1
        if self.size >= self.limit:
            raise self.Full

    def text(self) -> str:
        return "\n".join(self.parts)[: self.limit]


def _pdf(path: str, out: _Collector) -> None:
    from pypdf import PdfReader

    for page in PdfReader(path).pages:
        out.add(page.extract_text())


def _docx(path: str, out: _Collector) -> None:
    import docx

    document = docx.Document(path)
    for paragraph in document.paragraphs:
        out.add(paragraph.text)
    for table in document.tables:
        for row in table.rows:
            out.add(" ".join(cell.text for cell in row.cells))


def _pptx(path: str, out: _Collector) -> None:
    from pptx import Presentation

    for slide in Presentation(path).slides:
        for shape in slide.shapes:
            if getattr(shape, "has_text_frame", False) and shape.has_text_frame:
                out.add(shape.text_frame.text)
            if getattr(shape, "has_table", False) and shape.has_table:
                for row in shape.table.rows:
                    out.add(" ".join(cell.text for cell in row.cells))
        if slide.has_notes_slide:
            out.add(slide.notes_slide.notes_text_frame.text)


def _xlsx(path: str, out: _Collector) -> None:
    import openpyxl

    workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        for sheet in workbook.worksheets:
            out.add(sheet.title)
            for row in sheet.iter_rows(values_only=True):
                out.add(" ".join(str(v) for v in row if v is not None))
    finally:
        workbook.close()


def _odf(path: str, out: _Collector) -> None:
    from odf import teletype, text
    from odf.opendocument import load

    document = load(path)
    for element in document.getElementsByType(text.H) + document.getElementsByType(text.P):
        out.add(teletype.extractText(element))


def _text(path: str, out: _Collector) -> None:
    with open(path, "rb") as handle:
        raw = handle.read(out.limit * 4)
    for encoding in ("utf-8", "cp1251"):
        try:
            out.add(raw.decode(encoding))
            return
        except UnicodeDecodeError:
            continue
    out.add(raw.decode("utf-8", errors="replace"))


PARSERS = {"pdf": _pdf, "docx": _docx, "pptx": _pptx, "xlsx": _xlsx, "odf": _odf, "text": _text}


def _limit_resources() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT_BYTES, MEMORY_LIMIT_BYTES))
    cpu = int(TIMEOUT_SECONDS) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))


def main(argv: list[str]) -> int:
    kind, path, limit = argv[0], argv[1], int(argv[2])
    _limit_resources()
    out = _Collector(limit)
    try:
        PARSERS[kind](path, out)
    except _Collector.Full:
        pass
    sys.stdout.buffer.write(out.text().encode("utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
