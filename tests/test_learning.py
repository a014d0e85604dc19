"""The trainee's reading path: dashboard, course overview, module page, marking modules done."""
from lms.extensions import db
from lms.learning.models import ModuleProgress
from tests.conftest import login, page_text, post

COURSE = "/courses/fixture-course"
INTRO = COURSE + "/intro"


def test_dashboard_lists_the_trainees_courses_with_progress(client, people):
    login(client, people.trainee)
    text = page_text(client.get("/"))
    assert "Мои курсы" in text and "Тестовый курс" in text
    assert "Пройдено модулей: 0 из 3" in text


def test_trainee_without_enrolment_is_told_so(client, people):
    login(client, people.other)
    assert "Вы пока не записаны ни на один курс" in page_text(client.get("/"))


def test_course_page_lists_modules_in_order_with_time_outcomes_and_status(client, people):
    login(client, people.trainee)
    text = page_text(client.get(COURSE))
    assert text.index("Введение") < text.index("Мероприятия") < text.index("Партнёрства")
    assert "Около 30 мин" in text and "Около 45 мин" in text
    assert "Объяснить, зачем нужен соседский центр" in text
    assert text.count("Не пройден") == 3
    assert "Курс для автоматических тестов." in text


def test_module_page_shows_text_contents_assignments_and_neighbours(client, people):
    login(client, people.trainee)
    response = client.get(INTRO)
    html = response.get_data(as_text=True)
    text = page_text(response)
    assert response.status_code == 200
    assert '<nav class="toc"' in html and 'href="#зачем-нужен-центр"' in html
    assert "<table>" in html
    assert "Эссе о районе" in text and "Опишите свой район в 300 словах." in text
    assert "Проверка понимания" in text and "2 вопроса" in text
    assert "Полнота (5 баллов)" in text
    assert "Наблюдение в центре" in text and "Информирование и опросы жителей" in text
    assert 'rel="next" href="/courses/fixture-course/events"' in html
    assert 'rel="prev"' not in html
    events = client.get(COURSE + "/events").get_data(as_text=True)
    assert 'rel="prev" href="/courses/fixture-course/intro"' in events
    assert 'rel="next" href="/courses/fixture-course/partners"' in events


def test_marking_a_module_done_updates_course_page_and_dashboard(client, people):
    login(client, people.trainee)
    response = post(client, INTRO + "/progress", {"done": "1"}, token_from=INTRO)
    assert response.status_code == 302 and response.headers["Location"] == INTRO + "#progress"  # back to the button
    assert "Модуль отмечен как пройденный." in page_text(client.get(INTRO))
    assert "Пройдено модулей: 1 из 3" in page_text(client.get(COURSE))
    assert "Пройдено модулей: 1 из 3" in page_text(client.get("/"))
    # Marking twice keeps one record.
    post(client, INTRO + "/progress", {"done": "1"}, token_from=INTRO)
    assert db.session.query(ModuleProgress).count() == 1


def test_unmarking_a_module(client, people):
    login(client, people.trainee)
    post(client, INTRO + "/progress", {"done": "1"}, token_from=INTRO)
    post(client, INTRO + "/progress", {"done": "0"}, token_from=INTRO)
    assert "Пройдено модулей: 0 из 3" in page_text(client.get(COURSE))


def test_progress_without_csrf_changes_nothing(client, people):
    login(client, people.trainee)
    assert client.post(INTRO + "/progress", data={"done": "1"}).status_code == 400
    assert db.session.query(ModuleProgress).count() == 0


def test_staff_read_every_course_without_progress_of_their_own(client, people):
    for user in (people.mentor, people.other_mentor, people.admin):
        login(client, user)
        course = client.get(COURSE)
        module = client.get(INTRO)
        assert course.status_code == module.status_code == 200
        assert "Пройдено модулей" not in page_text(course)
        assert "Отметить как пройденный" not in page_text(module)
        assert post(client, INTRO + "/progress", {"done": "1"}, token_from=INTRO).status_code == 403
        post(client, "/logout", token_from="/")
    assert db.session.query(ModuleProgress).count() == 0


def test_trainee_of_another_cohort_gets_404_everywhere(client, people):
    login(client, people.other)
    assert client.get(COURSE).status_code == 404
    assert client.get(INTRO).status_code == 404
    assert post(client, INTRO + "/progress", {"done": "1"}, token_from="/").status_code == 404
    assert db.session.query(ModuleProgress).count() == 0


def test_unknown_course_and_module_are_404(client, people):
    login(client, people.trainee)
    assert client.get("/courses/nope").status_code == 404
    assert client.get(COURSE + "/nope").status_code == 404
    assert "Страница не найдена." in page_text(client.get(COURSE + "/nope"))


def test_mentor_dashboard_lists_cohorts(client, people):
    login(client, people.mentor)
    text = page_text(client.get("/"))
    assert "Мои группы" in text and "Группа 1" in text and "1 слушатель" in text
    assert "Мои курсы" not in text


def test_admin_dashboard_lists_all_courses(client, people):
    login(client, people.admin)
    text = page_text(client.get("/"))
    assert "Все курсы" in text and "Тестовый курс" in text and "3 модуля" in text


def test_one_person_with_several_roles_sees_each_part(client, people, make_user, make_cohort):
    boss = make_user(["admin", "mentor"], name="Многоролевой")
    make_cohort(people.course, mentors=[boss], name="Группа 2")
    login(client, boss)
    text = page_text(client.get("/"))
    assert "Все курсы" in text and "Мои группы" in text and "Группа 2" in text
    assert "администратор, наставник" in text


def test_module_documents_are_listed_and_downloaded(app, client, people):
    login(client, people.trainee)
    page = page_text(client.get("/courses/fixture-course/partners"))
    assert "Документы: скачайте и адаптируйте" in page and "Памятка партнёру (PDF, 1 КБ)" in page
    response = client.get("/courses/fixture-course/files/pamyatka.pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF-")
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"] == "attachment; filename=pamyatka.pdf"
    # Only documents a module lists are served: nothing else of the course folder.
    for path in ("/courses/fixture-course/files/../course.md", "/courses/fixture-course/files/%2e%2e/course.md",
                 "/courses/fixture-course/files/other.pdf", "/courses/fixture-course/files/"):
        assert client.get(path).status_code == 404, path


def test_the_mentors_guide_is_for_staff_only(app, client, people):
    login(client, people.trainee)
    assert "Руководство наставника" not in page_text(client.get("/courses/fixture-course"))
    assert client.get("/courses/fixture-course/mentors-guide").status_code == 403
    mentor = app.test_client()
    login(mentor, people.mentor)
    assert "Руководство наставника" in page_text(mentor.get("/courses/fixture-course"))
    guide = page_text(mentor.get("/courses/fixture-course/mentors-guide"))
    assert "слушатели эту страницу не видят" in guide and "Образец ответа на проходном уровне" in guide
    assert mentor.get("/courses/other-course/mentors-guide").status_code == 404
