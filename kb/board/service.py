"""What can be done on a live board, with its rules.

Every change runs inside ``changing(board)``: the board row is locked, each broadcast event
takes the next ``seq`` (``UPDATE boards SET seq = seq + 1 ... RETURNING seq``) and is written
to ``board_events`` in the same transaction, the transaction is committed once, and only then
are the events sent (``kb.board.broadcast.publish``). A per-board lock in this process keeps
the sending order equal to the ``seq`` order.
"""

import base64
import hashlib
import hmac
import json
import logging
import re
import secrets
import threading
import unicodedata
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app, g, has_request_context, request
from flask_babel import gettext as _
from limits import RateLimitItem, RateLimitItemPerHour, RateLimitItemPerMinute
from sqlalchemy import orm as so

from kb.accounts.models import User
from kb.board.models import (
    Board,
    BoardColumn,
    BoardEvent,
    Comment,
    Like,
    Participant,
    Poll,
    PollKind,
    PollOption,
    PollResults,
    PollStatus,
    PollVote,
    Post,
    PostStatus,
)
from kb.database import MAX_ID, db, mark_write_transaction, utcnow
from kb.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    RateLimited,
)
from kb.extensions import limiter

CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L
CODE_LENGTH = 6
NAME_MAX = 60
TEXT_MAX = 1000
COMMENT_MAX = 500
TITLE_MAX = 200
COLUMN_TITLE_MAX = 100
COLUMNS_MAX = 12
POLL_QUESTION_MAX = 300
POLL_OPTION_MAX = 200
POLL_OPTIONS_MAX = 12
WORDS_MAX = 3
WORD_MAX = 40
REPLAY_MAX = 2000  # a client further behind gets the full state instead of the events
PRUNE_EVERY = 500  # every this many changes, events no client can replay any more are deleted
DEFAULT_POSTS_PER_MINUTE = 10
DEFAULT_MAX_PARTICIPANTS = 2000
# Stuffing limits (issue 14), counted in Flask-Limiter's storage (see `_check_limits`). Many real
# attendees share one school NAT address, so the per-address limits are sized for a room of
# 60 or more joining and answering within the same minute.
DEFAULT_JOINS_PER_MINUTE = 100  # new guest participants per address per board
DEFAULT_JOINS_PER_HOUR = 300  # ... and per hour: one address cannot fill a 2,000 room
DEFAULT_LIKES_PER_MINUTE = 60  # like/unlike changes per participant per board
LIKE_TOGGLES_PER_POST = 5  # like/unlike changes of one post per participant per minute
LIKES_PER_ADDRESS_FACTOR = 10  # likes per address per minute = factor x joins per minute
BROWSER_SESSION_KEY = "board_browser"  # a random id of this browser in the Flask session

_DIGITS = re.compile(r"[0-9]{1,10}")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
_LOCKS = [threading.Lock() for _i in range(64)]
log = logging.getLogger(__name__)


def _board_lock(board_id: int) -> threading.Lock:
    return _LOCKS[board_id % len(_LOCKS)]


def _sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _iso(moment) -> str:
    return moment.replace(microsecond=0).isoformat() + "Z"


# ---------------------------------------------------------------- input checks


def clean_text(value: Any, *, limit: int, what: str, required: bool = True) -> str:
    """Plain text: NFC, no control or bidi characters, \\n line ends, trimmed, bounded."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidInput(_("Поле «%(what)s» должно быть текстом.", what=what))
    text = unicodedata.normalize("NFC", value).replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", text).strip()
    if required and not text:
        raise InvalidInput(_("Поле «%(what)s» не заполнено.", what=what))
    if len(text) > limit:
        raise InvalidInput(
            _(
                "Поле «%(what)s» слишком длинное: %(length)s символов, можно не больше %(limit)s.",
                what=what,
                length=len(text),
                limit=limit,
            )
        )
    return text


def check_name(value: Any, *, required: bool) -> str:
    name = clean_text(value, limit=NAME_MAX, what=_("Имя"), required=False)
    name = " ".join(name.split())
    if required and not name:
        raise InvalidInput(_("Представьтесь: на этой доске нужно указать имя."))
    return name


def _check_bool(value: Any, what: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput(_("Поле «%(what)s» должно быть true или false.", what=what))
    return value


def _check_id(value: Any, what: str) -> int:
    """A database id: an integer (or a string of digits) from 1 to ``MAX_ID``."""
    if value is None or value == "":
        raise InvalidInput(_("Не указан номер: %(what)s.", what=what))
    if isinstance(value, str) and _DIGITS.fullmatch(value.strip()):
        number = int(value)
    elif isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        number = 0
    if not 1 <= number <= MAX_ID:
        raise InvalidInput(
            _(
                "Номер (%(what)s) должен быть целым числом от 1 до %(max)s.",
                what=what,
                max=MAX_ID,
            )
        )
    return number


def check_since(since: Any) -> int:
    """The ``since`` of a catch-up: a seq from 0 to ``MAX_ID``."""
    if isinstance(since, bool) or not isinstance(since, int) or not 0 <= since <= MAX_ID:
        raise InvalidInput(_("«since» должен быть целым числом от 0 до %(max)s.", max=MAX_ID))
    return since


# Cyrillic letters that look like the Latin ones of board codes (read off a projector and
# typed on a Russian keyboard): «ЕYQUYZ» is EYQUYZ.
LOOK_ALIKES = str.maketrans("АВЕЗКМНОРСТУХ", "ABE3KMHOPCTYX")


def normalize_code(code: Any) -> str:
    if not isinstance(code, str):
        return ""
    return re.sub(r"[\s-]", "", code).upper().translate(LOOK_ALIKES)


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _i in range(CODE_LENGTH))


# ---------------------------------------------------------------- stuffing limits


def _address() -> str | None:
    """The client's address (HTTP request or Socket.IO connection), None outside requests."""
    return request.remote_addr if has_request_context() else None


def _setting(name: str, default: int) -> int:
    return int(current_app.config.get(name, default))


@dataclass(frozen=True)
class Limit:
    """A rate limit: at most ``item`` hits of ``key``, else ``message`` (429)."""

    item: RateLimitItem
    key: tuple[str, ...]
    message: str


def _limit(item: RateLimitItem, key: tuple[Any, ...], message: str) -> Limit:
    return Limit(item, ("board", *(str(part) for part in key)), message)


