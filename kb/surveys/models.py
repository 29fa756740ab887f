"""Surveys: questions in sections, waves (runs of the same questions), responses, answers.

A survey's questions are shared by all its waves, so answers of different waves can be
compared question by question. Once a survey has responses its structure is locked (only
wording may change) — otherwise wave 1 and wave 2 would not answer the same questions.
"""

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import orm as so

from kb.accounts.models import Organization, User
from kb.database import db, utcnow


class QuestionKind(enum.StrEnum):
    SINGLE = "single"  # один вариант
    MULTIPLE = "multiple"  # несколько вариантов
    SCALE = "scale"  # шкала 1–5 или 1–10
    SHORT_TEXT = "short_text"
    LONG_TEXT = "long_text"

    @property
    def has_options(self) -> bool:
        return self in (QuestionKind.SINGLE, QuestionKind.MULTIPLE)

    @property
    def is_text(self) -> bool:
        return self in (QuestionKind.SHORT_TEXT, QuestionKind.LONG_TEXT)


class Survey(db.Model):
    __tablename__ = "surveys"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    title: so.Mapped[str] = so.mapped_column(sa.String(200))
    description: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    anonymous: so.Mapped[bool] = so.mapped_column(default=False)
    # The secret part of the public link (/s/<code>) and its QR code; anonymous surveys only.
    code: so.Mapped[str] = so.mapped_column(sa.String(16), unique=True)
    author_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    results_slug: so.Mapped[str | None] = so.mapped_column(sa.String(255))
    archived: so.Mapped[bool] = so.mapped_column(default=False)
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    updated_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)

    author: so.Mapped[User | None] = so.relationship(lazy="joined")
    sections: so.Mapped[list["Section"]] = so.relationship(
        back_populates="survey", order_by="Section.position", cascade="all, delete-orphan"
    )
    questions: so.Mapped[list["Question"]] = so.relationship(
        back_populates="survey",
        order_by="Question.position",
        cascade="all, delete-orphan",
    )
    waves: so.Mapped[list["Wave"]] = so.relationship(
        back_populates="survey", order_by="Wave.number", cascade="all, delete-orphan"
    )


class Section(db.Model):
    """A titled group of questions; the form shows sections in order."""

    __tablename__ = "survey_sections"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    survey_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("surveys.id", ondelete="CASCADE"), index=True
    )
    position: so.Mapped[int] = so.mapped_column(default=0)
    title: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    description: so.Mapped[str] = so.mapped_column(sa.Text, default="")

    survey: so.Mapped[Survey] = so.relationship(back_populates="sections")
    questions: so.Mapped[list["Question"]] = so.relationship(
        back_populates="section", order_by="Question.position"
    )


class Question(db.Model):
    __tablename__ = "survey_questions"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    survey_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("surveys.id", ondelete="CASCADE"), index=True
    )
    section_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("survey_sections.id", ondelete="CASCADE"), index=True
    )
    # Position within the whole survey (sections keep their own order; questions are
    # numbered through the survey).
    position: so.Mapped[int] = so.mapped_column(default=0)
    kind: so.Mapped[str] = so.mapped_column(sa.String(12))
    text: so.Mapped[str] = so.mapped_column(sa.String(500))
    help: so.Mapped[str] = so.mapped_column(sa.String(1000), default="")
    required: so.Mapped[bool] = so.mapped_column(default=True)
    scale_min: so.Mapped[int] = so.mapped_column(default=1)
    scale_max: so.Mapped[int] = so.mapped_column(default=5)
    label_min: so.Mapped[str] = so.mapped_column(sa.String(80), default="")
    label_max: so.Mapped[str] = so.mapped_column(sa.String(80), default="")

    survey: so.Mapped[Survey] = so.relationship(back_populates="questions")
    section: so.Mapped[Section] = so.relationship(back_populates="questions")
    options: so.Mapped[list["Option"]] = so.relationship(
        back_populates="question", order_by="Option.position", cascade="all, delete-orphan"
    )

    @property
    def kind_enum(self) -> QuestionKind:
        return QuestionKind(self.kind)

    @property
    def scale_values(self) -> list[int]:
        return list(range(self.scale_min, self.scale_max + 1))


class Option(db.Model):
    __tablename__ = "survey_options"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    question_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("survey_questions.id", ondelete="CASCADE"), index=True
    )
    position: so.Mapped[int] = so.mapped_column(default=0)
    text: so.Mapped[str] = so.mapped_column(sa.String(300))

    question: so.Mapped[Question] = so.relationship(back_populates="options")


class Wave(db.Model):
    """One run of a survey. Times are naive UTC; ``closes_at`` None means "until closed"."""

    __tablename__ = "survey_waves"
    __table_args__ = (sa.UniqueConstraint("survey_id", "number"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    survey_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("surveys.id", ondelete="CASCADE"), index=True
    )
    number: so.Mapped[int]
    title: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    opens_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    closes_at: so.Mapped[datetime | None]
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)

    survey: so.Mapped[Survey] = so.relationship(back_populates="waves")

    def is_open(self, now: datetime) -> bool:
        return self.opens_at <= now and (self.closes_at is None or now < self.closes_at)

    @property
    def label(self) -> str:
        return self.title or f"Волна {self.number}"


class Response(db.Model):
    """One person's (or one device's) submitted form in one wave.

    ``user_id`` is set only for signed surveys (one response per person per wave);
    ``device_hash`` only for anonymous ones (an HMAC of a random device id and the wave:
    it stops repeats from one device without telling who answered).
    ``idempotency_key`` makes a resubmission of the same attempt return the stored response.
    """

    __tablename__ = "survey_responses"
    __table_args__ = (
        sa.UniqueConstraint("wave_id", "user_id"),
        sa.UniqueConstraint("wave_id", "device_hash"),
        sa.UniqueConstraint("wave_id", "idempotency_key"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    wave_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("survey_waves.id", ondelete="CASCADE"), index=True
    )
    user_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    organization_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("organizations.id", ondelete="SET NULL"), index=True
    )
    device_hash: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    idempotency_key: so.Mapped[str] = so.mapped_column(sa.String(64))
    submitted_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)

    wave: so.Mapped[Wave] = so.relationship()
    user: so.Mapped[User | None] = so.relationship()
    organization: so.Mapped[Organization | None] = so.relationship()
    answers: so.Mapped[list["Answer"]] = so.relationship(
        back_populates="response", cascade="all, delete-orphan"
    )


class Answer(db.Model):
    """One value: an option (one row per chosen option), a scale number or a text."""

    __tablename__ = "survey_answers"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    response_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("survey_responses.id", ondelete="CASCADE"), index=True
    )
    question_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("survey_questions.id", ondelete="CASCADE"), index=True
    )
    option_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("survey_options.id", ondelete="CASCADE"), index=True
    )
    number: so.Mapped[int | None]
    text: so.Mapped[str | None] = so.mapped_column(sa.Text)

    response: so.Mapped[Response] = so.relationship(back_populates="answers")
