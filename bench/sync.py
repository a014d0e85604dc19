"""S10: syncing 200 modules of curriculum, cold into an empty database and again with nothing changed.

The modules are generated in the real format of courses/ (see courses/README.md), each about the size of a
module of the real course without its long quiz: some 1,500 words of Markdown with headings, lists, a table
and a note, a written assignment with a rubric, a quiz of five questions and two field-practice tasks.
A module file is numbered with two digits, so one course holds at most 100 modules: the 200 modules are
two courses of 100.

`measure(url)` creates the tables in the given empty database, times `sync_curriculum` plus the commit
(median of several runs each; every cold run starts from empty tables), counts the SQL statements, then
drops the tables and disposes of the engine. `python bench/sync.py` prints the results, on a temporary
SQLite database or BENCH_DATABASE_URL.
"""
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from queries import QueryCounter  # noqa: E402

from config import TestConfig  # noqa: E402
from lms import create_app  # noqa: E402
from lms.curriculum.loader import load_curriculum  # noqa: E402
from lms.curriculum.services import sync_curriculum  # noqa: E402
from lms.extensions import db  # noqa: E402
from lms.practice.activities import ACTIVITY_TYPES, AUDIENCES  # noqa: E402

MODULES = 200
PER_COURSE = 100  # two-digit module numbers: 00 to 99
COLD_RUNS = int(os.environ.get("BENCH_SYNC_COLD_RUNS", 5))
UNCHANGED_RUNS = int(os.environ.get("BENCH_SYNC_UNCHANGED_RUNS", 9))

SENTENCES = (
    "Соседский центр помогает жителям знакомиться и действовать вместе.",
    "Менеджер сообщества начинает с того, что слушает, а не с того, что предлагает.",
    "Инициативная группа берёт на себя одно небольшое дело и доводит его до конца.",
    "Партнёры приходят туда, где видят понятную пользу для своих посетителей.",
    "Хороший анонс отвечает на вопросы что, когда, где, для кого и сколько стоит.",
    "После каждого события команда за полчаса разбирает план, факт и причины расхождений.",
    "Волонтёр остаётся, если его работу заметили и поблагодарили лично.",
    "Правила гостиной жители обсуждают и принимают сами, тогда их соблюдают.",
    "Учёт участников ведут одним способом, выбранным заранее, и честно описывают его в отчёте.",
    "Конфликт из-за шума во дворе решают встречей соседей, а не жалобой в управу.",
    "Районный совет ветеранов охотно делится помещением, если его позвать в дело, а не на мероприятие.",
    "Библиотека, школа и управляющая компания видят район по-разному, и все трое правы.",
    "Карта ресурсов района обновляется каждый сезон: закрываются одни места, открываются другие.",
    "Опрос жителей у подъездов даёт больше, чем анкета в чате, но требует подготовки.",
    "Бюджет первого года складывается из небольших взносов партнёров и одной крупной заявки.",
    "Отчёт для фонда пишут по ходу работы, а не в последнюю неделю перед сроком.",
)
WORDS = ("двор", "сосед", "центр", "встреча", "партнёр", "волонтёр", "праздник", "мастерская", "библиотека",
         "школа", "управа", "опрос", "карта", "бюджет", "заявка", "отчёт", "правила", "гостиная")


def _paragraph(rng, sentences=5):
    return " ".join(rng.choice(SENTENCES) for _ in range(sentences))


def _items(rng, count):
    return [f"**{rng.choice(WORDS).capitalize()}**: {rng.choice(SENTENCES)}" for _ in range(count)]


