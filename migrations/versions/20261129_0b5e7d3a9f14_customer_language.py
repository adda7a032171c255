"""customer.language: the language of the customer's emails (issue #20 item 5, B-5)

The language of the customer's last widget request; their emails are written in it (the
merchant's language while it is unknown).

Revision ID: 0b5e7d3a9f14
Revises: f6a2d8c4b1e9
Create Date: 2026-11-29 19:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0b5e7d3a9f14'
down_revision = 'f6a2d8c4b1e9'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('customer') as batch:
        batch.add_column(sa.Column('language', sa.String(length=8), nullable=True))


def downgrade():
    with op.batch_alter_table('customer') as batch:
        batch.drop_column('language')
