"""invoice (merchant_id, status, due_date, balance_minor): the dashboard's receivables (#24)

`bench/dashboard.py` at a million invoices (a fifth of them open): the ageing's one GROUP BY
scanned the whole table (~150 ms on SQLite here); with this covering index it reads only the
merchant's open invoices' index entries (~20 ms).

Revision ID: e24c0a1b2c3d
Revises: b23b6c1d2e3f
Create Date: 2026-11-29 20:25:00

"""
from alembic import op


revision = 'e24c0a1b2c3d'
down_revision = 'b23b6c1d2e3f'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('invoice') as batch:
        batch.create_index('ix_invoice_merchant_status_due',
                           ['merchant_id', 'status', 'due_date', 'balance_minor'])


def downgrade():
    with op.batch_alter_table('invoice') as batch:
        batch.drop_index('ix_invoice_merchant_status_due')
