"""course documents: module files, the mentors' guide and the course's session plan

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 00:55:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('courses') as batch_op:
        batch_op.add_column(sa.Column('session_plan', sa.JSON(), server_default='[]', nullable=False))
        batch_op.add_column(sa.Column('staff_guide_title', sa.String(length=200), server_default='', nullable=False))
        batch_op.add_column(sa.Column('staff_guide_html', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('staff_guide_toc_html', sa.Text(), server_default='', nullable=False))
    with op.batch_alter_table('modules') as batch_op:
        batch_op.add_column(sa.Column('files', sa.JSON(), server_default='[]', nullable=False))


def downgrade():
    with op.batch_alter_table('modules') as batch_op:
        batch_op.drop_column('files')
    with op.batch_alter_table('courses') as batch_op:
        batch_op.drop_column('staff_guide_toc_html')
        batch_op.drop_column('staff_guide_html')
        batch_op.drop_column('staff_guide_title')
        batch_op.drop_column('session_plan')
