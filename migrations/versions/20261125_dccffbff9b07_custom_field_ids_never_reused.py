"""custom field ids never reused

Revision ID: dccffbff9b07
Revises: f4bdf6ef4f62
Create Date: 2026-11-25 10:56:37.305975

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy import Text

import widget_server.core.database


# revision identifiers, used by Alembic.
revision = 'dccffbff9b07'
down_revision = 'f4bdf6ef4f62'
branch_labels = None
depends_on = None


def upgrade():
    # SQLite reuses the highest rowid after a delete unless the table says AUTOINCREMENT; the
    # table must be rebuilt for that. PostgreSQL sequences never reuse ids: nothing to do.
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("custom_field_definition", recreate="always",
                                  table_kwargs={"sqlite_autoincrement": True}):
            pass


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("custom_field_definition", recreate="always",
                                  table_kwargs={"sqlite_autoincrement": False}):
            pass
