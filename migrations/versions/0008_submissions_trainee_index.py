"""covering index on submissions by trainee, in place of the index on trainee_id alone

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28 06:30:00.000000

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.create_index('ix_submissions_trainee_status', ['trainee_id', 'status', 'assignment_id', 'attempt',
                                                                'score'], unique=False)
        batch_op.drop_index('ix_submissions_trainee_id')


def downgrade():
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.create_index('ix_submissions_trainee_id', ['trainee_id'], unique=False)
        batch_op.drop_index('ix_submissions_trainee_status')
