"""Compile the committed .po translation sources into .mo catalogs at build/install time."""

from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from hatchling.builders.hooks.plugin.interface import BuildHookInterface


def compile_catalogs(root: Path) -> list[Path]:
    compiled = []
    for po_path in sorted((root / "kb" / "translations").glob("*/LC_MESSAGES/*.po")):
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file)
        mo_path = po_path.with_suffix(".mo")
        with mo_path.open("wb") as mo_file:
            write_mo(mo_file, catalog)
        compiled.append(mo_path)
    return compiled


class CustomBuildHook(BuildHookInterface):
    def initialize(self, version, build_data):
        compile_catalogs(Path(self.root))
