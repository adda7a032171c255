"""email_message.secret_values: the secrets in a queued message, until it is sent (#19)

A temporary password or a link carrying a raw token is part of the message only until the mail
server accepts it: the worker then replaces each listed value by "••••" in the stored subject and
bodies and clears this column. The admin's delivery log shows the masked texts at all times.
Rows queued before this revision have no list (nothing to mask).

Revision ID: 5e0a8c3b7d21
Revises: e2b7c4d91f06
Create Date: 2026-11-29 18:00:00

"""
from alembic import op
import sqlalchemy as sa

from widget_server.core.database import JSONType


revision = '5e0a8c3b7d21'
down_revision = 'e2b7c4d91f06'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('email_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('secret_values', JSONType, nullable=True))


def downgrade():
    with op.batch_alter_table('email_message', schema=None) as batch_op:
        batch_op.drop_column('secret_values')
