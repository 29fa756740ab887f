"""Text extraction from real PDF/DOCX/PPTX/XLSX/ODT files, bounded and failure-proof."""

from kb.search.extract import detect_kind, extract_text
from tests.search.files import write_docx, write_odt, write_pdf, write_pptx, write_xlsx


def test_pdf(tmp_path):
    path = write_pdf(tmp_path / "m.pdf", ["Мастер-класс по робототехнике", "Bee-Bot для малышей"])
    result = extract_text(path, "m.pdf", "application/pdf")
    assert result.status == "ok"
    assert "Мастер-класс по робототехнике" in result.text
    assert "Bee-Bot для малышей" in result.text


def test_docx_paragraphs_and_tables(tmp_path):
    path = write_docx(
        tmp_path / "k.docx",
        ["Конспект занятия «Умные пчёлки»", "Цель: знакомство с алгоритмами."],
        table=[["Этап", "Время"], ["Разминка", "5 минут"]],
    )
    result = extract_text(path, "k.docx")
    assert result.status == "ok"
    for piece in ("Умные пчёлки", "алгоритмами", "Разминка 5 минут"):
        assert piece in result.text


def test_pptx_slides_and_notes(tmp_path):
    path = write_pptx(
        tmp_path / "s.pptx", "Цифровая лаборатория", "Датчик температуры", notes="Показать опыт"
    )
    result = extract_text(path, "s.pptx")
    assert result.status == "ok"
    for piece in ("Цифровая лаборатория", "Датчик температуры", "Показать опыт"):
        assert piece in result.text


def test_xlsx(tmp_path):
    path = write_xlsx(
        tmp_path / "p.xlsx", [["Месяц", "Тема"], ["Октябрь", "Наураша: свет"], [1, 2]]
    )
    result = extract_text(path, "p.xlsx")
    assert result.status == "ok"
    assert "Октябрь Наураша: свет" in result.text and "План" in result.text


def test_odt(tmp_path):
    path = write_odt(tmp_path / "o.odt", "Кюарик", ["Игры с QR-кодами для родителей."])
    result = extract_text(path, "o.odt")
    assert result.status == "ok"
    assert "Кюарик" in result.text and "QR-кодами" in result.text


def test_plain_text_in_utf8_and_cp1251(tmp_path):
    (tmp_path / "a.txt").write_text("Ёлочка из конструктора", encoding="utf-8")
    (tmp_path / "b.txt").write_bytes("Ёлочка из конструктора".encode("cp1251"))
    for name in ("a.txt", "b.txt"):
        result = extract_text(tmp_path / name, name, "text/plain")
        assert result == result.__class__("ok", "Ёлочка из конструктора")


def test_extracted_text_is_capped(tmp_path):
    path = write_docx(tmp_path / "big.docx", [f"Абзац номер {i} про датчики." for i in range(2000)])
    result = extract_text(path, "big.docx", max_chars=1000)
    assert result.status == "ok"
    assert 900 <= len(result.text) <= 1000


def test_broken_and_unknown_files_fail_cleanly(tmp_path):
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4\n" + b"\x00garbage" * 100)
    fake_docx = tmp_path / "fake.docx"
    fake_docx.write_bytes(b"PK\x03\x04 not really a zip")
    image = tmp_path / "photo.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    missing = tmp_path / "missing.pdf"
    for path in (broken, fake_docx, image, missing):
        result = extract_text(path, path.name)
        assert result.status == "failed", path.name
        assert result.text == ""


def test_extraction_is_bounded_in_time(tmp_path):
    path = write_docx(tmp_path / "k.docx", ["Текст"])
    assert extract_text(path, "k.docx", timeout=0.001).status == "failed"


def test_kind_is_judged_by_content_not_name(tmp_path):
    path = write_pptx(tmp_path / "renamed.pdf", "Слайд", "Текст")
    assert detect_kind(path, "renamed.pdf") == "pptx"
