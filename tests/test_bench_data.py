"""`flask lms bench-data`: generated programmes with the shapes benchmarks rely on."""
from collections import Counter

from sqlalchemy import func, select

from lms.auth.models import User
from lms.bench_data import SIZES, cohort_sizes
from lms.extensions import db
from lms.grading.models import Submission
from lms.learning.models import Cohort, CohortMentor, ModuleProgress
from lms.practice.models import PracticeEntry, PracticeEntryAudience
from tests.conftest import practice_totals_agree


def test_bench_data_has_realistic_shapes(runner):
    result = runner.invoke(args=["lms", "bench-data", "--size", "XS"])
    assert result.exit_code == 0, result.output
    assert "Generated size XS: 20 trainees, 2 mentors, 200 practice entries, 50 submissions." in result.output

    def count(model):
        return db.session.scalar(select(func.count()).select_from(model))

    assert count(User) == 22 and count(PracticeEntry) == 200 and count(Submission) == 50
    assert count(PracticeEntryAudience) == 200
    assert 0 < count(ModuleProgress) < 20 * 4  # 4 modules; some trainees read all, some none
    assert count(CohortMentor) == count(Cohort) == 1
    statuses = Counter(db.session.scalars(select(PracticeEntry.status)))
    assert statuses["approved"] > 100 and statuses["submitted"] > 0
    per_trainee = sorted(Counter(db.session.scalars(select(PracticeEntry.trainee_id))).values())
    assert per_trainee[-1] >= 3 * per_trainee[len(per_trainee) // 2]  # a long tail of heavy trainees
    assert practice_totals_agree()  # written past the reviews, then totalled
    again = runner.invoke(args=["lms", "bench-data", "--size", "XS"])
    assert again.exit_code == 1 and "already has users" in again.output


def test_m_and_l_have_a_first_cohort_of_300_trainees():
    assert cohort_sizes(SIZES["XS"]) == [20] and cohort_sizes(SIZES["S"]) == [100]
    for name in ("M", "L"):
        sizes = cohort_sizes(SIZES[name])
        assert sizes[0] == 300 and set(sizes[1:]) == {100} and sum(sizes) == SIZES[name].trainees
