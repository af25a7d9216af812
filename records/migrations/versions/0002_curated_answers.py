"""Curated answers (问答对) staff write for a group of questions, with their clauses.

Revision ID: 0002_curated
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_curated"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "curated_answers",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("question", sa.Text, nullable=False),
        sa.Column("wordings", sa.JSON, nullable=False),
        sa.Column("answer", sa.Text, nullable=False),
        sa.Column("clauses", sa.JSON, nullable=False),
        sa.Column("written_by", sa.String(80), nullable=False),
        sa.Column("written_at", sa.DateTime(), nullable=False),  # naive UTC, see records.models.UTCDateTime
    )


def downgrade() -> None:
    op.drop_table("curated_answers")
