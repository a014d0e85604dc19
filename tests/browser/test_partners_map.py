"""The partners map in Chromium with every outside request blocked (as on a machine without internet): the list,
the demo partners' markers on a blank map with a note, a popup linking to the partner's page; an administrator
sets coordinates by clicking the map."""
import pytest

from tests.browser.test_practice_flow import sign_in

pytestmark = pytest.mark.browser


def block_outside(page, base):
    outside = []

    def handle(route):
        if route.request.url.startswith(base):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", handle)
    return outside


def test_map_shows_markers_on_a_blank_map_when_tiles_cannot_load(server, page):
    base, _accounts, _env = server
    outside = block_outside(page, base)
    page.goto(base + "/partners")
    assert page.locator(".partner-list li").count() == 8
    page.locator(".leaflet-marker-icon").first.wait_for()
    assert page.locator(".leaflet-marker-icon").count() == 8
    page.locator("[data-tiles-failed]").wait_for()
    assert "метки показаны на пустой карте" in page.inner_text("main")
    assert outside and all("tile.openstreetmap.org" in url for url in outside)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.locator(".leaflet-marker-icon").first.click()
    popup_link = page.locator(".leaflet-popup-content a")
    popup_link.wait_for()
    name = popup_link.inner_text()
    with page.expect_navigation():
        popup_link.click()
    assert "/partners/" in page.url and page.locator("h1").inner_text() == name


def test_directory_is_a_list_without_javascript(server, browser):
    base, _accounts, _env = server
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="ru-RU", java_script_enabled=False)
    page = context.new_page()
    page.goto(base + "/partners?kind=library")
    assert page.locator(".partner-list li").count() == 1 and "Библиотека № 213" in page.inner_text("main")
    assert not page.locator("[data-map-box]").is_visible()
    context.close()


def test_admin_picks_coordinates_by_clicking_the_map(server, page):
    base, accounts, _env = server
    admin = next(email for email, (role, _password) in accounts.items() if role == "admin")
    block_outside(page, base)
    sign_in(page, base, accounts, admin)
    page.goto(base + "/admin/partners/new")
    page.locator(".partner-map").click(position={"x": 100, "y": 80})
    latitude = float(page.get_by_label("Широта").input_value())
    longitude = float(page.get_by_label("Долгота").input_value())
    assert 55.70 < latitude < 55.80 and 37.40 < longitude < 37.60
    assert page.locator(".leaflet-marker-icon").count() == 1
