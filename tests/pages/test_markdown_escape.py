"""Others' text in generated Markdown: rendered, it shows the literal characters, no markup."""

from html.parser import HTMLParser

from hypothesis import given, settings
from hypothesis import strategies as st

from kb.pages.markdown_escape import escape_markdown, escape_markdown_inline
from kb.pages.render import render_markdown

HOSTILE = [
    "[официальная таблица](https://evil.example/login)",
    "![x](https://evil.example/x.png) ![схема](attachment:схема.png) [план](файл:план.pdf)",
    '<a href="https://evil.example/">вход</a> <b>жирно</b> <img src=x>',
    "<https://evil.example/> <mail@evil.example>",
    "[[Главная]] [[Файл:отчёт.pdf|отчёт]] [[attachment:a.png]]",
    "[TOC]",
    "# Заголовок\n## второй #\nтекст\n===\nещё\n---",
    "    отступ в четыре пробела\n\tтабуляция",
    "~~~\nкод\n~~~\n```\nкод\n```",
    "- пункт\n+ пункт\n* пункт\n1. первый\n2) второй",
    "> цитата\n>> вложенная",
    "| a | b |\n|---|---|\n| c | d |",
    "*курсив* _курсив_ **жирный** `код` \\* обратная косая \\",
    "&lt;b&gt; &amp; &#61; &copy;",
    "[ссылка][1]\n\n[1]: https://evil.example/",
    "a\x02wzxhzdk:0\x03b",
]


class _Text(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: set[str] = set()
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        if tag in ("br", "p"):
            self.parts.append("\n")

    def handle_data(self, data):
        self.parts.append(data)


def _lines(text: str) -> list[str]:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = "".join(c for c in text if c in "\n\t" or (c >= " " and c != "\x7f"))
    return [" ".join(line.split()) for line in text.split("\n") if line.strip()]


def shown(markdown_text: str) -> tuple[set[str], list[str]]:
    parser = _Text()
    parser.feed(render_markdown(markdown_text))
    parser.close()
    return parser.tags, _lines("".join(parser.parts))


def test_hostile_text_renders_as_its_own_characters():
    for text in HOSTILE:
        tags, lines = shown(escape_markdown(text))
        assert tags <= {"p", "br"}, (text, tags)
        assert lines == _lines(text), text
        tags, lines = shown(escape_markdown_inline(text))
        assert tags <= {"p"}, (text, tags)
        assert lines == [" ".join(_lines(text))], text


def test_inside_a_table_cell_and_a_quote():
    text = "a | b [x](https://evil.example/) <i>c</i>"
    html = render_markdown(f"| h |\n|---|\n| {escape_markdown_inline(text)} |")
    assert "href" not in html and "<i>" not in html and html.count("<td>") == 1
    html = render_markdown("> " + escape_markdown(text))
    assert "href" not in html and "<i>" not in html and "<blockquote>" in html


def test_many_brackets_stay_cheap():
    # 5 KB of `[`/`](` made the parser backtrack for seconds; escaped, nothing is a link.
    tags, lines = shown(escape_markdown("[](" * 1700))
    assert tags <= {"p"} and lines == ["[](" * 1700]


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    st.text(alphabet=st.sampled_from(list("\\`*_{}[]()#+-.!|<>&~=:;\"' @/a1б \n\t\r")), max_size=60)
)
def test_any_mix_of_markdown_characters_is_literal(text):
    tags, lines = shown(escape_markdown(text))
    assert tags <= {"p", "br"}, tags
    assert lines == _lines(text)
