"""first week: when a mentor first opened a submission or a practice entry for review (until then the trainee
can withdraw it)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-10 00:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('submissions') as batch_op:
        batch_op.add_column(sa.Column('review_opened_at', sa.DateTime(), nullable=True))
    with op.batch_alter_table('practice_entries') as batch_op:
        batch_op.add_column(sa.Column('review_opened_at', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('practice_entries') as batch_op:
        batch_op.drop_column('review_opened_at')
    with op.batch_alter_table('submissions') as batch_op:
        batch_op.drop_column('review_opened_at')