def _rate_limiter():
    return limiter.limiter if limiter.enabled and limiter.initialized else None


# The counters live in Flask-Limiter's storage (KB_RATELIMIT_STORAGE, by default the
# KB_MESSAGE_QUEUE Redis), so every process of the site shares them. They are never read or
# written inside a database transaction: talking to the storage may yield to other
# greenlets, and a yield while holding SQLite's write lock makes every other writer wait.
# A storage that is down does not take the board with it: the limit is then not applied.


def _check_limits(limits: list[Limit]) -> None:
    """Refuse (RateLimited) when one of ``limits`` is used up; call before the change.

    Ends the current transaction first, which may only have read (nothing is pending).
    """
    strategy = _rate_limiter()
    if strategy is None or not limits:
        return
    if db.session().in_transaction():
        db.session.rollback()
    for limit in limits:
        try:
            within = strategy.test(limit.item, *limit.key)
        except Exception:
            log.warning("rate-limit storage failed; %s not checked", limit.key[1], exc_info=True)
            return
        if not within:
            raise RateLimited(limit.message)


def _spend_limits(limits: list[Limit]) -> None:
    """Count one use of each of ``limits``; call after the change was committed.

    Checking before and counting after lets only accepted changes count; requests running at
    the same moment may together pass a limit by a few.
    """
    strategy = _rate_limiter()
    if strategy is None:
        return
    for limit in limits:
        try:
            strategy.hit(limit.item, *limit.key)
        except Exception:
            log.warning("rate-limit storage failed; %s not counted", limit.key[1], exc_info=True)
            return


def _new_guest_limits(board_id: int) -> list[Limit]:
    address = _address()
    if address is None:
        return []
    per_minute = _setting("KB_BOARD_JOINS_PER_MINUTE", DEFAULT_JOINS_PER_MINUTE)
    per_hour = _setting("KB_BOARD_JOINS_PER_HOUR", DEFAULT_JOINS_PER_HOUR)
    return [
        _limit(
            RateLimitItemPerMinute(per_minute),
            ("join", board_id, address),
            _(
                "Слишком много новых участников с вашего адреса: не больше %(n)s в минуту. "
                "Подождите минуту и попробуйте снова.",
                n=per_minute,
            ),
        ),
        _limit(
            RateLimitItemPerHour(per_hour),
            ("join-hour", board_id, address),
            _(
                "Слишком много новых участников с вашего адреса: не больше %(n)s в час. "
                "Обратитесь к ведущему.",
                n=per_hour,
            ),
        ),
    ]


def _vote_limits(poll_id: int, participant: Participant) -> list[Limit]:
    address = _address()
    if address is None or participant.user_id is not None:
        return []  # an account has one participant and one vote: nothing to stuff
    per_minute = _setting("KB_BOARD_JOINS_PER_MINUTE", DEFAULT_JOINS_PER_MINUTE)
    return [
        _limit(
            RateLimitItemPerMinute(per_minute),
            ("vote", poll_id, address),
            _(
                "Слишком много ответов на этот опрос с вашего адреса за минуту. "
                "Подождите минуту и попробуйте снова."
            ),
        )
    ]


def _like_limits(board_id: int, post_id: int, participant: Participant) -> list[Limit]:
    per_minute = _setting("KB_BOARD_LIKES_PER_MINUTE", DEFAULT_LIKES_PER_MINUTE)
    limits = [
        _limit(
            RateLimitItemPerMinute(LIKE_TOGGLES_PER_POST),
            ("like", post_id, participant.id),
            _(
                "Слишком часто: отметку одной записи можно менять не больше %(n)s раз в минуту.",
                n=LIKE_TOGGLES_PER_POST,
            ),
        ),
        _limit(
            RateLimitItemPerMinute(per_minute),
            ("likes", board_id, participant.id),
            _("Слишком часто: не больше %(n)s отметок в минуту. Подождите немного.", n=per_minute),
        ),
    ]
    address = _address()
    if address is not None and participant.user_id is None:
        joins = _setting("KB_BOARD_JOINS_PER_MINUTE", DEFAULT_JOINS_PER_MINUTE)
        limits.append(
            _limit(
                RateLimitItemPerMinute(LIKES_PER_ADDRESS_FACTOR * joins),
                ("likes-from", board_id, address),
                _("Слишком много отметок с вашего адреса за минуту. Подождите минуту."),
            )
        )
    return limits


def _browser_token(board: Board, browser: Any) -> str | None:
    """The participant token of this browser on this board, derived from its session id.

    The same browser session therefore finds the same participant again even without the
    token (a cleared local storage, a script re-joining with the page's cookies).
    """
    if not isinstance(browser, str) or not 16 <= len(browser) <= 64:
        return None
    key = str(current_app.config["SECRET_KEY"]).encode()
    digest = hmac.new(key, f"board-browser:{board.id}:{browser}".encode(), "sha256").digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def new_browser_id() -> str:
    return secrets.token_urlsafe(24)


# ---------------------------------------------------------------- lookups and roles


def find_board(code: Any) -> Board | None:
    code = normalize_code(code)
    if not code or len(code) > 12:
        return None
    return db.session.scalar(sa.select(Board).where(Board.code == code))


def get_board(code: Any) -> Board:
    board = find_board(code)
    if board is None:
        raise NotFound(
            _("Доска с кодом «%(code)s» не найдена. Проверьте код.", code=str(code)[:12])
        )
    return board


def get_board_by_id(board_id: int) -> Board:
    board = db.session.get(Board, board_id)
    if board is None:
        raise NotFound(_("Доска не найдена."))
    return board


