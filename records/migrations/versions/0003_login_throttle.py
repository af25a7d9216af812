"""Sign-in budgets with backoff (login_throttle) replace the per-account lock (console_users.failed_logins,
locked_until): an anonymous client could lock any account.

Revision ID: 0003
Revises: 0002_curated
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002_curated"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_throttle",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_at", sa.DateTime(), nullable=False),
    )
    with op.batch_alter_table("console_users") as table:
        table.drop_column("failed_logins")
        table.drop_column("locked_until")


def downgrade() -> None:
    with op.batch_alter_table("console_users") as table:
        table.add_column(sa.Column("failed_logins", sa.Integer, nullable=False, server_default="0"))
        table.add_column(sa.Column("locked_until", sa.DateTime(), nullable=True))
    op.drop_table("login_throttle")
