"""partners: practice sites become the programme's partner organisations, on a public map once published

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 18:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

NEW_TEXT = ('district', 'offer_markdown', 'offer_html', 'for_trainees_markdown', 'for_trainees_html',
            'public_phone', 'website')


def upgrade():
    with op.batch_alter_table('practice_sites') as batch_op:
        batch_op.add_column(sa.Column('slug', sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column('district', sa.String(length=100), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('latitude', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('longitude', sa.Float(), nullable=True))
        for name in ('offer_markdown', 'offer_html', 'for_trainees_markdown', 'for_trainees_html'):
            batch_op.add_column(sa.Column(name, sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('public_phone', sa.String(length=40), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('website', sa.String(length=300), nullable=False, server_default=''))
        # Today's sites stay off the map until an administrator adds what the public sees and publishes them.
        batch_op.add_column(sa.Column('published', sa.Boolean(), nullable=False, server_default=sa.false()))
    # Every site keeps its row, id and practice log; its address on the map is partner-<id> until renamed.
    op.execute("UPDATE practice_sites SET slug = 'partner-' || CAST(id AS VARCHAR(20))")
    with op.batch_alter_table('practice_sites') as batch_op:
        batch_op.alter_column('slug', existing_type=sa.String(length=80), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_practice_sites_slug'), ['slug'])
        batch_op.create_index(batch_op.f('ix_practice_sites_published'), ['published'], unique=False)
        for name in NEW_TEXT + ('published',):
            batch_op.alter_column(name, server_default=None)


def downgrade():
    # The kinds added with partners fold back into the nearest kind practice sites had before.
    op.execute("UPDATE practice_sites SET kind = 'school' WHERE kind = 'university'")
    op.execute("UPDATE practice_sites SET kind = 'other' WHERE kind IN ('municipal', 'residents')")
    with op.batch_alter_table('practice_sites') as batch_op:
        batch_op.drop_index(batch_op.f('ix_practice_sites_published'))
        batch_op.drop_constraint(batch_op.f('uq_practice_sites_slug'), type_='unique')
        for name in ('published', 'website', 'public_phone', 'for_trainees_html', 'for_trainees_markdown',
                     'offer_html', 'offer_markdown', 'longitude', 'latitude', 'district', 'slug'):
            batch_op.drop_column(name)
