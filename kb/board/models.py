"""Seminars and live boards: columns, participants, posts, likes, comments, polls, event log."""

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import orm as so

from kb.accounts.models import Organization, User
from kb.database import db, utcnow
from kb.pages.models import Space


class SeminarKind(enum.StrEnum):
    SEMINAR = "seminar"
    MASTER_CLASS = "master_class"
    ROUND_TABLE = "round_table"
    FESTIVAL = "festival"
    CONTEST = "contest"


class PostStatus(enum.StrEnum):
    VISIBLE = "visible"
    PENDING = "pending"  # waiting for a moderator (pre-moderated boards)
    HIDDEN = "hidden"  # hidden by a moderator: moderators still see it
    DELETED = "deleted"  # text erased; the row stays for the rate limit and the log


class PollKind(enum.StrEnum):
    SINGLE = "single"
    MULTIPLE = "multiple"
    WORDS = "words"


class PollResults(enum.StrEnum):
    """When participants see a poll's results (moderators always do)."""

    AFTER_VOTE = "after_vote"  # once they have answered, or once the poll is closed
    REVEALED = "revealed"  # when the host shows them (e.g. on the projector); not sent before
    ALWAYS = "always"  # live from the start


class PollStatus(enum.StrEnum):
    DRAFT = "draft"  # seen by moderators only
    OPEN = "open"
    CLOSED = "closed"


class Seminar(db.Model):
    """An event of the network; times are naive UTC, shown in the configured zone."""

    __tablename__ = "seminars"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    title: so.Mapped[str] = so.mapped_column(sa.String(200))
    kind: so.Mapped[str] = so.mapped_column(sa.String(20), default=SeminarKind.SEMINAR.value)
    starts_at: so.Mapped[datetime] = so.mapped_column(index=True)
    ends_at: so.Mapped[datetime]
    description: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    speakers: so.Mapped[str] = so.mapped_column(sa.String(500), default="")
    meeting_url: so.Mapped[str] = so.mapped_column(sa.String(500), default="")
    organization_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("organizations.id", ondelete="SET NULL"), index=True
    )
    space_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("spaces.id", ondelete="SET NULL"), index=True
    )
    created_by_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    updated_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)

    organization: so.Mapped[Organization | None] = so.relationship(lazy="joined")
    space: so.Mapped[Space | None] = so.relationship(lazy="joined")
    created_by: so.Mapped[User | None] = so.relationship()
    boards: so.Mapped[list["Board"]] = so.relationship(
        back_populates="seminar", order_by="Board.id"
    )


class Board(db.Model):
    """A live board. ``seq`` counts its changes; every change takes the next number."""

    __tablename__ = "boards"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    code: so.Mapped[str] = so.mapped_column(sa.String(12), unique=True)
    title: so.Mapped[str] = so.mapped_column(sa.String(200))
    description: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    seminar_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("seminars.id", ondelete="SET NULL"), index=True
    )
    owner_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    anonymous: so.Mapped[bool] = so.mapped_column(default=True)
    moderated: so.Mapped[bool] = so.mapped_column(default=False)
    likes_enabled: so.Mapped[bool] = so.mapped_column(default=True)
    comments_enabled: so.Mapped[bool] = so.mapped_column(default=True)
    locked: so.Mapped[bool] = so.mapped_column(default=False)
    seq: so.Mapped[int] = so.mapped_column(sa.BigInteger, default=0)
    wiki_slug: so.Mapped[str | None] = so.mapped_column(sa.String(255))
    wiki_revision: so.Mapped[int | None]  # the page revision this board saved last
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    updated_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)

    seminar: so.Mapped[Seminar | None] = so.relationship(back_populates="boards")
    owner: so.Mapped[User | None] = so.relationship()
    columns: so.Mapped[list["BoardColumn"]] = so.relationship(
        order_by="BoardColumn.position", cascade="all, delete-orphan", back_populates="board"
    )


class BoardColumn(db.Model):
    __tablename__ = "board_columns"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    board_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("boards.id", ondelete="CASCADE"), index=True
    )
    title: so.Mapped[str] = so.mapped_column(sa.String(100))
    position: so.Mapped[int] = so.mapped_column(default=0)

    board: so.Mapped[Board] = so.relationship(back_populates="columns")


class Participant(db.Model):
    """Somebody who joined a board: a guest known by a token (stored as SHA-256) or a user."""

    __tablename__ = "board_participants"
    __table_args__ = (sa.UniqueConstraint("board_id", "user_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    board_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("boards.id", ondelete="CASCADE"), index=True
    )
    key: so.Mapped[str] = so.mapped_column(sa.String(16), unique=True)  # public, in payloads
    token_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(60), default="")
    user_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)

    user: so.Mapped[User | None] = so.relationship(lazy="joined")


