"""covering indexes on practice entries for the programme report and the cohort matrix

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 03:40:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('practice_entries', schema=None) as batch_op:
        batch_op.create_index('ix_practice_entries_report', ['status', 'date', 'activity_type', 'site_id', 'cohort_id', 'minutes', 'participants'], unique=False)
        batch_op.create_index('ix_practice_entries_status_trainee', ['status', 'trainee_id', 'cohort_id', 'activity_type', 'minutes'], unique=False)


def downgrade():
    with op.batch_alter_table('practice_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_practice_entries_status_trainee')
        batch_op.drop_index('ix_practice_entries_report')
