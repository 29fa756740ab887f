"""One place that imports every sub-package's models (for Alembic and `create_all`)."""

import importlib

MODEL_MODULES = (
    "kb.accounts.models",
    "kb.pages.models",
    "kb.search.models",
    "kb.board.models",
    "kb.surveys.models",
    "kb.consult.models",
)


def import_all_models() -> None:
    for name in MODEL_MODULES:
        importlib.import_module(name)
