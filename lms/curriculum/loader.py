"""Read and validate the curriculum in courses/ (plain Python, no Flask).

load_curriculum() returns every course it could read and every problem it found, each problem as
`path:line: message`, so an author sees all mistakes at once instead of fixing them one by one.

Rendering Markdown is most of the cost of loading, so a course or module renders its text only when asked
(`render()`): the sync asks only for the files whose hash changed. Given the hashes the database holds, a
course whose files did not change is not parsed at all (`UnchangedCourse`).
"""
import hashlib
import operator
import re
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import frontmatter
import yaml

from lms.practice.activities import ACTIVITY_TYPES, AUDIENCES
from lms.rendering import RENDERER_VERSION, render_markdown
from lms.schedule.kinds import SESSION_KINDS

# libyaml when it is installed: the pure-Python parser took half the time of loading a course.
FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# A course's hash covers the rules that checked it (this file and the activity codes), so that files which
# did not change are checked again, not skipped, once the rules change.
RULES = hashlib.sha256(Path(__file__).read_bytes()
                      + repr((ACTIVITY_TYPES, AUDIENCES, SESSION_KINDS)).encode()).digest()
MODULE_FILE = re.compile(r"^(\d{2})-([a-z0-9][a-z0-9-]*)\.md$")
STABLE_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")
KINDS = ("text", "file", "quiz")

COURSE_KEYS = {"title", "slug", "language", "certificate", "sessions"}
CERTIFICATE_KEYS = {"required_assignments", "practice_hours", "min_activity_types", "attendance", "placement_evaluation"}
MODULE_KEYS = {"title", "outcomes", "estimated_minutes", "assignments", "practice", "files"}
ASSIGNMENT_KEYS = {"id", "title", "kind", "prompt", "rubric", "pass_score", "questions", "attempts",
                   "counts", "retired", "due_week", "words"}
