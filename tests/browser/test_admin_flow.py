"""An administrator imports a cohort from CSV, opens its matrix and the programme report, downloads a CSV."""
import pytest

from tests.browser.conftest import open_menu

pytestmark = pytest.mark.browser


def test_import_matrix_report_csv(server, page, tmp_path):
    base, accounts, _env = server
    csv_file = tmp_path / "trainees.csv"
    csv_file.write_text("ФИО,E-mail\nДарья Импортова,daria@example.org\nЕгор Импортов,egor@example.org\n",
                        encoding="utf-8")

    page.goto(base + "/login")
    page.get_by_label("Электронная почта").fill("admin@example.org")
    page.get_by_label("Пароль").fill(accounts["admin@example.org"][1])
    page.locator("main").get_by_role("button", name="Войти").click()
    page.wait_for_url(base + "/")

    open_menu(page)
    page.get_by_role("link", name="Группы").click()
    page.get_by_role("link", name="Демо-группа").click()
    page.get_by_role("link", name="Импортировать слушателей из CSV").click()
    page.get_by_label("CSV-файл").set_input_files(str(csv_file))
    page.get_by_role("button", name="Предпросмотр").click()
    assert page.inner_text("main").count("новая учётная запись") == 2
    page.get_by_role("button", name="Импортировать все строки").click()
    assert "Импортировано строк: 2." in page.inner_text("main")

    page.get_by_role("link", name="Демо-группа").click()
    matrix = page.inner_text("main")
    assert "Дарья Импортова" in matrix and "Егор Импортов" in matrix and "Анна Соседова" in matrix

    open_menu(page)
    page.get_by_role("link", name="Отчёт по программе").click()
    assert "Записано слушателей" in page.inner_text("main")
    with page.expect_download() as download_info:
        page.locator("h2", has_text="Сводка").get_by_role("link", name="CSV").click()
    assert "Записано слушателей" in download_info.value.path().read_text(encoding="utf-8-sig")
