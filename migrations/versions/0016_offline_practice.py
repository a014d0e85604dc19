"""offline practice: the key a phone gives an entry it queued, stored once

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 18:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('practice_entries') as batch_op:
        batch_op.add_column(sa.Column('idempotency_key', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_practice_entries_idempotency_key'), ['idempotency_key'])


def downgrade():
    with op.batch_alter_table('practice_entries') as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_practice_entries_idempotency_key'), type_='unique')
        batch_op.drop_column('idempotency_key')
