"""Load validated curriculum sources into the database.

The caller commits or rolls back once: a sync with any problem must change nothing.
"""
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from lms.clock import utcnow
from lms.curriculum.loader import Problem, load_curriculum
from lms.curriculum.models import Assignment, Course, Module
from lms.extensions import db
from lms.grading.models import Submission


@dataclass(frozen=True)
class SyncStep:
    """What a sync did to one course or module, for the command line (as text) and the curriculum page (which
    words it in the reader's language)."""
    path: str  # "course" or "course/module"
    state: str  # unchanged, added, updated or removed
    modules: int | None = None  # an unchanged course's module count

    def __str__(self):
        counted = f" ({self.modules} modules)" if self.modules is not None else ""
        return f"{self.path}: {self.state}{counted}"


@dataclass
class SyncResult:
    problems: list = field(default_factory=list)
    changed: list = field(default_factory=list)  # "course/module" of what was written

    @property
    def ok(self):
        return not self.problems


def sync_curriculum(courses_dir, progress=None):
    """Validate courses_dir and load it; returns a SyncResult. Nothing is committed here."""
    existing = {c.slug: c for c in db.session.scalars(select(Course))}
    # Courses whose files hash as in the database are not parsed again, and Markdown is rendered only for
    # the files that changed: rendering is nearly all the time of a sync.
    sources, problems = load_curriculum(courses_dir, render=False,
                                        known_hashes={slug: c.source_hash for slug, c in existing.items()})
    if problems:
        return SyncResult(problems=problems)
    return sync_courses(sources, progress=progress, existing=existing)


def sync_courses(sources, progress=None, existing=None):
    """Write the sources that changed; progress, when given, receives a SyncStep for each course and module."""
    report = progress or (lambda step: None)
    result = SyncResult()
    if existing is None:
        existing = {c.slug: c for c in db.session.scalars(select(Course))}
    for source in sources:
        course = existing.get(source.slug)
        if course is not None and course.source_hash == source.source_hash:
            report(SyncStep(source.slug, "unchanged", source.module_count))
            continue
        _sync_course(course, source, result, report)
    return result


def _sync_course(course, source, result, report):
    if course is None:
        course = Course(slug=source.slug)
        db.session.add(course)
    else:
        # Its modules with their assignments in two queries, not one query per module.
        db.session.scalars(select(Course).where(Course.id == course.id).options(
            selectinload(Course.modules).selectinload(Module.assignments))).all()
    source.render()
    course.title = source.title
    course.language = source.language
    course.overview_html = source.overview_html
    course.certificate = source.certificate
    course.session_plan = source.sessions
    course.staff_guide_title = source.staff_guide_title
    course.staff_guide_html = source.staff_guide_html
    course.staff_guide_toc_html = source.staff_guide_toc_html
    course.source_hash = source.source_hash
    course.synced_at = utcnow()
    result.changed.append(source.slug)

    modules = {m.slug: m for m in course.modules}
    assignments = {a.key: a for m in course.modules for a in m.assignments}
    for module_source in source.modules:
        module = modules.get(module_source.slug)
        if module is not None and module.source_hash == module_source.source_hash \
                and module.position == module_source.position:
            report(SyncStep(f"{source.slug}/{module_source.slug}", "unchanged"))
            continue
        if module is None:
            module = Module(course=course, slug=module_source.slug)
            db.session.add(module)
            modules[module.slug] = module
        _update_module(module, module_source, course, assignments)
        result.changed.append(f"{source.slug}/{module_source.slug}")
        report(SyncStep(f"{source.slug}/{module_source.slug}", "updated" if module.id else "added"))

    kept = {a.key for m in source.modules for a in m.assignments}
    removed = [a for key, a in assignments.items() if key not in kept]
    _remove_assignments(removed, result)
    if not result.ok:
        return
    kept_modules = {m.slug for m in source.modules}
    for slug, module in modules.items():
        if slug not in kept_modules:
            db.session.delete(module)
            result.changed.append(f"{source.slug}/{slug}")
            report(SyncStep(f"{source.slug}/{slug}", "removed"))


def _update_module(module, source, course, assignments):
    source.render()
    module.position = source.position
    module.title = source.title
    module.outcomes = source.outcomes
    module.estimated_minutes = source.estimated_minutes
    module.body_html = source.body_html
    module.toc_html = source.toc_html
    module.practice = source.practice
    module.files = source.files
    module.source_path = source.path
    module.source_hash = source.source_hash
    for assignment_source in source.assignments:
        assignment = assignments.get(assignment_source.key)
        if assignment is None:
            assignment = Assignment(key=assignment_source.key, course=course)
            db.session.add(assignment)
            assignments[assignment.key] = assignment
        assignment.module = module
        assignment.position = assignment_source.position
        assignment.title = assignment_source.title
        assignment.kind = assignment_source.kind
        assignment.prompt_html = assignment_source.prompt_html
        assignment.spec = assignment_source.spec
        assignment.retired = assignment_source.retired


def _remove_assignments(removed, result):
    """Delete assignments gone from the files; refuse it for those with trainees' work."""
    if not removed:
        return
    ids = [a.id for a in removed]
    counts = dict(db.session.execute(
        select(Submission.assignment_id, func.count()).where(Submission.assignment_id.in_(ids))
        .group_by(Submission.assignment_id)).all()) if ids else {}
    for assignment in removed:
        if counts.get(assignment.id):
            result.problems.append(Problem(
                assignment.module.source_path, 1,
                f"assignment '{assignment.key}' was removed but has {counts[assignment.id]} submission(s); "
                f"keep it in the file with 'retired: true'"))
        else:
            db.session.delete(assignment)
