"""Question log, feedback, self-check events, targets, console users and sessions, knowledge-base changes.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_WHEN = sa.DateTime()  # naive UTC, see records.models.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "questions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("asked_at", _WHEN, nullable=False, index=True),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("chat_hash", sa.String(64), nullable=False, index=True),
        sa.Column("user_hash", sa.String(64), nullable=False),
        sa.Column("question", sa.Text, nullable=False),
        sa.Column("answer", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("cited", sa.JSON, nullable=False),
        sa.Column("generation", sa.String(64), nullable=False),
        sa.Column("wording", sa.String(200), nullable=False),
        sa.Column("rating", sa.Integer, nullable=True),
        sa.Column("reason", sa.String(16), nullable=True),
        sa.Column("handled_at", _WHEN, nullable=True),
        sa.Column("handled_by", sa.String(80), nullable=True),
    )
    op.create_index("ix_questions_pending", "questions", ["handled_at", "wording", "status", "rating", "reason", "asked_at"])
    op.create_index("ix_questions_day", "questions", ["day", "status"])
    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("question_id", sa.Integer, sa.ForeignKey("questions.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("user_hash", sa.String(64), nullable=False),
        sa.Column("rating", sa.Integer, nullable=False),
        sa.Column("reason", sa.String(16), nullable=True),
        sa.Column("given_at", _WHEN, nullable=False),
        sa.UniqueConstraint("question_id", "user_hash", name="uq_feedback_once"),
    )
    op.create_index("ix_feedback_given", "feedback", ["given_at", "rating"])
    op.create_table(
        "selfcheck_events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", _WHEN, nullable=False, index=True),
        sa.Column("kind", sa.String(16), nullable=False),
    )
    op.create_table(
        "targets",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("parameter", sa.String(120), nullable=False),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("value", sa.Float, nullable=False),
        sa.Column("doc_id", sa.String(120), nullable=False),
        sa.Column("document", sa.Text, nullable=False),
        sa.Column("doc_number", sa.String(120), nullable=False),
        sa.Column("section", sa.Text, nullable=False),
        sa.Column("quote", sa.Text, nullable=False),
        sa.Column("entered_by", sa.String(80), nullable=False),
        sa.Column("entered_at", _WHEN, nullable=False),
        sa.UniqueConstraint("parameter", "year", name="uq_target_year"),
    )
    op.create_table(
        "console_users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(80), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("failed_logins", sa.Integer, nullable=False),
        sa.Column("locked_until", _WHEN, nullable=True),
        sa.Column("created_at", _WHEN, nullable=False),
    )
    op.create_table(
        "console_sessions",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("console_users.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("csrf", sa.String(64), nullable=False),
        sa.Column("expires_at", _WHEN, nullable=False),
    )
    op.create_table(
        "kb_changes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", _WHEN, nullable=False, index=True),
        sa.Column("actor", sa.String(80), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("doc_ids", sa.JSON, nullable=False),
        sa.Column("generation", sa.String(64), nullable=False),
    )


def downgrade() -> None:
    for table in ("kb_changes", "console_sessions", "console_users", "targets", "selfcheck_events", "feedback"):
        op.drop_table(table)
    op.drop_index("ix_questions_day", "questions")
    op.drop_index("ix_questions_pending", "questions")
    op.drop_table("questions")
