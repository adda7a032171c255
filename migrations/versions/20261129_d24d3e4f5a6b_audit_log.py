"""The audit log (#24 item 6, T-9): where each admin acted from, indexes for the log's filters
and keyset pages, and on PostgreSQL a trigger that keeps the table append-only

Revision ID: d24d3e4f5a6b
Revises: e24c0a1b2c3d
Create Date: 2026-11-29 21:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'd24d3e4f5a6b'
down_revision = 'e24c0a1b2c3d'
branch_labels = None
depends_on = None

# Rows are never changed or removed; the two exceptions are the foreign keys' own actions: a
# merchant deleted (its entries go with it) and an admin user deleted (the entry keeps its
# `admin_email`, the id becomes NULL).
APPEND_ONLY = """
CREATE OR REPLACE FUNCTION audit_entry_append_only() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    IF NOT EXISTS (SELECT 1 FROM merchant WHERE id = OLD.merchant_id) THEN
      RETURN OLD;
    END IF;
  ELSIF OLD.admin_user_id IS NOT NULL AND NEW.admin_user_id IS NULL
        AND (NEW.id, NEW.merchant_id, NEW.action, NEW.subject, NEW.detail, NEW.ip_address,
             NEW.created_at)
            IS NOT DISTINCT FROM (OLD.id, OLD.merchant_id, OLD.action, OLD.subject, OLD.detail,
                                  OLD.ip_address, OLD.created_at)
        AND NOT EXISTS (SELECT 1 FROM admin_user WHERE id = OLD.admin_user_id) THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'audit_entry is append-only';
END
$$ LANGUAGE plpgsql
"""


def upgrade():
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ip_address', sa.String(length=45), nullable=True))
        batch_op.create_index('ix_audit_entry_merchant', ['merchant_id', 'id'], unique=False)
        batch_op.create_index('ix_audit_entry_action', ['merchant_id', 'action', 'id'],
                              unique=False)
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(APPEND_ONLY)
        op.execute("DROP TRIGGER IF EXISTS audit_entry_append_only ON audit_entry")
        op.execute("CREATE TRIGGER audit_entry_append_only BEFORE UPDATE OR DELETE ON "
                   "audit_entry FOR EACH ROW EXECUTE FUNCTION audit_entry_append_only()")


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP TRIGGER IF EXISTS audit_entry_append_only ON audit_entry")
        op.execute("DROP FUNCTION IF EXISTS audit_entry_append_only()")
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_entry_action')
        batch_op.drop_index('ix_audit_entry_merchant')
        batch_op.drop_column('ip_address')
