"""The inertness check: what an HTML page could execute, read with an HTML5 parser.

A page is inert with respect to hostile input when it has nothing executable that the same
page without the input did not have: no ``<script>`` (other than our own
``<script src="/static/...">`` and JSON data blocks), no ``on*`` attribute, no
``javascript:``/``vbscript:``/``data:text/html`` URL in a URL attribute, no ``<iframe>``,
``<object>``, ``<embed>``, ``<base>``, ``<frame>``, ``<applet>``, no ``<meta http-equiv>``,
no SVG ``<animate>``/``<set>`` that rewrites a link.
"""

import json
import re
from collections import Counter
from pathlib import Path

import html5lib

URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "srcdoc", "poster"}
FORBIDDEN_TAGS = {"iframe", "object", "embed", "base", "frame", "frameset", "applet"}
DANGEROUS_SCHEMES = ("javascript:", "vbscript:", "data:text/html", "livescript:")
DATA_SCRIPT_TYPES = {"application/json", "application/ld+json"}
# Browsers drop ASCII tab/newline anywhere in a URL and C0 controls/space at its start.
_URL_NOISE = re.compile(r"[\x00-\x20\x7f]+")


def local(name: str) -> str:
    return name.rsplit("}", 1)[-1].lower()


def dangerous_url(value: str) -> bool:
    return _URL_NOISE.sub("", value).lower().startswith(DANGEROUS_SCHEMES)


def dangers(page: str) -> Counter:
    """Everything executable or frame-like on the page, as countable signatures."""
    found: Counter = Counter()
    document = html5lib.parse(page, treebuilder="etree", namespaceHTMLElements=False)
    for element in document.iter():
        if not isinstance(element.tag, str):
            continue  # comments
        tag = local(element.tag)
        attributes = {
            local(k) if "}" not in k else _attr_name(k): v for k, v in element.attrib.items()
        }
        if tag == "script":
            kind = attributes.get("type", "").strip().lower()
            src = attributes.get("src", "")
            if kind in DATA_SCRIPT_TYPES and not src:
                json.loads(element.text or "null")  # a data block must stay valid JSON
                found[("data-script", attributes.get("id", ""))] += 1
            elif src.startswith("/static/") and not (element.text or "").strip():
                found[("own-script", src)] += 1
            else:
                found[("script", src, (element.text or "")[:80])] += 1
        if tag in FORBIDDEN_TAGS:
            found[(tag,)] += 1
        if tag == "meta" and "http-equiv" in attributes:
            found[("meta-http-equiv", attributes["http-equiv"])] += 1
        if tag in {"animate", "set", "animatetransform"}:
            if attributes.get("attributename", "").lower() in {"href", "xlink:href"}:
                found[("svg-animate-href",)] += 1
        for name, value in attributes.items():
            if name.startswith("on"):
                found[("on-attribute", tag, name)] += 1
            if name in URL_ATTRIBUTES and dangerous_url(value):
                found[("url", tag, name, value[:60])] += 1
            if name == "style" and re.search(r"expression\s*\(|javascript:", value, re.I):
                found[("style-script", tag)] += 1
    return found


def _attr_name(key: str) -> str:
    namespace, _sep, name = key[1:].partition("}")
    return ("xlink:" + name if "xlink" in namespace else name).lower()


def new_dangers(page: str, baseline: str) -> Counter:
    """Dangers on ``page`` that ``baseline`` (the same page without hostile input) lacks."""
    extra = dangers(page)
    extra.subtract(dangers(baseline))
    return +extra


def load_payloads(shared: Path) -> list[str]:
    """Every payload of ../shared/security/*.txt once, in a stable order."""
    seen: dict[str, None] = {}
    for path in sorted((shared / "security").glob("*.txt")):
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            line = line.rstrip("\r")
            if line.strip():
                seen.setdefault(line, None)
    return list(seen)
