"""The web chat: invitations, browser sessions (dialogue state, transcript, flood stamps), exported documents.

Revision ID: 0004_webchat
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_webchat"
down_revision = "0003"
branch_labels = None
depends_on = None

_WHEN = sa.DateTime()  # naive UTC, see records.models.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "web_invitations",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("created_by", sa.String(80), nullable=False),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.Column("expires_at", _WHEN, nullable=False),
        sa.Column("max_uses", sa.Integer, nullable=False),
        sa.Column("uses", sa.Integer, nullable=False),
        sa.Column("revoked_at", _WHEN, nullable=True),
        sa.Column("revoked_by", sa.String(80), nullable=True),
    )
    op.create_table(
        "web_sessions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("csrf", sa.String(64), nullable=False),
        sa.Column("invitation_id", sa.Integer, sa.ForeignKey("web_invitations.id", ondelete="CASCADE"), nullable=True,
                  index=True),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.Column("expires_at", _WHEN, nullable=False, index=True),
        sa.Column("state", sa.JSON, nullable=False),
        sa.Column("transcript", sa.JSON, nullable=False),
        sa.Column("recent", sa.JSON, nullable=False),
        sa.Column("flood", sa.JSON, nullable=False),
        sa.Column("turns", sa.Integer, nullable=False),
        sa.Column("next_message", sa.Integer, nullable=False),
        sa.Column("claim", sa.String(32), nullable=True),
        sa.Column("claimed_until", _WHEN, nullable=True),
    )
    op.create_table(
        "web_documents",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("token", sa.String(32), nullable=False, unique=True),
        sa.Column("session_id", sa.Integer, sa.ForeignKey("web_sessions.id", ondelete="CASCADE"), nullable=False,
                  index=True),
        sa.Column("filename", sa.String(200), nullable=False),
        sa.Column("content", sa.LargeBinary, nullable=False),
        sa.Column("created_at", _WHEN, nullable=False, index=True),
    )


def downgrade() -> None:
    for table in ("web_documents", "web_sessions", "web_invitations"):
        op.drop_table(table)
