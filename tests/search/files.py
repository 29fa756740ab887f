"""Real office files written in the tests (no binary fixtures in the repository)."""

from pathlib import Path

CYRILLIC = "АБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯабвгдеёжзийклмнопрстуфхцчшщъыьэюя"


def write_pdf(path: Path, lines: list[str]) -> Path:
    """A one-page PDF with real (Cyrillic) text: Helvetica re-encoded with Adobe glyph names."""
    glyphs = [f"/afii{10017 + i}" for i in range(33)] + [f"/afii{10065 + i}" for i in range(33)]
    codes = {ch: 0x80 + i for i, ch in enumerate(CYRILLIC)}

    def encode(line: str) -> bytes:
        out = bytearray()
        for ch in line:
            if ch in codes:
                out.append(codes[ch])
            elif ch in "()\\":
                out += b"\\" + ch.encode()
            else:
                out += ch.encode("latin-1")
        return bytes(out)

    shown = b" ".join(b"(" + encode(line) + b") '" for line in lines)
    content = b"BT /F1 14 Tf 72 720 Td 18 TL " + shown + b" ET"
    font = (
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding << /Type /Encoding "
        b"/BaseEncoding /WinAnsiEncoding /Differences [128 "
        + " ".join(glyphs).encode()
        + b"] >> >>"
    )
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        font,
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    path.write_bytes(bytes(out))
    return path


def write_docx(path: Path, paragraphs: list[str], table: list[list[str]] | None = None) -> Path:
    import docx

    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                grid.cell(r, c).text = value
    document.save(path)
    return path


def write_pptx(path: Path, title: str, body: str, notes: str = "") -> Path:
    from pptx import Presentation

    presentation = Presentation()
    slide = presentation.slides.add_slide(presentation.slide_layouts[1])
    slide.shapes.title.text = title
    slide.placeholders[1].text = body
    if notes:
        slide.notes_slide.notes_text_frame.text = notes
    presentation.save(path)
    return path


def write_xlsx(path: Path, rows: list[list]) -> Path:
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "План"
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


def write_odt(path: Path, heading: str, paragraphs: list[str]) -> Path:
    from odf.opendocument import OpenDocumentText
    from odf.text import H, P

    document = OpenDocumentText()
    document.text.addElement(H(outlinelevel=1, text=heading))
    for text in paragraphs:
        document.text.addElement(P(text=text))
    document.save(str(path))
    return path
