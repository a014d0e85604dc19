"""queue covering index: the submissions' trainee index also holds submitted_at and id, for the mentor's queue

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-04 02:10:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None

BEFORE = ['trainee_id', 'status', 'assignment_id', 'attempt', 'score', 'late']


def upgrade():
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.drop_index('ix_submissions_trainee_status')
        batch_op.create_index('ix_submissions_trainee_status', BEFORE + ['submitted_at', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.drop_index('ix_submissions_trainee_status')
        batch_op.create_index('ix_submissions_trainee_status', BEFORE, unique=False)
