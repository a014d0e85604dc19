"""people at scale: the one set-password link each person holds (a new one ends the old)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users') as batch_op:
        batch_op.add_column(sa.Column('password_link_key', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('password_link_at', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('users') as batch_op:
        batch_op.drop_column('password_link_at')
        batch_op.drop_column('password_link_key')