def is_moderator(board: Board, user: User | None) -> bool:
    """The board's owner and admins moderate."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return user.is_admin or (board.owner_id is not None and board.owner_id == user.id)


def check_moderator(board: Board, user: User | None) -> None:
    if user is None or not getattr(user, "is_authenticated", False):
        raise NotAuthenticated(_("Нужно войти в систему."))
    if not is_moderator(board, user):
        raise Forbidden(_("Это может только ведущий доски или администратор."))


def can_create_boards(user: User | None) -> bool:
    return bool(user is not None and user.is_authenticated and user.has_role("editor"))


def list_boards(user: User | None = None, limit: int = 100) -> list[Board]:
    query = sa.select(Board).order_by(Board.created_at.desc()).limit(limit)
    if user is not None and not user.is_admin:
        query = query.where(Board.owner_id == user.id)
    return list(db.session.scalars(query))


def get_participant(participant_id: int | None) -> Participant | None:
    return db.session.get(Participant, participant_id) if participant_id else None


def find_participant(board: Board, token: Any) -> Participant | None:
    if not isinstance(token, str) or not token or len(token) > 100:
        return None
    return db.session.scalar(
        sa.select(Participant).where(
            Participant.board_id == board.id, Participant.token_hash == _sha256(token)
        )
    )


def _get_column(board: Board, column: Any) -> BoardColumn:
    """None: the first column; else a column id, or a string that is a column's exact title
    (a title wins over the same digits read as an id)."""
    if column is None or column == "":
        if not board.columns:
            raise InvalidInput(_("На доске нет ни одной колонки."))
        return board.columns[0]
    if isinstance(column, str):
        title = unicodedata.normalize("NFC", column).strip()
        for item in board.columns:
            if item.title == title:
                return item
        if not _DIGITS.fullmatch(title):
            raise InvalidInput(_("Такой колонки на доске нет."))
    column_id = _check_id(column, _("колонка"))
    for item in board.columns:
        if item.id == column_id:
            return item
    raise InvalidInput(_("Такой колонки на доске нет."))


def _get_post(board: Board, post_id: Any, *, moderator: bool = False) -> Post:
    post = db.session.get(Post, _check_id(post_id, _("запись")))
    if post is None or post.board_id != board.id or post.status == PostStatus.DELETED:
        raise NotFound(_("Запись не найдена: возможно, её уже удалили."))
    if not moderator and post.status == PostStatus.HIDDEN:
        raise NotFound(_("Запись не найдена: возможно, её уже удалили."))
    return post


def _get_poll(board: Board, poll_id: Any) -> Poll:
    poll = db.session.get(Poll, _check_id(poll_id, _("опрос")))
    if poll is None or poll.board_id != board.id:
        raise NotFound(_("Опрос не найден."))
    return poll


# ---------------------------------------------------------------- payloads


def board_payload(board: Board) -> dict[str, Any]:
    seminar = board.seminar
    return {
        "id": board.id,
        "code": board.code,
        "title": board.title,
        "description": board.description,
        "columns": [{"id": c.id, "title": c.title} for c in board.columns],
        "anonymous": board.anonymous,
        "moderated": board.moderated,
        "likes": board.likes_enabled,
        "comments": board.comments_enabled,
        "locked": board.locked,
        "seminar": {"id": seminar.id, "title": seminar.title} if seminar else None,
        "url": f"/b/{board.code}",
        "wall_url": f"/b/{board.code}/wall",
        "seq": board.seq,
    }


def comment_payload(comment: Comment) -> dict[str, Any]:
    return {
        "id": comment.id,
        "author": comment.author_name,
        "author_key": comment.participant.key if comment.participant else None,
        "text": comment.text,
        "created_at": _iso(comment.created_at),
    }


def post_payload(post: Post) -> dict[str, Any]:
    return {
        "id": post.id,
        "column": post.column_id,
        "text": post.text,
        "author": post.author_name,
        "author_key": post.participant.key if post.participant else None,
        "status": post.status,
        "pinned": post.pinned,
        "likes": post.like_count,
        "edited": post.edited,
        "comments": [comment_payload(c) for c in post.comments],
        "created_at": _iso(post.created_at),
        "seq": post.seq,
    }


def results_hidden(poll: Poll) -> bool:
    """Whether the results are kept from everybody but moderators until the host shows them
    (``results == "revealed"``): then they are not even sent. «after_vote» results are sent
    and the participant's screen shows them once they have answered or the poll is closed."""
    return poll.results == PollResults.REVEALED and not poll.revealed


def poll_payload(poll: Poll, moderator: bool = False) -> dict[str, Any]:
    """A poll with its results for a moderator; for anybody else (participants, the wall,
    the API) hidden results have no counts, and a word cloud no words yet."""
    options = list(poll.options)
    if poll.kind == PollKind.WORDS:
        options = sorted(options, key=lambda o: (-o.votes, o.text))
    hidden = not moderator and results_hidden(poll)
    if hidden and poll.kind == PollKind.WORDS:
        options = []
    return {
        "id": poll.id,
        "question": poll.question,
        "kind": poll.kind,
        "status": poll.status,
        "results": poll.results,
        "revealed": poll.revealed,
        "options": [
            {"id": o.id, "text": o.text, "votes": None if hidden else o.votes} for o in options
        ],
        "voters": poll.vote_count,
        "created_at": _iso(poll.created_at),
        "seq": poll.seq,
    }


def participant_payload(participant: Participant | None) -> dict[str, Any] | None:
    if participant is None:
        return None
    return {"key": participant.key, "name": participant.name, "user": participant.user_id}


# ---------------------------------------------------------------- change log


@dataclass
class Emission:
    seq: int
    name: str
    payload: dict[str, Any]
    audience: str = "all"  # all | moderators | participant
    participant_id: int | None = None


@dataclass
class Change:
    """The events of one transaction; filled by the ``_emit_*`` helpers, sent after commit."""

    board: Board
    emissions: list[Emission] = field(default_factory=list)

    @property
    def board_id(self) -> int:
        # Read from the identity, never from the row: after the commit the object is
        # expired and loading it would open a transaction while the send lock is held.
        return so.attributes.instance_state(self.board).identity[0]

    def allocate(self) -> int:
        """The next seq of the board; the row is locked until the commit."""
        table = Board.__table__
        seq = db.session.execute(
            sa.update(table)
            .where(table.c.id == self.board.id)
            .values(seq=table.c.seq + 1, updated_at=utcnow())
            .returning(table.c.seq)
        ).scalar_one()
        so.attributes.set_committed_value(self.board, "seq", seq)
        if seq % PRUNE_EVERY == 0:
            db.session.execute(
                sa.delete(BoardEvent).where(
                    BoardEvent.board_id == self.board.id, BoardEvent.seq <= seq - REPLAY_MAX
                )
            )
        return seq

    def add(self, seq: int, name: str, payload: dict, audience: str = "all", pid=None) -> None:
        payload = {"seq": seq, **payload}
        self.emissions.append(Emission(seq, name, payload, audience, pid))
        db.session.add(
            BoardEvent(
                board_id=self.board.id,
                seq=seq,
                audience=audience,
                participant_id=pid,
                name=name,
                payload=json.dumps(payload, ensure_ascii=False, separators=(",", ":")),
            )
        )


