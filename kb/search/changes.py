"""Recording search-relevant changes; call inside the transaction that wrote the change."""

from kb.database import db
from kb.search.models import SearchChange


def record_change(entity: str, entity_id: int) -> None:
    db.session.add(SearchChange(entity=entity, entity_id=entity_id))