class Post(db.Model):
    __tablename__ = "board_posts"
    __table_args__ = (
        sa.Index("ix_board_posts_participant_created", "participant_id", "created_at"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    board_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("boards.id", ondelete="CASCADE"), index=True
    )
    column_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("board_columns.id", ondelete="SET NULL")
    )
    participant_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("board_participants.id", ondelete="SET NULL")
    )
    author_name: so.Mapped[str] = so.mapped_column(sa.String(60), default="")
    text: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    status: so.Mapped[str] = so.mapped_column(sa.String(10), default=PostStatus.VISIBLE.value)
    pinned: so.Mapped[bool] = so.mapped_column(default=False)
    like_count: so.Mapped[int] = so.mapped_column(default=0)
    edited: so.Mapped[bool] = so.mapped_column(default=False)
    seq: so.Mapped[int] = so.mapped_column(sa.BigInteger, default=0)  # seq of its last change
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    updated_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)

    participant: so.Mapped[Participant | None] = so.relationship(lazy="joined")
    comments: so.Mapped[list["Comment"]] = so.relationship(
        order_by="Comment.id", cascade="all, delete-orphan", back_populates="post"
    )


class Like(db.Model):
    __tablename__ = "board_likes"

    post_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("board_posts.id", ondelete="CASCADE"), primary_key=True
    )
    participant_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("board_participants.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)


class Comment(db.Model):
    __tablename__ = "board_comments"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    post_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("board_posts.id", ondelete="CASCADE"), index=True
    )
    participant_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("board_participants.id", ondelete="SET NULL"), index=True
    )
    author_name: so.Mapped[str] = so.mapped_column(sa.String(60), default="")
    text: so.Mapped[str] = so.mapped_column(sa.Text)
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)

    post: so.Mapped[Post] = so.relationship(back_populates="comments")
    participant: so.Mapped[Participant | None] = so.relationship(lazy="joined")


class Poll(db.Model):
    __tablename__ = "board_polls"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    board_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("boards.id", ondelete="CASCADE"), index=True
    )
    question: so.Mapped[str] = so.mapped_column(sa.String(300))
    kind: so.Mapped[str] = so.mapped_column(sa.String(10), default=PollKind.SINGLE.value)
    status: so.Mapped[str] = so.mapped_column(sa.String(10), default=PollStatus.DRAFT.value)
    # polls made before results could be hidden showed them to everybody: "always"
    results: so.Mapped[str] = so.mapped_column(
        sa.String(12), default=PollResults.AFTER_VOTE.value, server_default="always"
    )
    revealed: so.Mapped[bool] = so.mapped_column(default=False, server_default=sa.false())
    vote_count: so.Mapped[int] = so.mapped_column(default=0)
    seq: so.Mapped[int] = so.mapped_column(sa.BigInteger, default=0)
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    opened_at: so.Mapped[datetime | None]

    options: so.Mapped[list["PollOption"]] = so.relationship(
        order_by="PollOption.position", cascade="all, delete-orphan"
    )


class PollOption(db.Model):
    __tablename__ = "board_poll_options"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    poll_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("board_polls.id", ondelete="CASCADE"), index=True
    )
    text: so.Mapped[str] = so.mapped_column(sa.String(200))
    position: so.Mapped[int] = so.mapped_column(default=0)
    votes: so.Mapped[int] = so.mapped_column(default=0)


class PollVote(db.Model):
    """One answer per participant and poll; ``answer`` holds option ids or words (JSON)."""

    __tablename__ = "board_poll_votes"

    poll_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("board_polls.id", ondelete="CASCADE"), primary_key=True
    )
    participant_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("board_participants.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    answer: so.Mapped[str] = so.mapped_column(sa.Text, default="[]")
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)


class BoardEvent(db.Model):
    """The board's change log: what was broadcast for each ``seq``, per audience.

    One change has one ``seq`` and up to three rows: ``all`` (everyone), ``moderators``
    (their view when it differs) and ``participant`` (the author's own view of a post
    that the public cannot see). A reconnecting client replays the rows meant for it.
    """

    __tablename__ = "board_events"
    __table_args__ = (sa.Index("ix_board_events_board_seq", "board_id", "seq"),)

    id: so.Mapped[int] = so.mapped_column(
        sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True
    )
    board_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("boards.id", ondelete="CASCADE"))
    seq: so.Mapped[int] = so.mapped_column(sa.BigInteger)
    audience: so.Mapped[str] = so.mapped_column(sa.String(12), default="all")
    participant_id: so.Mapped[int | None]
    name: so.Mapped[str] = so.mapped_column(sa.String(30))
    payload: so.Mapped[str] = so.mapped_column(sa.Text)
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