MAX_DUE_WEEK = 104
# A written answer's expected length, `words: 1000-1500`: a range of whole numbers; an answer holds at most 50,000
# characters, about 7,000 Russian words.
WORDS_RANGE = re.compile(r"^\s*(\d{1,6})\s*[-–]\s*(\d{1,6})\s*$")
MAX_WORDS = 7000
# Quiz keys must not give themselves away (see courses/README.md): the keyed option may be the longest in at most
# this share of a course's questions, and each of the positions A-D must be keyed in a share within these bounds.
LONGEST_KEY_SHARE = 0.30
KEY_POSITION_SHARES = (0.15, 0.35)
CRITERION_KEYS = {"criterion", "description", "points", "levels", "critical"}
QUESTION_KEYS = {"id", "text", "options", "answer", "explanation"}
PRACTICE_KEYS = {"id", "title", "activity_types", "audiences", "min_hours", "description"}
FILE_KEYS = {"path", "title"}
SESSION_KEYS = {"kind", "title", "week", "day", "start", "end", "module", "every_weeks", "until_week", "note"}
TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
# The mentors' guide: a staff-only page of the course, beside course.md.
STAFF_GUIDE = "mentors-guide.md"
# Module slugs that would hide a page of the course.
RESERVED_SLUGS = {"files", "mentors-guide"}
# Documents a module offers for download, from the course's files/ folder: suffix -> (magic bytes, label, MIME type).
ZIP = b"PK\x03\x04"
COURSE_FILE_TYPES = {
    ".pdf": (b"%PDF-", "PDF", "application/pdf"),
    ".docx": (ZIP, "DOCX", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ".odt": (ZIP, "ODT", "application/vnd.oasis.opendocument.text"),
    ".xlsx": (ZIP, "XLSX", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ".ods": (ZIP, "ODS", "application/vnd.oasis.opendocument.spreadsheet"),
}
MAX_COURSE_FILE = 10 * 1024 * 1024


@dataclass(frozen=True)
class Problem:
    path: str
    line: int
    message: str

    def __str__(self):
        return f"{self.path}:{self.line}: {self.message}"


@dataclass
class AssignmentSource:
    key: str
    title: str
    kind: str
    prompt_html: str
    spec: dict
    retired: bool
    position: int


@dataclass
class ModuleSource:
    slug: str
    position: int
    title: str
    outcomes: list
    estimated_minutes: int
    body_html: str
    toc_html: str
    practice: list
    assignments: list
    path: str
    source_hash: str
    files: list = field(default_factory=list)
    body_markdown: str = ""
    id_lines: list = field(default_factory=list, repr=False)  # (id, line) for the uniqueness check
    pending: list = field(default_factory=list, repr=False)  # Markdown not rendered yet, see render()

    def render(self):
        """Fill in the HTML of the body, the prompts, the quiz explanations and the practice tasks."""
        _render(self.pending)
        return self

    def set_body_html(self, rendered):
        self.body_html, self.toc_html = rendered


@dataclass
class CourseSource:
    slug: str
    title: str
    language: str
    overview_html: str
    certificate: dict
    path: str
    source_hash: str
    modules: list = field(default_factory=list)
    sessions: list = field(default_factory=list)
    staff_guide_title: str = ""
    staff_guide_html: str = ""
    staff_guide_toc_html: str = ""
    pending: list = field(default_factory=list, repr=False)

    def set_staff_guide(self, rendered):
        self.staff_guide_html, self.staff_guide_toc_html = rendered

    def render(self):
        """Fill in overview_html; each module renders its own text."""
        _render(self.pending)
        return self

    @property
    def module_count(self):
        return len(self.modules)


@dataclass
class UnchangedCourse:
    """A course folder whose files hash to what the database holds: valid when it was synced, not parsed again."""
    slug: str
    path: str
    source_hash: str
    module_count: int

    def render(self):
        return self


@dataclass(frozen=True)
class QuizCues:
    """How a course's quiz keys could be guessed without knowing the answer: by length and by position."""
    questions: int
    longest: float
    positions: dict  # "A".."D" -> share of questions keyed there

    def warnings(self):
        found = []
        if self.questions and self.longest > LONGEST_KEY_SHARE:
            found.append(f"the keyed answer is the longest option in {self.longest:.0%} of questions "
                         f"(at most {LONGEST_KEY_SHARE:.0%})")
        low, high = KEY_POSITION_SHARES
        for letter, share in self.positions.items():
            if self.questions and not low <= share <= high:
                found.append(f"option {letter} is keyed in {share:.0%} of questions ({low:.0%}-{high:.0%})")
        return found

    def __str__(self):
        shares = ", ".join(f"{letter} {share:.0%}" for letter, share in self.positions.items())
        return f"{self.questions} quiz questions: key longest in {self.longest:.0%}; key position {shares}"


def quiz_cues(course):
    """QuizCues over the active quizzes' single-answer questions; ties for the longest option count as longest."""
    keyed = [(question["options"], question["answers"][0]) for module in course.modules
             for assignment in module.assignments if assignment.kind == "quiz" and not assignment.retired
             for question in assignment.spec["questions"] if len(question["answers"]) == 1]
    total = len(keyed) or 1
    longest = sum(len(key) >= max(map(len, options)) for options, key in keyed)
    positions = {letter: sum(options.index(key) == i for options, key in keyed) / total
                 for i, letter in enumerate("ABCD")}
    return QuizCues(questions=len(keyed), longest=longest / total, positions=positions)


def _render(pending):
    for text, with_toc, store in pending:
        store(render_markdown(text, with_toc=with_toc))
    pending.clear()


class SourceFile:
    """One Markdown file with front matter, and the file line of every YAML key for messages."""

    def __init__(self, path, display_path, problems, raw=None):
        self.display_path = display_path
        self.problems = problems
        self.raw = Path(path).read_bytes() if raw is None else raw
        self.meta, self.body, self._lines = None, "", {}
        self.pending = []
        text = self.raw.decode("utf-8-sig", errors="replace")
        handler = frontmatter.YAMLHandler()
        if not handler.detect(text):
            self.error((), "the file must start with YAML front matter between '---' lines")
            return
        try:
            yaml_text, self.body = handler.split(text)
        except ValueError:
            self.error((), "the front matter has no closing '---' line")
            return
        offset = text[: text.index(yaml_text)].count("\n") if yaml_text else 1
        try:
            node, meta = _parse_yaml(yaml_text)
        except yaml.YAMLError as exc:
            error = _python_yaml_error(yaml_text) or exc
            mark = getattr(error, "problem_mark", None)
            line = offset + mark.line + 1 if mark else 1
            self.problems.append(Problem(display_path, line, f"YAML error: {getattr(error, 'problem', error)}"))
            return
        if not isinstance(meta, dict):
            self.error((), "the front matter must be a set of 'key: value' lines")
            return
        self.meta = meta
        self._index(node, (), offset)

    def _index(self, node, path, offset):
        self._lines[path] = node.start_mark.line + offset + 1
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                key_path = path + (key_node.value,)
                self._index(value_node, key_path, offset)
                self._lines[key_path] = key_node.start_mark.line + offset + 1
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                self._index(item, path + (i,), offset)

    def later(self, text, store, with_toc=False):
        """Render text with store(html) when the file's owner is rendered; see ModuleSource.render()."""
        self.pending.append((text, with_toc, store))

    def line(self, path):
        while path and path not in self._lines:
            path = path[:-1]
        return self._lines.get(path, 1)

    def error(self, path, message):
        self.problems.append(Problem(self.display_path, self.line(path), message))

    def field_sets(self, items, key, list_message, item_message):
        """(path, item) for each set of fields in the list under `key`, reporting a value that is not a list and
        each entry that is not a set of fields."""
        if not isinstance(items, list):
            self.error((key,), list_message)
            return
        for i, item in enumerate(items):
            if isinstance(item, dict):
                yield (key, i), item
            else:
                self.error((key, i), item_message)

    def check_keys(self, mapping, allowed, path):
        for key in mapping:
            if key not in allowed:
                self.error(path + (key,), f"unknown field '{key}' (allowed: {', '.join(sorted(allowed))})")

    def require_text(self, mapping, key, path):
        value = mapping.get(key)
        if not isinstance(value, str) or not value.strip():
            where = path + (key,) if key in mapping else path
            self.error(where, f"'{key}' is required and must be text")
            return ""
        return value.strip()

    def require_int(self, mapping, key, path, minimum=0):
        value = mapping.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            where = path + (key,) if key in mapping else path
            self.error(where, f"'{key}' is required and must be a whole number of at least {minimum}")
            return None
        return value


def _parse_yaml(text):
    """(node with line numbers, data) from one parse; the data is what yaml.safe_load would return."""
    loader = FAST_LOADER(text)
    try:
        node = loader.get_single_node()
        return node, None if node is None else loader.construct_document(node)
    finally:
        loader.dispose()


def _python_yaml_error(text):
    """libyaml words its errors differently: the pure-Python parser's error, as the messages always said."""
    try:
        yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        return exc
    return None


def load_curriculum(courses_dir, render=True, known_hashes=None):
    """Return ([CourseSource], [Problem]) for every course folder in courses_dir.

    With render=False the HTML fields stay empty until the course's or module's render() is called.
    known_hashes maps a course slug to the source_hash the database holds for it: a course folder of that name
    whose files still hash to it comes back as an UnchangedCourse, checked for file names only.
    """
    courses_dir = Path(courses_dir)
    problems = []
    courses = []
    if not courses_dir.is_dir():
        return [], [Problem(str(courses_dir), 1, "the curriculum folder does not exist")]
    for course_dir in sorted(p for p in courses_dir.iterdir() if p.is_dir() and p.name[0] not in "._"):
        course = _load_course(course_dir, courses_dir.parent, problems, known_hashes or {})
        if course:
            courses.append(course)
    seen = {}
    for course in courses:
        if course.slug in seen:
            problems.append(Problem(course.path, 1, f"course slug '{course.slug}' is already used by "
                                                    f"{seen[course.slug]}"))
        seen.setdefault(course.slug, course.path)
    if render:
        for course in courses:
            course.render()
            for module in getattr(course, "modules", ()):
                module.render()
    return courses, problems


def _display(path, root):
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def _module_files(course_dir, root):
    """[(path, display path, number, slug, raw bytes or a Problem about the file name)] in file-name order."""
    files, positions = [], {}
    for path in sorted(course_dir.glob("*.md")):
        if path.name in ("course.md", STAFF_GUIDE):
            continue
        display = _display(path, root)
        match = MODULE_FILE.match(path.name)
        if not match:
            files.append((path, display, None, None, Problem(
                display, 1, "a module file name must look like 'NN-module-slug.md' "
                            "(two digits, latin lowercase letters, digits and hyphens)")))
            continue
        number = int(match.group(1))
        if match.group(2) in RESERVED_SLUGS:
            files.append((path, display, None, None, Problem(
                display, 1, f"'{match.group(2)}' cannot be a module slug: the course has a page of that name")))
            continue
        if number in positions:
            files.append((path, display, None, None, Problem(
                display, 1, f"module number {match.group(1)} is already used by {positions[number]}")))
            continue
        positions[number] = display
        files.append((path, display, number, match.group(2), path.read_bytes()))
    return files


def _load_course(course_dir, root, problems, known_hashes):
    course_path = course_dir / "course.md"
    if not course_path.exists():
        problems.append(Problem(_display(course_dir, root), 1, "course.md is missing"))
        return None
    before = len(problems)
    raw = course_path.read_bytes()
    files = _module_files(course_dir, root)
    readable = [f for f in files if not isinstance(f[-1], Problem)]
    guide_path = course_dir / STAFF_GUIDE
    guide_raw = guide_path.read_bytes() if guide_path.is_file() else None
    digest = hashlib.sha256(RULES + RENDERER_VERSION.encode() + raw)
    for path, *_, content in readable:
        digest.update(path.name.encode() + b"\0" + content)
    digest.update(b"\0guide\0" + (guide_raw or b""))
    for path in sorted((course_dir / "files").rglob("*")):
        if path.is_file():
            digest.update(str(path.relative_to(course_dir)).encode() + b"\0" + path.read_bytes())
    source_hash = digest.hexdigest()
    if known_hashes.get(course_dir.name) == source_hash and len(readable) == len(files):
        # The database holds these very files, checked by these very rules when they were synced.
        return UnchangedCourse(slug=course_dir.name, path=_display(course_path, root), source_hash=source_hash,
                               module_count=len(files))

    source = SourceFile(course_path, _display(course_path, root), problems, raw)
    modules = []
    for path, display, number, slug, content in files:
        if isinstance(content, Problem):
            problems.append(content)
            continue
        module = _load_module(path, display, number, slug, problems, content)
        if module:
            modules.append(module)

    meta = source.meta
    if meta is None:
        return None
    source.check_keys(meta, COURSE_KEYS, ())
    title = source.require_text(meta, "title", ())
    slug = source.require_text(meta, "slug", ())
    language = source.require_text(meta, "language", ())
    if slug and slug != course_dir.name:
        source.error(("slug",), f"slug '{slug}' must match the folder name '{course_dir.name}'")
    if not modules and len(problems) == before:
        source.error((), "the course has no modules (files named 'NN-module-slug.md')")

    _check_ids(modules, problems)
    # Required ids can only be checked against a complete course; otherwise one broken module
    # would also be reported as every requirement that points into it.
    certificate = _load_certificate(source, meta.get("certificate"), modules,
                                    check_ids=len(modules) == len(readable))
    sessions = _load_sessions(source, meta.get("sessions", []), {m.slug for m in modules})
    guide = SourceFile(guide_path, _display(guide_path, root), problems, guide_raw) if guide_raw is not None else None
    guide_title = ""
    if guide is not None and guide.meta is not None:
        guide.check_keys(guide.meta, {"title"}, ())
        guide_title = guide.require_text(guide.meta, "title", ())
    if len(problems) > before:
        return None
    course = CourseSource(slug=slug, title=title, language=language, overview_html="", certificate=certificate,
                          path=source.display_path, source_hash=source_hash, modules=modules, sessions=sessions,
                          staff_guide_title=guide_title)
    source.later(source.body, partial(setattr, course, "overview_html"))
    if guide is not None:
        source.later(guide.body, course.set_staff_guide, with_toc=True)
    course.pending = source.pending
    return course


def _load_sessions(source, sessions, module_slugs):
    """The cohort plan of course.md: sessions by week of the cohort, from which a cohort's schedule is made."""
    plan = []
    for path, item in source.field_sets(sessions, "sessions", "'sessions' must be a list of sessions",
                                        "each session needs 'kind', 'title', 'week', 'day', 'start' and 'end'"):
        source.check_keys(item, SESSION_KEYS, path)
        before = len(source.problems)
        if item.get("kind") not in SESSION_KINDS:
            source.error(path + ("kind",) if "kind" in item else path,
                         f"'kind' must be one of: {', '.join(SESSION_KINDS)}")
        title = source.require_text(item, "title", path)
        week = source.require_int(item, "week", path, minimum=1)
        day = source.require_int(item, "day", path, minimum=1)
        if day is not None and day > 7:
            source.error(path + ("day",), "'day' is the day of the week: 1 (Monday) to 7 (Sunday)")
        times = [item.get(key) for key in ("start", "end")]
        for key, value in zip(("start", "end"), times, strict=True):
            if not isinstance(value, str) or not TIME.match(value):
                source.error(path + (key,) if key in item else path, f"'{key}' must be a time as \"HH:MM\"")
        if all(isinstance(v, str) and TIME.match(v) for v in times) and times[1] <= times[0]:
            source.error(path + ("end",), "'end' must be after 'start'")
        module = item.get("module")
        if module is not None and module not in module_slugs:
            source.error(path + ("module",), f"module '{module}' is not a module of this course")
        every = item.get("every_weeks")
        until = item.get("until_week")
        if (every is None) != (until is None):
            source.error(path, "a repeated session needs both 'every_weeks' and 'until_week'")
        elif every is not None:
            if isinstance(every, bool) or not isinstance(every, int) or not 1 <= every <= 8:
                source.error(path + ("every_weeks",), "'every_weeks' must be a whole number from 1 to 8")
            elif isinstance(until, bool) or not isinstance(until, int) or not (week or 0) < until <= MAX_DUE_WEEK:
                source.error(path + ("until_week",), f"'until_week' must be after 'week' and at most {MAX_DUE_WEEK}")
        note = item.get("note") or ""
        if not isinstance(note, str):
            source.error(path + ("note",), "'note' must be text")
        if len(source.problems) > before:
            continue
        plan.append({"kind": item["kind"], "title": title, "week": week, "day": day, "start": times[0],
                     "end": times[1], "module": module, "every_weeks": every, "until_week": until,
                     "note": note.strip()})
    return plan


def _check_ids(modules, problems):
    """Assignment and practice-task ids are one namespace per course: each must be unique."""
    seen = {}
    for module in modules:
        for key, line in module.id_lines:
            if key in seen:
                problems.append(Problem(module.path, line, f"id '{key}' is already used in {seen[key]}"))
            else:
                seen[key] = module.path


def _load_certificate(source, certificate, modules, check_ids):
    if certificate is None:
        return {}
    path = ("certificate",)
    if not isinstance(certificate, dict):
        source.error(path, "'certificate' must be a set of requirements")
        return {}
    source.check_keys(certificate, CERTIFICATE_KEYS, path)
    known = {a.key for m in modules for a in m.assignments if not a.retired}
    required = certificate.get("required_assignments", [])
    if not isinstance(required, list):
        source.error(path + ("required_assignments",), "'required_assignments' must be a list of ids")
        required = []
    for i, key in enumerate(required):
        if check_ids and key not in known:
            source.error(path + ("required_assignments", i),
                         f"required assignment '{key}' is not an active assignment of this course")
    hours = certificate.get("practice_hours", 0)
    if isinstance(hours, bool) or not isinstance(hours, int | float) or hours < 0:
        source.error(path + ("practice_hours",), "'practice_hours' must be a number of at least 0")
    if "min_activity_types" in certificate:
        value = certificate["min_activity_types"]
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= len(ACTIVITY_TYPES):
            source.error(path + ("min_activity_types",),
                         f"'min_activity_types' must be a whole number from 0 to {len(ACTIVITY_TYPES)}")
    if "attendance" in certificate:
        share = certificate["attendance"]
        if isinstance(share, bool) or not isinstance(share, int | float) or not 0 < share <= 1:
            source.error(path + ("attendance",), "'attendance' must be a share of sessions from 0 to 1, e.g. 0.8")
    if "placement_evaluation" in certificate:
        level = certificate["placement_evaluation"]
        if isinstance(level, bool) or not isinstance(level, int) or not 1 <= level <= 4:
            source.error(path + ("placement_evaluation",),
                         "'placement_evaluation' must be the lowest level of the final evaluation, from 1 to 4")
    return certificate


def _load_module(path, display, number, slug, problems, raw=None):
    before = len(problems)
    source = SourceFile(path, display, problems, raw)
    meta = source.meta
    if meta is None:
        return None
    source.check_keys(meta, MODULE_KEYS, ())
    title = source.require_text(meta, "title", ())
    outcomes = meta.get("outcomes")
    if not isinstance(outcomes, list) or not outcomes or not all(
            isinstance(o, str) and o.strip() for o in outcomes):
        source.error(("outcomes",) if "outcomes" in meta else (),
                     "'outcomes' is required and must be a list of texts")
        outcomes = []
    minutes = source.require_int(meta, "estimated_minutes", (), minimum=1)

    assignments, id_lines = [], []
    items = meta.get("assignments", [])
    if not isinstance(items, list):
        source.error(("assignments",), "'assignments' must be a list")
        items = []
    for i, item in enumerate(items):
        assignment = _load_assignment(source, item, ("assignments", i), i)
        if assignment:
            assignments.append(assignment)
            id_lines.append((assignment.key, source.line(("assignments", i, "id"))))

    practice = []
    tasks = meta.get("practice", [])
    if not isinstance(tasks, list):
        source.error(("practice",), "'practice' must be a list")
        tasks = []
    for i, item in enumerate(tasks):
        task = _load_practice_task(source, item, ("practice", i))
        if task:
            practice.append(task)
            id_lines.append((task["id"], source.line(("practice", i, "id"))))

    files, digest = _load_files(source, meta.get("files", []), Path(path).parent)
    if len(problems) > before:
        return None
    module = ModuleSource(slug=slug, position=number, title=title, outcomes=[o.strip() for o in outcomes],
                          estimated_minutes=minutes, body_html="", toc_html="",
                          practice=practice, assignments=assignments, path=display,
                          source_hash=hashlib.sha256(RENDERER_VERSION.encode() + source.raw + digest).hexdigest(),
                          files=files, body_markdown=source.body, id_lines=id_lines)
    source.later(source.body, module.set_body_html, with_toc=True)
    module.pending = source.pending
    return module


def _load_files(source, items, course_dir):
    """([{"name", "title", "format", "size"}], digest of their bytes) for the documents a module offers; each must
    be a file of an allowed type and size inside the course's files/ folder."""
    folder = (course_dir / "files").resolve()
    files, digest = [], hashlib.sha256()
    for path, item in source.field_sets(items, "files", "'files' must be a list of documents with 'path' and 'title'",
                                        "each file needs 'path' (files/...) and 'title'"):
        source.check_keys(item, FILE_KEYS, path)
        title = source.require_text(item, "title", path)
        relative = item.get("path")
        if not isinstance(relative, str) or not relative.startswith("files/") or "\\" in relative:
            source.error(path + ("path",) if "path" in item else path,
                         "'path' is required: a file in the course's files/ folder, e.g. files/consent.docx")
            continue
        target = (course_dir / relative).resolve()
        if not target.is_relative_to(folder) or target == folder:
            source.error(path + ("path",), f"'{relative}' is outside the course's files/ folder")
            continue
        kind = COURSE_FILE_TYPES.get(target.suffix.lower())
        if kind is None:
            source.error(path + ("path",), f"'{relative}': only {', '.join(COURSE_FILE_TYPES)} files can be offered")
            continue
        if not target.is_file():
            source.error(path + ("path",), f"'{relative}' does not exist")
            continue
        content = target.read_bytes()
        if not content or len(content) > MAX_COURSE_FILE:
            source.error(path + ("path",), f"'{relative}' must be 1 byte to {MAX_COURSE_FILE // 1024 // 1024} MB")
            continue
        if not content.startswith(kind[0]):
            source.error(path + ("path",), f"'{relative}' is not a real {kind[1]} file")
            continue
        if not title:
            continue
        digest.update(relative.encode() + b"\0" + content)
        files.append({"name": str(target.relative_to(folder).as_posix()), "title": title, "format": kind[1],
                      "size": len(content)})
    return files, digest.digest() if files else b""


def _load_words(source, value, kind, path):
    """{"min", "max"} from `words: 1000-1500`, or None after reporting what is wrong."""
    if kind != "text":
        source.error(path, "'words' is the expected length of a written answer: only for kind: text")
        return None
    match = WORDS_RANGE.match(value) if isinstance(value, str) else None
    low, high = (int(match.group(1)), int(match.group(2))) if match else (None, None)
    if match is None or not 1 <= low <= high <= MAX_WORDS:
        source.error(path, f"'words' must be a range of words such as 1000-1500: two whole numbers from 1 to "
                           f"{MAX_WORDS}, the smaller first")
        return None
    return {"min": low, "max": high}


def _check_id(source, item, path):
    key = item.get("id")
    if not isinstance(key, str) or not STABLE_ID.match(key):
        source.error(path + ("id",) if "id" in item else path,
                     "'id' is required: latin lowercase letters, digits and hyphens, at most 80")
        return None
    return key


def _load_assignment(source, item, path, position):
    if not isinstance(item, dict):
        source.error(path, "each assignment must be a set of fields (id, title, kind, prompt, ...)")
        return None
    source.check_keys(item, ASSIGNMENT_KEYS, path)
    key = _check_id(source, item, path)
    title = source.require_text(item, "title", path)
    prompt = source.require_text(item, "prompt", path)
    kind = item.get("kind")
    retired = item.get("retired", False)
    if not isinstance(retired, bool):
        source.error(path + ("retired",), "'retired' must be true or false")
    spec = {}
    if kind not in KINDS:
        source.error(path + ("kind",) if "kind" in item else path,
                     f"'kind' must be one of: {', '.join(KINDS)}")
    elif kind == "quiz":
        spec = _load_quiz(source, item, path)
    else:
        spec = _load_rubric(source, item, path)
    if "due_week" in item:
        week = item["due_week"]
        if isinstance(week, bool) or not isinstance(week, int) or not 1 <= week <= MAX_DUE_WEEK:
            source.error(path + ("due_week",), f"'due_week' must be a whole number of weeks from 1 to {MAX_DUE_WEEK}, "
                                               "counted from the cohort's start")
        elif spec is not None:
            spec["due_week"] = week
    if "words" in item:
        words = _load_words(source, item["words"], kind, path + ("words",))
        if words is not None and spec is not None:
            spec["words"] = words
    if key is None or spec is None or not title or not prompt:
        return None
    assignment = AssignmentSource(key=key, title=title, kind=kind, prompt_html="", spec=spec,
                                  retired=bool(retired), position=position)
    source.later(prompt, partial(setattr, assignment, "prompt_html"))
    return assignment


def _load_rubric(source, item, path):
    for key in ("questions", "attempts", "counts"):
        if key in item:
            source.error(path + (key,), f"'{key}' belongs to quizzes, not to '{item['kind']}' assignments")
    rubric = item.get("rubric")
    if not isinstance(rubric, list) or not rubric:
        source.error(path + ("rubric",) if "rubric" in item else path,
                     "'rubric' is required: a list of criteria with points")
        return None
    criteria, total, ok = [], 0, True
    for i, criterion in enumerate(rubric):
        cpath = path + ("rubric", i)
        if not isinstance(criterion, dict):
            source.error(cpath, "each rubric criterion needs 'criterion', 'points' and 'levels'")
            ok = False
            continue
        source.check_keys(criterion, CRITERION_KEYS, cpath)
        name = source.require_text(criterion, "criterion", cpath)
        points = source.require_int(criterion, "points", cpath, minimum=1)
        description = criterion.get("description") or ""
        if not isinstance(description, str):
            source.error(cpath + ("description",), "'description' must be text")
            ok = False
        critical = criterion.get("critical", False)
        if not isinstance(critical, bool):
            source.error(cpath + ("critical",), "'critical' must be true or false")
            ok = False
        levels = _load_levels(source, criterion.get("levels"), points, cpath)
        if not name or points is None or levels is None:
            ok = False
            continue
        total += points
        criteria.append({"criterion": name, "description": str(description).strip(), "points": points,
                         "levels": levels, "critical": critical})
    pass_score = source.require_int(item, "pass_score", path)
    if pass_score is not None and ok and pass_score > total:
        source.error(path + ("pass_score",), f"'pass_score' {pass_score} is more than the rubric's "
                                             f"total of {total} points")
        ok = False
    if not ok or pass_score is None:
        return None
    return {"rubric": criteria, "max_score": total, "pass_score": pass_score}


def _load_levels(source, levels, points, path):
    """[{"points", "text"}] from the highest value down: one descriptor for every score from 0 to points, so that two
    mentors reading the same work give it the same score."""
    if points is None:
        return None
    expected = set(range(points + 1))
    if not isinstance(levels, dict) or not levels:
        source.error(path + ("levels",) if levels is not None else path,
                     f"'levels' is required: a descriptor for every score from {points} down to 0")
        return None
    given = {key for key in levels if isinstance(key, int) and not isinstance(key, bool)}
    if given != set(levels) or not given <= expected:
        source.error(path + ("levels",), f"the keys of 'levels' must be whole numbers from 0 to {points}")
        return None
    if missing := sorted(expected - given, reverse=True):
        source.error(path + ("levels",), "no descriptor for " + ", ".join(map(str, missing))
                     + f" point(s): describe every score from {points} down to 0")
        return None
    for key, text in levels.items():
        if not isinstance(text, str) or not text.strip():
            source.error(path + ("levels", key), f"the descriptor for {key} point(s) must be text")
            return None
    return [{"points": key, "text": levels[key].strip()} for key in sorted(given, reverse=True)]


def _load_quiz(source, item, path):
    if "rubric" in item:
        source.error(path + ("rubric",), "a quiz has no rubric: each question is worth one point")
    questions = item.get("questions")
    if not isinstance(questions, list) or not questions:
        source.error(path + ("questions",) if "questions" in item else path,
                     "'questions' is required: a list of questions with options and an answer")
        return None
    result, seen, ok = [], set(), True
    for i, question in enumerate(questions):
        qpath = path + ("questions", i)
        if not isinstance(question, dict):
            source.error(qpath, "each question needs 'id', 'text', 'options' and 'answer'")
            ok = False
            continue
        source.check_keys(question, QUESTION_KEYS, qpath)
        qid = _check_id(source, question, qpath)
        if qid in seen:
            source.error(qpath + ("id",), f"question id '{qid}' is used twice in this quiz")
            ok = False
        seen.add(qid)
        text = source.require_text(question, "text", qpath)
        options = question.get("options")
        if not isinstance(options, list) or len(options) < 2 or not all(
                isinstance(o, str | int | float) and not isinstance(o, bool) for o in options):
            source.error(qpath + ("options",) if "options" in question else qpath,
                         "'options' is required: a list of at least two answers")
            ok = False
            continue
        options = [str(o).strip() for o in options]
        if len(set(options)) != len(options):
            source.error(qpath + ("options",), "two options of this question are the same")
            ok = False
        answer = question.get("answer")
        answers = answer if isinstance(answer, list) else [answer]
        answers = [str(a).strip() for a in answers if a is not None]
        if not answers:
            source.error(qpath + ("answer",) if "answer" in question else qpath,
                         "'answer' is required: the text of the correct option")
            ok = False
        for a in answers:
            if a not in options:
                source.error(qpath + ("answer",), f"answer '{a}' is not one of the options")
                ok = False
        explanation = question.get("explanation") or ""
        if not qid or not text:
            ok = False
            continue
        question = {"id": qid, "text": text, "options": options, "answers": answers, "explanation_html": ""}
        source.later(str(explanation), partial(operator.setitem, question, "explanation_html"))
        result.append(question)
    attempts = item.get("attempts", 1)
    if isinstance(attempts, bool) or not isinstance(attempts, int) or attempts < 1:
        source.error(path + ("attempts",), "'attempts' must be a whole number of at least 1")
        ok = False
    counts = item.get("counts", "best")
    if counts not in ("best", "last"):
        source.error(path + ("counts",), "'counts' must be 'best' or 'last'")
        ok = False
    pass_score = source.require_int(item, "pass_score", path)
    if pass_score is not None and ok and pass_score > len(result):
        source.error(path + ("pass_score",), f"'pass_score' {pass_score} is more than the "
                                             f"{len(result)} questions of the quiz")
        ok = False
    if not ok or pass_score is None:
        return None
    return {"questions": result, "max_score": len(result), "pass_score": pass_score,
            "attempts": attempts, "counts": counts}


def _load_practice_task(source, item, path):
    if not isinstance(item, dict):
        source.error(path, "each practice task needs 'id', 'title', 'activity_types' and 'min_hours'")
        return None
    source.check_keys(item, PRACTICE_KEYS, path)
    key = _check_id(source, item, path)
    title = source.require_text(item, "title", path)
    ok = bool(key and title)
    lists = {}
    for field_name, allowed, required in (("activity_types", ACTIVITY_TYPES, True),
                                          ("audiences", AUDIENCES, False)):
        values = item.get(field_name, [])
        if not isinstance(values, list) or (required and not values):
            source.error(path + (field_name,) if field_name in item else path,
                         f"'{field_name}' must be a list of: {', '.join(allowed)}")
            ok = False
            continue
        for i, value in enumerate(values):
            if value not in allowed:
                source.error(path + (field_name, i), f"unknown {field_name[:-1].replace('_', ' ')} "
                                                     f"'{value}' (known: {', '.join(allowed)})")
                ok = False
        lists[field_name] = values
    hours = item.get("min_hours")
    if isinstance(hours, bool) or not isinstance(hours, int | float) or hours <= 0:
        source.error(path + ("min_hours",) if "min_hours" in item else path,
                     "'min_hours' is required and must be a positive number")
        ok = False
    if not ok:
        return None
    task = {"id": key, "title": title, "activity_types": lists["activity_types"],
            "audiences": lists["audiences"], "min_hours": hours, "description_html": ""}
    source.later(str(item.get("description") or ""), partial(operator.setitem, task, "description_html"))
    return task
