"""Merging duplicate customers (#23 items 4 and 5, W-10): a merged record points at its
survivor, every record keeps a duplicate key (folded name and phone digits) for the list's
hints, and an audit_entry table records who merged what

Revision ID: c23c7d2e3f40
Revises: d1e2f3a4b5c6
Create Date: 2026-11-29 20:00:00

"""
from alembic import op
import sqlalchemy as sa

from widget_server.core.database import JSONType, UTCDateTime
from widget_server.customers.matching import duplicate_key


revision = 'c23c7d2e3f40'
down_revision = 'd1e2f3a4b5c6'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('merged_into_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('duplicate_key', sa.String(length=200), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_customer_merged_into_id_customer'),
                                    'customer', ['merged_into_id'], ['id'])
        batch_op.create_index('ix_customer_duplicate_key', ['merchant_id', 'duplicate_key'],
                              unique=False)
    customer = sa.table('customer', sa.column('id', sa.Integer()),
                        sa.column('first_name', sa.String()), sa.column('last_name', sa.String()),
                        sa.column('phone', sa.String()), sa.column('duplicate_key', sa.String()))
    conn = op.get_bind()
    rows = conn.execute(sa.select(customer.c.id, customer.c.first_name, customer.c.last_name,
                                  customer.c.phone).where(customer.c.phone != '')).all()
    for row_id, first, last, phone in rows:
        key = duplicate_key(first, last, phone)
        if key:
            conn.execute(customer.update().where(customer.c.id == row_id)
                         .values(duplicate_key=key))
    op.create_table(
        'audit_entry',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('merchant_id', sa.Integer(), nullable=False),
        sa.Column('admin_user_id', sa.Integer(), nullable=True),
        sa.Column('action', sa.String(length=60), nullable=False),
        sa.Column('subject', sa.String(length=80), nullable=False),
        sa.Column('detail', JSONType, nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['admin_user_id'], ['admin_user.id'],
                                name=op.f('fk_audit_entry_admin_user_id_admin_user'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['merchant_id'], ['merchant.id'],
                                name=op.f('fk_audit_entry_merchant_id_merchant'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_entry')),
    )
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.create_index('ix_audit_entry_subject', ['merchant_id', 'subject', 'id'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_entry_subject')
    op.drop_table('audit_entry')
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.drop_index('ix_customer_duplicate_key')
        batch_op.drop_constraint(batch_op.f('fk_customer_merged_into_id_customer'),
                                 type_='foreignkey')
        batch_op.drop_column('duplicate_key')
        batch_op.drop_column('merged_into_id')
