"""counters, and money kept on customer delete (issue #18)

Per-merchant number counters, seeded from each merchant's highest "INV-<digits>" number; invoices,
payments and saved payment methods refuse (RESTRICT) instead of following (CASCADE) the deletion
of their customer; customers can be archived; payments are indexed by their reference.

Revision ID: 9b22db012c24
Revises: 87612e35ebf4
Create Date: 2026-11-29 10:00:00.000000

"""
import re

import sqlalchemy as sa
from alembic import op

import widget_server.core.database

# revision identifiers, used by Alembic.
revision = '9b22db012c24'
down_revision = '87612e35ebf4'
branch_labels = None
depends_on = None

MONEY_TABLES = ('invoice', 'payment', 'payment_method', 'sales_order')
INVOICE_NUMBER = re.compile(r'INV-(\d{1,15})')


def _customer_fk(table: str, ondelete: str) -> None:
    name = f'fk_{table}_customer_id_customer'
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.drop_constraint(name, type_='foreignkey')
        batch_op.create_foreign_key(name, 'customer', ['customer_id'], ['id'],
                                    ondelete=ondelete)


def _seed_invoice_counters() -> None:
    """The next invoice number follows each merchant's highest numeric one, drafts included
    (their numbers were taken from the same sequence before this revision)."""
    conn = op.get_bind()
    highest: dict[int, int] = {}
    for merchant_id, number in conn.execute(sa.text('SELECT merchant_id, number FROM invoice')):
        match = INVOICE_NUMBER.fullmatch(number or '')
        if match:
            highest[merchant_id] = max(highest.get(merchant_id, 0), int(match.group(1)))
    counter = sa.table('counter', sa.column('merchant_id', sa.Integer),
                       sa.column('name', sa.String), sa.column('next_value', sa.BigInteger))
    if highest:
        op.bulk_insert(counter, [{'merchant_id': m, 'name': 'invoice', 'next_value': n + 1}
                                 for m, n in sorted(highest.items())])


def upgrade():
    op.create_table('counter',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('merchant_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('next_value', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchant.id'], name=op.f('fk_counter_merchant_id_merchant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_counter')),
    sa.UniqueConstraint('merchant_id', 'name', name=op.f('uq_counter_merchant_id_name'))
    )
    _seed_invoice_counters()

    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('archived_at', widget_server.core.database.UTCDateTime(), nullable=True))

    for table in MONEY_TABLES:
        _customer_fk(table, 'RESTRICT')

    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.create_index('ix_payment_reference', ['merchant_id', 'reference'], unique=False)


def downgrade():
    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.drop_index('ix_payment_reference')

    for table in MONEY_TABLES:
        _customer_fk(table, 'CASCADE')

    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.drop_column('archived_at')

    op.drop_table('counter')