@contextmanager
def changing(board: Board) -> Iterator[Change]:
    """Run one change of ``board``: lock its row, write, log, commit once, then broadcast.

    Raises what the body raises, after rolling back (nothing is stored half-way).
    """
    from kb.board.broadcast import publish

    if not g.get("db_write") and db.session().in_transaction():
        # A read transaction opened before we knew we would write: end it, so SQLite's next
        # one starts with BEGIN IMMEDIATE (upgrading a stale read snapshot fails at once).
        db.session.commit()
    mark_write_transaction()
    try:
        # Lock the row (PostgreSQL; SQLite holds the database write lock) and re-read the
        # settings other writers may have changed.
        db.session.execute(
            sa.select(Board)
            .where(Board.id == board.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        change = Change(board)
        yield change
        # Commit and send under one per-board lock: the next change of this board can only
        # commit after this one (row lock), so within a process events leave in seq order.
        # The lock is never held while waiting for the database, so it cannot deadlock.
        board_id = board.id
        with _board_lock(board_id):
            db.session.commit()
            try:
                publish(change)
            except Exception:  # committed is committed: clients catch up with `since`
                log.exception("broadcast of board %s failed", board_id)
    except BaseException:
        db.session.rollback()
        raise


def _names(before_exists: bool, now_exists: bool) -> str | None:
    if now_exists:
        return "post:updated" if before_exists else "post:created"
    return "post:deleted" if before_exists else None


def _emit_post(change: Change, post: Post, before: str | None) -> int:
    """Log and queue the views of a post change; ``before`` is its previous status."""
    seq = change.allocate()
    post.seq = seq
    post.updated_at = utcnow()
    db.session.flush()
    now = post.status
    full = {"post": post_payload(post)}
    gone = {"post_id": post.id, "column": post.column_id}
    visible, deleted = PostStatus.VISIBLE.value, PostStatus.DELETED.value
    public = _names(before == visible, now == visible)
    moderators = _names(before not in (None, deleted), now != deleted)
    own = (PostStatus.VISIBLE.value, PostStatus.PENDING.value)
    author = _names(before in own, now in own)
    if public:
        change.add(seq, public, gone if public == "post:deleted" else full)
    if moderators and moderators != public:
        change.add(seq, moderators, gone if moderators == "post:deleted" else full, "moderators")
    if author and public is None and post.participant_id:
        change.add(
            seq,
            author,
            gone if author == "post:deleted" else full,
            "participant",
            post.participant_id,
        )
    return seq


def _emit_poll(change: Change, poll: Poll, before: str | None, deleted: bool = False) -> None:
    seq = change.allocate()
    poll.seq = seq
    db.session.flush()
    data = {
        "poll": {"id": poll.id, "status": "deleted", "seq": seq}
        if deleted
        else poll_payload(poll, moderator=True)
    }
    public_now = not deleted and poll.status != PollStatus.DRAFT
    public_before = before not in (None, PollStatus.DRAFT.value)
    if (public_now or public_before) and not deleted and results_hidden(poll):
        # the same change seen twice: without the results by everybody, with them by
        # moderators (whose view wins for them, live and on replay)
        change.add(seq, "poll:updated", {"poll": poll_payload(poll, moderator=False)})
        change.add(seq, "poll:updated", data, "moderators")
    elif public_now or public_before:
        change.add(seq, "poll:updated", data)
    else:
        change.add(seq, "poll:updated", data, "moderators")


def _emit_board(change: Change) -> None:
    seq = change.allocate()
    db.session.flush()
    change.add(seq, "board:updated", {"board": board_payload(change.board)})


# ---------------------------------------------------------------- boards


def _check_columns(columns: Any) -> list[str]:
    if columns is None:
        return [_("Отзывы и впечатления")]
    if not isinstance(columns, list) or not columns:
        raise InvalidInput(_("Колонки — это непустой список названий."))
    if len(columns) > COLUMNS_MAX:
        raise InvalidInput(_("Не больше %(n)s колонок.", n=COLUMNS_MAX))
    titles = [clean_text(c, limit=COLUMN_TITLE_MAX, what=_("Колонка")) for c in columns]
    return titles


def create_board(
    owner: User,
    title: Any,
    *,
    description: Any = "",
    columns: Any = None,
    moderated: Any = False,
    anonymous: Any = True,
    likes: Any = True,
    comments: Any = True,
    seminar_id: Any = None,
) -> Board:
    if not can_create_boards(owner):
        raise Forbidden(_("Создавать доски могут педагоги и администраторы."))
    title = clean_text(title, limit=TITLE_MAX, what=_("Название"))
    description = clean_text(description, limit=2000, what=_("Описание"), required=False)
    titles = _check_columns(columns)
    seminar = None
    if seminar_id not in (None, ""):
        from kb.board.models import Seminar

        seminar = db.session.get(Seminar, _check_id(seminar_id, _("семинар")))
        if seminar is None:
            raise NotFound(_("Семинар не найден."))
    for _attempt in range(20):
        code = new_code()
        if find_board(code) is None:
            break
    else:  # pragma: no cover - 31^6 codes
        raise Conflict(_("Не удалось подобрать свободный код доски, попробуйте ещё раз."))
    board = Board(
        code=code,
        title=title,
        description=description,
        owner_id=owner.id,
        seminar=seminar,
        moderated=_check_bool(moderated, "moderated"),
        anonymous=_check_bool(anonymous, "anonymous"),
        likes_enabled=_check_bool(likes, "likes"),
        comments_enabled=_check_bool(comments, "comments"),
        columns=[BoardColumn(title=t, position=i) for i, t in enumerate(titles)],
    )
    db.session.add(board)
    db.session.commit()
    return board


def update_board(board: Board, user: User | None, **settings: Any) -> Board:
    """Change title, description, columns (list of {"id"?, "title"}) and switches."""
    check_moderator(board, user)
    with changing(board) as change:
        if "title" in settings:
            board.title = clean_text(settings["title"], limit=TITLE_MAX, what=_("Название"))
        if "description" in settings:
            board.description = clean_text(
                settings["description"], limit=2000, what=_("Описание"), required=False
            )
        flags = {
            "moderated": "moderated",
            "anonymous": "anonymous",
            "likes": "likes_enabled",
            "comments": "comments_enabled",
            "locked": "locked",
        }
        for key, attribute in flags.items():
            if key in settings and settings[key] is not None:
                setattr(board, attribute, _check_bool(settings[key], key))
        if settings.get("columns") is not None:
            _replace_columns(board, settings["columns"])
        _emit_board(change)
    return board


def _replace_columns(board: Board, columns: Any) -> None:
    if not isinstance(columns, list) or not columns or len(columns) > COLUMNS_MAX:
        raise InvalidInput(_("Колонки — это список от 1 до %(n)s названий.", n=COLUMNS_MAX))
    existing = {c.id: c for c in board.columns}
    kept: list[BoardColumn] = []
    for position, item in enumerate(columns):
        if isinstance(item, str):
            item = {"title": item}
        if not isinstance(item, dict):
            raise InvalidInput(_("Колонка описывается названием."))
        title = clean_text(item.get("title"), limit=COLUMN_TITLE_MAX, what=_("Колонка"))
        column_id = item.get("id")
        if column_id not in (None, ""):
            column = existing.get(_check_id(column_id, _("колонка")))
            if column is None:
                raise InvalidInput(_("Такой колонки на доске нет."))
        else:
            column = BoardColumn(title=title)
            board.columns.append(column)
        column.title, column.position = title, position
        kept.append(column)
    removed = [c for c in existing.values() if c not in kept]
    for column in removed:
        used = db.session.scalar(
            sa.select(sa.func.count(Post.id)).where(
                Post.column_id == column.id, Post.status != PostStatus.DELETED
            )
        )
        if used:
            raise Conflict(
                _("В колонке «%(title)s» есть записи: сначала перенесите их.", title=column.title)
            )
        board.columns.remove(column)
    db.session.flush()
    board.columns.sort(key=lambda c: c.position)


def set_locked(board: Board, user: User | None, locked: bool) -> Board:
    return update_board(board, user, locked=locked)


def delete_board(board: Board, user: User | None) -> None:
    check_moderator(board, user)
    mark_write_transaction()
    db.session.delete(board)
    db.session.commit()


# ---------------------------------------------------------------- joining


@dataclass
class Joined:
    board: Board
    participant: Participant | None
    token: str | None
    moderator: bool


def join_board(
    code: Any,
    *,
    user: User | None = None,
    name: Any = None,
    token: Any = None,
    wall: bool = False,
    browser: Any = None,
) -> Joined:
    """Find or create the participant: by account, else by token, else by this browser
    (``browser``: the id kept in its Flask session), else a new guest.

    A token of a participant tied to an account is not honoured without that account.
    New guests are limited per client address (KB_BOARD_JOINS_PER_MINUTE / _PER_HOUR).
    ``wall=True`` joins read-only without becoming a participant (the presenter screen).
    """
    mark_write_transaction()
    board = get_board(code)
    if user is not None and not user.is_authenticated:
        user = None
    moderator = is_moderator(board, user)
    if wall:
        return Joined(board, None, None, moderator)
    if user is not None:
        participant = db.session.scalar(
            sa.select(Participant).where(
                Participant.board_id == board.id, Participant.user_id == user.id
            )
        )
        new_token = secrets.token_urlsafe(24)
        if participant is None:
            participant = _new_participant(board, user.display_name[:NAME_MAX], new_token, user)
        else:
            participant.token_hash = _sha256(new_token)
            participant.name = user.display_name[:NAME_MAX]
        db.session.commit()
        return Joined(board, participant, new_token, moderator)
    participant = find_participant(board, token)
    browser_token = _browser_token(board, browser)
    if (participant is None or participant.user_id is not None) and browser_token:
        token, participant = browser_token, find_participant(board, browser_token)
    if participant is not None and participant.user_id is None:
        if name not in (None, ""):
            new_name = check_name(name, required=False)
            if new_name and new_name != participant.name:
                participant.name = new_name
                db.session.commit()
        return Joined(board, participant, token, False)
    display = check_name(name, required=not board.anonymous)
    limits = _new_guest_limits(board.id)
    _check_limits(limits)  # nothing is written yet
    if browser_token:
        # Another tab of this browser may have joined meanwhile: lock the board, look again.
        db.session.execute(sa.select(Board.id).where(Board.id == board.id).with_for_update())
        participant = find_participant(board, browser_token)
        if participant is not None:
            db.session.commit()  # release the lock
            return Joined(board, participant, browser_token, False)
    new_token = browser_token or secrets.token_urlsafe(24)
    participant = _new_participant(board, display, new_token, None)
    db.session.commit()
    _spend_limits(limits)
    return Joined(board, participant, new_token, False)


def _new_participant(board: Board, name: str, token: str, user: User | None) -> Participant:
    limit = int(current_app.config.get("KB_BOARD_MAX_PARTICIPANTS", DEFAULT_MAX_PARTICIPANTS))
    # Lock the board row so two joins cannot both take the last place (PostgreSQL).
    db.session.execute(sa.select(Board.id).where(Board.id == board.id).with_for_update())
    count = db.session.scalar(
        sa.select(sa.func.count(Participant.id)).where(Participant.board_id == board.id)
    )
    if count >= limit:
        raise Conflict(
            _("На доске уже максимальное число участников (%(n)s). Обратитесь к ведущему.", n=limit)
        )
    participant = Participant(
        board_id=board.id,
        key=secrets.token_hex(8),
        token_hash=_sha256(token),
        name=name,
        user_id=user.id if user is not None else None,
    )
    db.session.add(participant)
    db.session.flush()
    return participant


def participant_count(board: Board) -> int:
    return db.session.scalar(
        sa.select(sa.func.count(Participant.id)).where(Participant.board_id == board.id)
    )


# ---------------------------------------------------------------- reading state


def _visible_posts_query(board: Board, participant: Participant | None, moderator: bool):
    query = (
        sa.select(Post)
        .where(Post.board_id == board.id)
        .options(so.selectinload(Post.comments))
        .order_by(Post.id)
    )
    if moderator:
        return query.where(Post.status != PostStatus.DELETED)
    condition = Post.status == PostStatus.VISIBLE
    if participant is not None:
        condition = condition | (
            (Post.status == PostStatus.PENDING) & (Post.participant_id == participant.id)
        )
    return query.where(condition)


def visible_posts(board: Board, participant=None, moderator: bool = False) -> list[Post]:
    return list(db.session.scalars(_visible_posts_query(board, participant, moderator)))


def visible_polls(board: Board, moderator: bool = False) -> list[Poll]:
    query = (
        sa.select(Poll)
        .where(Poll.board_id == board.id)
        .options(so.selectinload(Poll.options))
        .order_by(Poll.id)
    )
    if not moderator:
        query = query.where(Poll.status != PollStatus.DRAFT)
    return list(db.session.scalars(query))


def own_marks(participant: Participant | None) -> dict[str, Any]:
    """The participant's likes and votes: what a shared broadcast cannot say per person."""
    if participant is None:
        return {"my_likes": [], "my_votes": {}}
    likes = db.session.scalars(sa.select(Like.post_id).where(Like.participant_id == participant.id))
    votes = db.session.execute(
        sa.select(PollVote.poll_id, PollVote.answer).where(
            PollVote.participant_id == participant.id
        )
    )
    return {
        "my_likes": sorted(likes),
        "my_votes": {str(poll_id): json.loads(answer) for poll_id, answer in votes},
    }


def board_state(
    board: Board, participant: Participant | None = None, moderator: bool = False
) -> dict[str, Any]:
    """The whole board as this viewer may see it; ``seq`` is the last change included."""
    return {
        "board": board_payload(board),
        "posts": [post_payload(p) for p in visible_posts(board, participant, moderator)],
        "polls": [poll_payload(p, moderator) for p in visible_polls(board, moderator)],
        "seq": board.seq,
        "participant": participant_payload(participant),
        "moderator": moderator,
        **own_marks(participant),
    }


def events_since(
    board: Board, since: Any, participant: Participant | None = None, moderator: bool = False
) -> list[dict[str, Any]] | None:
    """Every event after ``since`` meant for this viewer, in order; None when too far behind."""
    since = check_since(since)
    if since > board.seq or board.seq - since > REPLAY_MAX:
        return None
    audiences = ["all"]
    if moderator:
        audiences.append("moderators")
    condition = BoardEvent.audience.in_(audiences)
    if participant is not None and not moderator:
        condition = condition | (
            (BoardEvent.audience == "participant") & (BoardEvent.participant_id == participant.id)
        )
    rows = db.session.execute(
        sa.select(BoardEvent.seq, BoardEvent.audience, BoardEvent.name, BoardEvent.payload)
        .where(BoardEvent.board_id == board.id, BoardEvent.seq > since, condition)
        .order_by(BoardEvent.seq, BoardEvent.id)
    ).all()
    chosen: dict[int, tuple[str, str, str]] = {}
    for seq, audience, name, payload in rows:
        if seq in chosen and audience == "all":
            continue  # the moderators' own view of this change wins
        chosen[seq] = (audience, name, payload)
    return [
        {"name": name, "seq": seq, "data": json.loads(payload)}
        for seq, (_audience, name, payload) in sorted(chosen.items())
    ]


# ---------------------------------------------------------------- posts


def _check_open(board: Board) -> None:
    if board.locked:
        raise Conflict(_("Доска закрыта ведущим: новые записи и реакции не принимаются."))


def _check_participant(participant: Participant | None, board: Board) -> Participant:
    if participant is None or participant.board_id != board.id:
        raise Forbidden(_("Сначала присоединитесь к доске."))
    return participant


def _check_rate(model, participant: Participant) -> None:
    limit = int(current_app.config.get("KB_BOARD_POSTS_PER_MINUTE", DEFAULT_POSTS_PER_MINUTE))
    since = utcnow() - timedelta(seconds=60)
    recent = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(model)
        .where(model.participant_id == participant.id, model.created_at >= since)
    )
    if recent >= limit:
        raise Conflict(
            _("Слишком часто: не больше %(n)s сообщений в минуту. Подождите немного.", n=limit)
        )


def create_post(
    board: Board,
    participant: Participant | None,
    text: Any,
    column: Any = None,
    *,
    user: User | None = None,
    name: Any = None,
    integration: bool = False,
) -> Post:
    """A new post; pending on a pre-moderated board unless a moderator writes it.

    ``column``: see ``_get_column``. ``name`` signs this post with another name; only
    moderators and integrations (``integration``: ``user`` signed in by an API token, e.g.
    relaying a chat) may; everybody else posts under the name they joined with.
    """
    moderator = is_moderator(board, user)
    may_sign = moderator or (integration and user is not None)
    with changing(board) as change:
        participant = _check_participant(participant, board)
        _check_open(board)
        text = clean_text(text, limit=TEXT_MAX, what=_("Текст"))
        target = _get_column(board, column)
        author = check_name(name, required=False) if name not in (None, "") else ""
        if author and author != participant.name and not may_sign:
            raise Forbidden(
                _(
                    "Подписать запись другим именем может только ведущий или интеграция "
                    "с API-токеном. Ваше имя на доске: «%(name)s».",
                    name=participant.name,
                )
            )
        author = author or participant.name
        if not moderator:
            _check_rate(Post, participant)
        post = Post(
            board_id=board.id,
            column_id=target.id,
            participant=participant,
            author_name=author,
            text=text,
            status=PostStatus.PENDING if board.moderated and not moderator else PostStatus.VISIBLE,
        )
        db.session.add(post)
        db.session.flush()
        _emit_post(change, post, None)
    return post


def edit_post(
    board: Board, participant: Participant | None, post_id: Any, text: Any, *, user=None
) -> Post:
    moderator = is_moderator(board, user)
    with changing(board) as change:
        post = _get_post(board, post_id, moderator=moderator)
        own = participant is not None and post.participant_id == participant.id
        if not own and not moderator:
            raise Forbidden(_("Править можно только свои записи."))
        if not moderator:
            _check_open(board)
        post.text = clean_text(text, limit=TEXT_MAX, what=_("Текст"))
        post.edited = True
        _emit_post(change, post, post.status)
    return post


def delete_post(board: Board, participant: Participant | None, post_id: Any, *, user=None) -> int:
    moderator = is_moderator(board, user)
    with changing(board) as change:
        post = _get_post(board, post_id, moderator=moderator)
        own = participant is not None and post.participant_id == participant.id
        if not own and not moderator:
            raise Forbidden(_("Удалять можно только свои записи."))
        if not moderator:
            _check_open(board)
        _erase(change, post)
    return post.id


def _erase(change: Change, post: Post) -> None:
    before = post.status
    post.status = PostStatus.DELETED
    post.text = ""
    post.pinned = False
    for comment in list(post.comments):
        db.session.delete(comment)
    db.session.execute(sa.delete(Like).where(Like.post_id == post.id))
    post.like_count = 0
    db.session.flush()
    _emit_post(change, post, before)


def like_post(
    board: Board, participant: Participant | None, post_id: Any, like: Any = None
) -> tuple[Post, bool]:
    """Like or unlike (``like`` None toggles). Returns the post and whether it is liked now."""
    participant = _check_participant(participant, board)
    limits = _like_limits(board.id, _check_id(post_id, _("запись")), participant)
    _check_limits(limits)
    with changing(board) as change:
        _check_open(board)
        if not board.likes_enabled:
            raise Conflict(_("Лайки на этой доске выключены."))
        post = _get_post(board, post_id)
        if post.status != PostStatus.VISIBLE:
            raise Conflict(_("Запись ещё не одобрена ведущим."))
        exists = db.session.get(Like, (post.id, participant.id)) is not None
        wanted = (not exists) if like is None else _check_bool(like, "like")
        if wanted and exists:
            raise Conflict(_("Вы уже отметили эту запись."))
        if not wanted and not exists:
            raise Conflict(_("Вы ещё не отмечали эту запись."))
        if wanted:
            db.session.add(Like(post_id=post.id, participant_id=participant.id))
        else:
            db.session.execute(
                sa.delete(Like).where(
                    Like.post_id == post.id, Like.participant_id == participant.id
                )
            )
        # Safe as an increment: the board row lock serializes the changes of this board.
        post.like_count = max(0, post.like_count + (1 if wanted else -1))
        _emit_post(change, post, post.status)
    _spend_limits(limits)
    return post, wanted


def comment_post(board: Board, participant: Participant | None, post_id: Any, text: Any) -> Post:
    with changing(board) as change:
        participant = _check_participant(participant, board)
        _check_open(board)
        if not board.comments_enabled:
            raise Conflict(_("Комментарии на этой доске выключены."))
        post = _get_post(board, post_id)
        if post.status != PostStatus.VISIBLE:
            raise Conflict(_("Запись ещё не одобрена ведущим."))
        text = clean_text(text, limit=COMMENT_MAX, what=_("Комментарий"))
        user = participant.user
        if not is_moderator(board, user):
            _check_rate(Comment, participant)
        post.comments.append(
            Comment(participant=participant, author_name=participant.name, text=text)
        )
        db.session.flush()
        _emit_post(change, post, post.status)
    return post


def delete_comment(
    board: Board, participant: Participant | None, comment_id: Any, *, user=None
) -> Post:
    moderator = is_moderator(board, user)
    with changing(board) as change:
        comment = db.session.get(Comment, _check_id(comment_id, _("комментарий")))
        if comment is None or comment.post.board_id != board.id:
            raise NotFound(_("Комментарий не найден."))
        own = participant is not None and comment.participant_id == participant.id
        if not own and not moderator:
            raise Forbidden(_("Удалять можно только свои комментарии."))
        post = comment.post
        post.comments.remove(comment)
        db.session.flush()
        _emit_post(change, post, post.status)
    return post


# ---------------------------------------------------------------- moderation

MODERATION_ACTIONS = ("approve", "hide", "show", "pin", "unpin", "move")


def moderate_post(
    board: Board, user: User | None, post_id: Any, action: Any, column: Any = None
) -> Post:
    """approve / hide / show / pin / unpin / move (to ``column``); allowed on a locked board."""
    check_moderator(board, user)
    if action not in MODERATION_ACTIONS:
        raise InvalidInput(_("Неизвестное действие модерации."))
    with changing(board) as change:
        post = _get_post(board, post_id, moderator=True)
        before = post.status
        if action == "approve":
            if post.status != PostStatus.PENDING:
                raise Conflict(_("Запись не ждёт одобрения."))
            post.status = PostStatus.VISIBLE
        elif action == "hide":
            post.status = PostStatus.HIDDEN
            post.pinned = False
        elif action == "show":
            post.status = PostStatus.VISIBLE
        elif action in ("pin", "unpin"):
            if post.status != PostStatus.VISIBLE:
                raise Conflict(_("Закрепить можно только опубликованную запись."))
            post.pinned = action == "pin"
        else:
            post.column_id = _get_column(board, column).id
        _emit_post(change, post, before)
    return post


def remove_participant_posts(board: Board, user: User | None, participant_key: Any) -> int:
    """Delete every post of one participant (spam, a mistaken flood). Returns how many."""
    check_moderator(board, user)
    if not isinstance(participant_key, str):
        raise InvalidInput(_("Не указан участник."))
    with changing(board) as change:
        participant = db.session.scalar(
            sa.select(Participant).where(
                Participant.board_id == board.id, Participant.key == participant_key
            )
        )
        if participant is None:
            raise NotFound(_("Участник не найден."))
        posts = db.session.scalars(
            sa.select(Post)
            .where(Post.participant_id == participant.id, Post.status != PostStatus.DELETED)
            .order_by(Post.id)
        ).all()
        for post in posts:
            _erase(change, post)
    return len(posts)


# ---------------------------------------------------------------- polls


def create_poll(
    board: Board,
    user: User | None,
    question: Any,
    kind: Any = "single",
    options: Any = None,
    results: Any = None,
    open_now: bool = False,
) -> Poll:
    """A draft poll, or an open one with ``open_now``; ``results`` says when participants
    see them (``PollResults``, by default after they have answered)."""
    check_moderator(board, user)
    question = clean_text(question, limit=POLL_QUESTION_MAX, what=_("Вопрос"))
    if kind not in [k.value for k in PollKind]:
        raise InvalidInput(_("Тип опроса: single, multiple или words."))
    if results is None:
        results = PollResults.AFTER_VOTE.value
    if results not in [r.value for r in PollResults]:
        raise InvalidInput(_("Когда видны результаты: after_vote, revealed или always."))
    texts: list[str] = []
    if kind != PollKind.WORDS:
        if not isinstance(options, list):
            raise InvalidInput(_("Укажите варианты ответа списком."))
        texts = [clean_text(o, limit=POLL_OPTION_MAX, what=_("Вариант")) for o in options]
        if not 2 <= len(texts) <= POLL_OPTIONS_MAX:
            raise InvalidInput(_("Нужно от 2 до %(n)s вариантов ответа.", n=POLL_OPTIONS_MAX))
        if len(set(texts)) != len(texts):
            raise InvalidInput(_("Варианты ответа повторяются."))
    with changing(board) as change:
        poll = Poll(
            board_id=board.id,
            question=question,
            kind=kind,
            results=results,
            options=[PollOption(text=t, position=i) for i, t in enumerate(texts)],
        )
        db.session.add(poll)
        db.session.flush()
        _emit_poll(change, poll, None)
    if open_now is True:
        poll = set_poll_status(board, user, poll.id, PollStatus.OPEN.value)
    return poll


def set_poll_status(board: Board, user: User | None, poll_id: Any, status: Any) -> Poll:
    """Open or close a poll (a closed poll may be reopened)."""
    check_moderator(board, user)
    if status not in (PollStatus.OPEN.value, PollStatus.CLOSED.value):
        raise InvalidInput(_("Опрос можно только открыть (open) или закрыть (closed)."))
    with changing(board) as change:
        poll = _get_poll(board, poll_id)
        before = poll.status
        if before == status:
            raise Conflict(_("Опрос уже в этом состоянии."))
        poll.status = status
        if status == PollStatus.OPEN:
            poll.opened_at = utcnow()
        _emit_poll(change, poll, before)
    return poll


def reveal_poll(board: Board, user: User | None, poll_id: Any, revealed: Any = True) -> Poll:
    """Show a poll's results to everybody (or hide them again): «Показать результаты»."""
    check_moderator(board, user)
    if not isinstance(revealed, bool):
        raise InvalidInput(_("revealed — это true или false."))
    with changing(board) as change:
        poll = _get_poll(board, poll_id)
        if poll.results != PollResults.REVEALED:
            raise Conflict(_("Результаты этого опроса и так видны участникам."))
        if poll.revealed == revealed:
            raise Conflict(_("Опрос уже в этом состоянии."))
        poll.revealed = revealed
        _emit_poll(change, poll, poll.status)
    return poll


def delete_poll(board: Board, user: User | None, poll_id: Any) -> None:
    check_moderator(board, user)
    with changing(board) as change:
        poll = _get_poll(board, poll_id)
        before = poll.status
        _emit_poll(change, poll, before, deleted=True)
        db.session.delete(poll)


def _normalize_word(word: Any) -> str:
    text = clean_text(word, limit=WORD_MAX, what=_("Слово"))
    return " ".join(text.lower().replace("ё", "е").split())


def vote(
    board: Board,
    participant: Participant | None,
    poll_id: Any,
    choices: Any = None,
    words: Any = None,
) -> Poll:
    participant = _check_participant(participant, board)
    limits = _vote_limits(_check_id(poll_id, _("опрос")), participant)
    _check_limits(limits)
    with changing(board) as change:
        _check_open(board)
        poll = _get_poll(board, poll_id)
        if poll.status == PollStatus.DRAFT:
            raise NotFound(_("Опрос не найден."))
        if poll.status != PollStatus.OPEN:
            raise Conflict(_("Опрос закрыт: ответы больше не принимаются."))
        if db.session.get(PollVote, (poll.id, participant.id)) is not None:
            raise Conflict(_("Вы уже ответили на этот опрос."))
        if poll.kind == PollKind.WORDS:
            answer = _count_words(poll, words)
        else:
            answer = _count_choices(poll, choices)
        poll.vote_count += 1
        db.session.add(
            PollVote(poll_id=poll.id, participant_id=participant.id, answer=json.dumps(answer))
        )
        db.session.flush()
        _emit_poll(change, poll, poll.status)
    _spend_limits(limits)
    return poll


def _count_choices(poll: Poll, choices: Any) -> list[int]:
    if isinstance(choices, int | str) and not isinstance(choices, bool):
        choices = [choices]
    if not isinstance(choices, list) or not choices:
        raise InvalidInput(_("Выберите вариант ответа."))
    ids = [_check_id(c, _("вариант")) for c in choices]
    if len(set(ids)) != len(ids):
        raise InvalidInput(_("Один вариант выбран дважды."))
    if poll.kind == PollKind.SINGLE and len(ids) != 1:
        raise InvalidInput(_("В этом опросе можно выбрать только один вариант."))
    options = {o.id: o for o in poll.options}
    for option_id in ids:
        if option_id not in options:
            raise InvalidInput(_("Такого варианта ответа нет."))
    for option_id in ids:
        options[option_id].votes += 1
    return sorted(ids)


def _count_words(poll: Poll, words: Any) -> list[str]:
    if isinstance(words, str):
        words = [w for w in re.split(r"[,;\n]", words) if w.strip()]
    if not isinstance(words, list) or not words:
        raise InvalidInput(_("Напишите хотя бы одно слово."))
    if len(words) > WORDS_MAX:
        raise InvalidInput(_("Не больше %(n)s слов или коротких фраз.", n=WORDS_MAX))
    normalized: list[str] = []
    for word in words:
        text = _normalize_word(word)
        if text not in normalized:
            normalized.append(text)
    by_text = {o.text: o for o in poll.options}
    for text in normalized:
        option = by_text.get(text)
        if option is None:
            option = PollOption(text=text, position=len(poll.options), votes=0)
            poll.options.append(option)
            by_text[text] = option
        option.votes += 1
    return normalized


# ---------------------------------------------------------------- summaries


def top_posts(posts: Iterable[Post]) -> list[Post]:
    return sorted(posts, key=lambda p: (not p.pinned, -p.like_count, p.id))


def column_groups(board: Board, posts: Iterable[Post]) -> list[tuple[str, list[Post]]]:
    """Posts by column, in column order (posts of a removed column go last)."""
    groups: dict[int | None, list[Post]] = {c.id: [] for c in board.columns}
    for post in posts:
        groups.setdefault(post.column_id if post.column_id in groups else None, []).append(post)
    titles = {c.id: c.title for c in board.columns}
    return [
        (titles.get(key, _("Без колонки")), items)
        for key, items in groups.items()
        if items or key is not None
    ]
