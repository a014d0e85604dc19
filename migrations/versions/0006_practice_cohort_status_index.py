"""index on practice entries by cohort and status, for a mentor's queue

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 04:40:00.000000

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('practice_entries', schema=None) as batch_op:
        batch_op.create_index('ix_practice_entries_cohort_status', ['cohort_id', 'status', 'submitted_at', 'id'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('practice_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_practice_entries_cohort_status')
