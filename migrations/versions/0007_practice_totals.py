"""approved practice totalled per day, audience and trainee, for the programme report and certificate rules

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 06:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('practice_day_totals',
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('activity_type', sa.String(length=40), nullable=False),
    sa.Column('entries', sa.Integer(), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.Column('participants', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['site_id'], ['practice_sites.id'],
                            name=op.f('fk_practice_day_totals_site_id_practice_sites')),
    sa.PrimaryKeyConstraint('date', 'site_id', 'activity_type', name=op.f('pk_practice_day_totals'))
    )
    op.create_table('practice_audience_day_totals',
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('audience', sa.String(length=30), nullable=False),
    sa.Column('entries', sa.Integer(), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.Column('participants', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('date', 'audience', name=op.f('pk_practice_audience_day_totals'))
    )
    op.create_table('practice_trainee_totals',
    sa.Column('trainee_id', sa.Integer(), nullable=False),
    sa.Column('cohort_id', sa.Integer(), nullable=False),
    sa.Column('activity_type', sa.String(length=40), nullable=False),
    sa.Column('entries', sa.Integer(), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohorts.id'], name=op.f('fk_practice_trainee_totals_cohort_id_cohorts')),
    sa.ForeignKeyConstraint(['trainee_id'], ['users.id'], name=op.f('fk_practice_trainee_totals_trainee_id_users')),
    sa.PrimaryKeyConstraint('trainee_id', 'cohort_id', 'activity_type', name=op.f('pk_practice_trainee_totals'))
    )
    op.create_index('ix_practice_trainee_totals_minutes', 'practice_trainee_totals',
                    ['trainee_id', 'cohort_id', 'activity_type', 'minutes'], unique=False)
    # The entries approved so far, totalled as lms/practice/totals.py keeps them from now on.
    op.execute("""
        INSERT INTO practice_day_totals (date, site_id, activity_type, entries, minutes, participants)
        SELECT date, site_id, activity_type, count(*), sum(minutes), sum(participants)
        FROM practice_entries WHERE status = 'approved'
        GROUP BY date, site_id, activity_type""")
    op.execute("""
        INSERT INTO practice_audience_day_totals (date, audience, entries, minutes, participants)
        SELECT e.date, a.audience, count(*), sum(e.minutes), sum(a.participants)
        FROM practice_entries e JOIN practice_entry_audiences a ON a.entry_id = e.id WHERE e.status = 'approved'
        GROUP BY e.date, a.audience""")
    op.execute("""
        INSERT INTO practice_trainee_totals (trainee_id, cohort_id, activity_type, entries, minutes)
        SELECT trainee_id, cohort_id, activity_type, count(*), sum(minutes)
        FROM practice_entries WHERE status = 'approved'
        GROUP BY trainee_id, cohort_id, activity_type""")


def downgrade():
    op.drop_table('practice_trainee_totals')
    op.drop_table('practice_audience_day_totals')
    op.drop_table('practice_day_totals')
