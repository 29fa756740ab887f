"""Recording search-relevant changes; call inside the transaction that wrote the change.

After such a transaction commits, this process's background indexer is woken so the change
is searchable within a second (other processes pick it up on their periodic catch-up).
"""

import sqlalchemy as sa
from blinker import Namespace
from flask import current_app, has_app_context
from sqlalchemy import orm as so

from kb.database import db
from kb.search.models import SearchChange

CHANGED = "kb_search_changed"
WORKER = "kb_search_worker"

changes_committed = Namespace().signal("search-changes-committed")
"""Sent (sender: the app) after a transaction that recorded changes commits in this process."""


def record_change(entity: str, entity_id: int) -> None:
    """Log that ``entity`` ('page' or 'attachment') ``entity_id`` changed, in this transaction."""
    db.session.add(SearchChange(entity=entity, entity_id=entity_id))
    db.session.info[CHANGED] = True


def notify_indexer() -> None:
    """Wake this process's indexer (if it runs here)."""
    if not has_app_context():
        return
    worker = current_app.extensions.get(WORKER)
    if worker is not None:
        worker.notify()


@sa.event.listens_for(so.Session, "after_commit")
def _after_commit(session: so.Session) -> None:
    if session.info.pop(CHANGED, False):
        notify_indexer()
        if has_app_context():
            changes_committed.send(current_app._get_current_object())


@sa.event.listens_for(so.Session, "after_rollback")
def _after_rollback(session: so.Session) -> None:
    session.info.pop(CHANGED, None)