def module_text(course, n):
    """One module file of about 1,500 words of body, two assignments and two practice tasks."""
    rng = random.Random(f"{course}-{n}")
    key = f"m{n:02d}"
    questions = []
    for q in range(1, 6):
        options = [f"Вариант {o}: {rng.choice(SENTENCES)}" for o in range(1, 5)]
        options = list(dict.fromkeys(options))
        while len(options) < 4:
            options.append(f"Вариант {len(options) + 1}: {rng.choice(WORDS)}")
        questions.append(
            f"      - id: q{q}\n"
            f"        text: \"Вопрос {q} модуля {n}: как поступить, если {rng.choice(WORDS)} против?\"\n"
            f"        options:\n" + "".join(f"          - \"{o}\"\n" for o in options)
            + f"        answer: \"{options[1]}\"\n"
            f"        explanation: \"{_paragraph(rng, 3)} Остальные варианты не учитывают интересы жителей.\"\n")
    activity = rng.sample(ACTIVITY_TYPES, 3)
    front = (
        "---\n"
        f"title: \"Модуль {n}: {rng.choice(WORDS)} и {rng.choice(WORDS)} в работе центра\"\n"
        "outcomes:\n" + "".join(f"  - \"{rng.choice(SENTENCES)}\"\n" for _ in range(4))
        + f"estimated_minutes: {60 + n % 5 * 30}\n"
        "assignments:\n"
        f"  - id: {key}-plan\n"
        f"    title: \"План работы по модулю {n}\"\n"
        "    kind: text\n"
        "    prompt: |\n"
        f"      {_paragraph(rng, 3)}\n\n"
        + "".join(f"      {i}. {item}\n" for i, item in enumerate(_items(rng, 4), 1))
        + "    rubric:\n"
        + "".join(f"      - criterion: \"{name}\"\n"
                  f"        description: \"5 баллов: {rng.choice(SENTENCES)} 3 балла: {rng.choice(SENTENCES)}\"\n"
                  f"        points: 5\n"
                  "        levels:\n"
                  + "".join(f"          {p}: \"{rng.choice(SENTENCES)}\"\n" for p in range(5, -1, -1))
                  for name in ("Цель и аудитории", "План выполним", "Учёт и разбор"))
        + "    pass_score: 10\n"
        f"  - id: {key}-quiz\n"
        f"    title: \"Проверка понимания: модуль {n}\"\n"
        "    kind: quiz\n"
        "    prompt: \"Выберите лучший вариант действий в каждой ситуации.\"\n"
        "    attempts: 3\n"
        "    counts: best\n"
        "    pass_score: 4\n"
        "    questions:\n" + "".join(questions)
        + "practice:\n"
        + "".join(f"  - id: {key}-practice-{suffix}\n"
                  f"    title: \"Практика модуля {n}: {rng.choice(WORDS)}\"\n"
                  f"    activity_types: [{', '.join(activity[:2] if suffix == 'a' else activity[2:])}]\n"
                  f"    audiences: [{', '.join(rng.sample(AUDIENCES, 2))}]\n"
                  f"    min_hours: {2 if suffix == 'a' else 4}\n"
                  "    description: |\n"
                  f"      {_paragraph(rng, 3)}\n\n"
                  f"      {_paragraph(rng, 2)}\n" for suffix in ("a", "b"))
        + "---\n\n")
    body = [f"{_paragraph(rng, 6)}\n"]
    for section in range(1, 5):
        body.append(f"## Раздел {section}. {rng.choice(WORDS).capitalize()} и {rng.choice(WORDS)}\n")
        body.append(f"{_paragraph(rng, 7)}\n")
        body.append("\n".join(f"- {item}" for item in _items(rng, 5)) + "\n")
        body.append(f"### Как это сделать\n\n{_paragraph(rng, 5)}\n")
        body.append("\n".join(f"{i}. {rng.choice(SENTENCES)}" for i in range(1, 6)) + "\n")
        if section == 2:
            body.append("| Срок | Что сделать | Кто отвечает |\n| --- | --- | --- |\n" + "\n".join(
                f"| за {weeks} нед. | {rng.choice(SENTENCES)} | {rng.choice(WORDS)} |" for weeks in (6, 4, 2, 1))
                + "\n")
        if section == 3:
            body.append(f"!!! note \"Из опыта пилотного центра\"\n    {_paragraph(rng, 3)}\n")
        body.append(f"> {rng.choice(SENTENCES)}\n\n{_paragraph(rng, 6)} [Подробнее](https://example.org/{key}).\n")
    return front + "\n".join(body)


def write_courses(folder, modules=MODULES, per_course=PER_COURSE):
    """Write ceil(modules / per_course) courses into folder; returns their slugs."""
    folder = Path(folder)
    slugs = []
    for c, start in enumerate(range(0, modules, per_course), 1):
        slug = f"sync-bench-{c}"
        course = folder / slug
        course.mkdir(parents=True)
        count = min(per_course, modules - start)
        required = "".join(f"    - m{n:02d}-plan\n" for n in range(3))
        (course / "course.md").write_text(
            f"---\ntitle: \"Нагрузочный курс {c}\"\nslug: {slug}\nlanguage: ru\ncertificate:\n"
            f"  required_assignments:\n{required}  practice_hours: 72\n  min_activity_types: 4\n---\n"
            f"{_paragraph(random.Random(slug), 8)}\n", encoding="utf-8")
        for n in range(count):
            (course / f"{n:02d}-module-{n}.md").write_text(module_text(slug, n), encoding="utf-8")
        slugs.append(slug)
    return slugs


def timed_sync(folder):
    """(milliseconds, queries, result) of one sync and its commit, in a fresh session."""
    db.session.remove()
    with QueryCounter(db.engine) as queries:
        started = time.perf_counter()
        result = sync_curriculum(folder)
        db.session.commit()
        elapsed = (time.perf_counter() - started) * 1000
    if not result.ok:
        raise RuntimeError("; ".join(str(p) for p in result.problems[:5]))
    return elapsed, queries.count, result


def measure(url):
    config = type("BenchConfig", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": url, "TESTING": False})
    app = create_app(config)
    cold, unchanged = [], []
    with tempfile.TemporaryDirectory() as folder, app.app_context():
        courses = write_courses(Path(folder) / "courses")
        write_courses(Path(folder) / "warm-up", modules=1)
        load_curriculum(Path(folder) / "warm-up")  # imports and first-use costs stay out of the timings
        folder = Path(folder) / "courses"
        try:
            for _ in range(COLD_RUNS):
                db.session.remove()
                db.drop_all()
                db.create_all()
                elapsed, cold_queries, result = timed_sync(folder)
                assert len(result.changed) == MODULES + len(courses), len(result.changed)
                cold.append(elapsed)
            for _ in range(UNCHANGED_RUNS):
                elapsed, unchanged_queries, result = timed_sync(folder)
                assert not result.changed, result.changed[:5]
                unchanged.append(elapsed)
        finally:
            db.session.remove()
            db.drop_all()
            db.engine.dispose()
    return {
        f"S10 course sync, {MODULES} modules, cold": {
            "ms": round(statistics.median(cold)), "best_ms": round(min(cold)), "target_ms": 2000,
            "queries": cold_queries, "courses": len(courses)},
        f"S10 course sync, {MODULES} modules, unchanged": {
            "ms": round(statistics.median(unchanged), 1), "best_ms": round(min(unchanged), 1), "target_ms": 300,
            "queries": unchanged_queries, "courses": len(courses)},
    }


def main():
    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"
    for name, result in measure(url).items():
        print(f"{name}: median {result['ms']} ms, best {result['best_ms']} ms (target {result['target_ms']} ms), "
              f"{result['queries']} queries")


if __name__ == "__main__":
    main()
