"""placement evaluations: the site supervisor's midterm and final evaluation of the agreed goals

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02 19:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'placement_evaluations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('placement_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('agreement_id', sa.Integer(), nullable=False),
        sa.Column('nonce', sa.String(length=32), nullable=True),
        sa.Column('requested_at', sa.DateTime(), nullable=False),
        sa.Column('submitted_at', sa.DateTime(), nullable=True),
        sa.Column('ratings', sa.JSON(), nullable=False),
        sa.Column('level', sa.Integer(), nullable=True),
        sa.Column('strengths', sa.Text(), nullable=False),
        sa.Column('areas_to_develop', sa.Text(), nullable=False),
        sa.Column('recommendation', sa.Text(), nullable=False),
        sa.Column('trainee_response', sa.Text(), nullable=False),
        sa.Column('responded_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['agreement_id'], ['learning_agreements.id'],
                                name=op.f('fk_placement_evaluations_agreement_id_learning_agreements')),
        sa.ForeignKeyConstraint(['placement_id'], ['placements.id'],
                                name=op.f('fk_placement_evaluations_placement_id_placements'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_placement_evaluations')),
        sa.UniqueConstraint('nonce', name=op.f('uq_placement_evaluations_nonce')),
        sa.UniqueConstraint('placement_id', 'kind', name=op.f('uq_placement_evaluations_placement_id')),
    )


def downgrade():
    op.drop_table('placement_evaluations')
