"""email_proof: six-digit codes proving a guest's address at checkout (#22 slice c)

Only an HMAC of the code and of the client's key are kept; used or spent proofs stay for the
throttle's windows (15 minutes per address, an hour per client).

Revision ID: e7f8a9b0c1d2
Revises: c5d9a1e7f3b2
Create Date: 2026-11-29 18:00:00

"""
from alembic import op
import sqlalchemy as sa

from widget_server.core.database import UTCDateTime


revision = 'e7f8a9b0c1d2'
down_revision = 'c5d9a1e7f3b2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'email_proof',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('merchant_id', sa.Integer(), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=False),
        sa.Column('code_hash', sa.String(length=64), nullable=False),
        sa.Column('client_digest', sa.String(length=64), nullable=False),
        sa.Column('expires_at', UTCDateTime(), nullable=False),
        sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
        sa.Column('used_at', UTCDateTime(), nullable=True),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['merchant_id'], ['merchant.id'],
                                name=op.f('fk_email_proof_merchant_id_merchant'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_email_proof')),
    )
    with op.batch_alter_table('email_proof', schema=None) as batch_op:
        batch_op.create_index('ix_email_proof_merchant_email',
                              ['merchant_id', 'email', 'created_at'], unique=False)
        batch_op.create_index('ix_email_proof_merchant_client',
                              ['merchant_id', 'client_digest', 'created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('email_proof', schema=None) as batch_op:
        batch_op.drop_index('ix_email_proof_merchant_client')
        batch_op.drop_index('ix_email_proof_merchant_email')
    op.drop_table('email_proof')
