"""The partners map: the public directory, pages and GeoJSON; administration, CSV import, the report, the demo."""
import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from lms.audit import AuditEvent
from lms.clock import local_today
from lms.extensions import db
from lms.partners.services import PartnerInvalid, save_partner, set_partner_published, slug_from
from lms.practice.models import PracticeSite
from lms.practice.services import EntryData, review_practice_entry, save_practice_entry
from lms.reports.services import programme_report
from tests.conftest import count_queries, login, page_text, post
from tests.test_access import MAX_QUERIES

CENTRE = dict(address="Москва, ул. Олеко Дундича, 35", district="Филёвский Парк", latitude="55.7406",
              longitude="37.4869", contact_name="Ольга Секретная", contact_email="secret@example.org",
              public_phone="+7 495 000-00-00", offer="Гостиная для **соседей**<script>alert(1)</script>")


def partner(name="Соседский центр", kind="centre", published=True, **fields):
    made = save_partner(None, name, kind, **{**CENTRE, **fields})
    set_partner_published(made, published, None)
    db.session.commit()
    return made


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def admin_client(app, people):
    client = app.test_client()
    login(client, people.admin)
    return client


# --- the public directory and pages ---------------------------------------------------------------

def test_directory_lists_published_partners_only_and_never_an_e_mail(client, app):
    partner()
    partner("Тайная мастерская", "business", published=False, latitude="55.75", longitude="37.5")
    text = page_text(client.get("/partners"))
    assert "Соседский центр" in text and "Тайная мастерская" not in text
    assert "secret@example.org" not in text and "Ольга Секретная" not in text
    for url in ("/partners", "/partners/sosedskii-tsentr", "/partners.geojson"):
        body = client.get(url).get_data(as_text=True)
        assert "@" not in body.replace("@media", ""), url
    assert client.get("/partners/tainaia-masterskaia").status_code == 404


def test_directory_filters_by_kind_district_and_name(client, app):
    partner()
    partner("Библиотека № 213", "library", district="Фили-Давыдково", latitude="", longitude="")
    assert "Библиотека" not in page_text(client.get("/partners?kind=centre"))
    assert "Соседский центр" not in page_text(client.get("/partners?district=Фили-Давыдково"))
    found = page_text(client.get("/partners?q=БИБЛИО"))
    assert "Библиотека № 213" in found and "Соседский центр" not in found
    assert "Ни один партнёр не подходит" in page_text(client.get("/partners?q=нет такого"))
    assert client.get("/partners?kind=nonsense&district=" + "Я" * 500).status_code == 200


def test_partner_page_shows_public_fields_with_markdown_sanitised(client, app):
    made = partner()
    response = client.get(f"/partners/{made.slug}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and made.slug == "sosedskii-tsentr"
    assert "<strong>соседей</strong>" in html and "<script>alert" not in html
    assert "+7 495 000-00-00" in page_text(response) and "Ольга" not in html


def test_admin_previews_an_unpublished_partner(admin_client):
    made = partner(published=False)
    assert "Не опубликован" in page_text(admin_client.get(f"/partners/{made.slug}"))


def test_geojson_is_an_rfc_7946_feature_collection_of_published_partners(client, app):
    partner()
    partner("Без координат", "ngo", latitude="", longitude="")
    partner("Черновик", "ngo", published=False)
    response = client.get("/partners.geojson")
    assert response.status_code == 200 and response.mimetype == "application/geo+json"
    data = json.loads(response.get_data(as_text=True))
    assert data["type"] == "FeatureCollection" and len(data["features"]) == 1
    feature = data["features"][0]
    assert feature["type"] == "Feature" and feature["geometry"]["type"] == "Point"
    longitude, latitude = feature["geometry"]["coordinates"]
    assert (longitude, latitude) == (37.4869, 55.7406)  # RFC 7946: longitude first
    assert feature["properties"]["url"] == "/partners/sosedskii-tsentr"
    assert set(feature["properties"]) == {"name", "url", "kind", "kind_label", "address", "hosts_practice"}


def test_map_page_allows_tiles_from_the_configured_host_only(app_factory):
    app = app_factory(LMS_MAP_TILES="https://{s}.tiles.example.org/{z}/{x}/{y}.png")
    response = app.test_client().get("/partners")
    policy = response.headers["Content-Security-Policy"]
    assert "img-src 'self' data: https://*.tiles.example.org;" in policy and "script-src 'self';" in policy
    html = response.get_data(as_text=True)
    assert 'data-tiles="https://{s}.tiles.example.org/{z}/{x}/{y}.png"' in html
    assert "vendor/leaflet-1.9.4/leaflet.js" in html and "<script>" not in html


def test_directory_runs_a_fixed_number_of_queries(client, app, people):
    def queries(n):
        for i in range(count(PracticeSite), n):
            save_partner(None, f"Партнёр {i}", "ngo", latitude="55.74", longitude=str(37.40 + i / 1000),
                         district=f"Район {i % 7}")
        db.session.execute(PracticeSite.__table__.update().values(published=True))
        db.session.commit()
        with count_queries() as counter:
            assert client.get("/partners").status_code == 200
            assert client.get("/partners.geojson").status_code == 200
        return counter.count

    few, many = queries(3), queries(300)
    assert few == many <= 2 * MAX_QUERIES
    login(client, people.admin)
    with count_queries() as counter:
        assert client.get("/admin/partners").status_code == 200
    assert counter.count <= MAX_QUERIES


# --- administration -------------------------------------------------------------------------------

def test_admin_creates_edits_publishes_and_unpublishes_a_partner(admin_client):
    response = post(admin_client, "/admin/partners/new", {
        "name": "Библиотека № 213", "kind": "library", "address": "ул. Большая Филёвская, 21",
        "latitude": "55,7462", "longitude": "37.5073", "active": "1"})
    assert response.status_code == 302
    made = db.session.scalar(select(PracticeSite))
    assert (made.name, made.kind, made.active, made.latitude, made.published) == (
        "Библиотека № 213", "library", True, 55.7462, False)
    assert made.slug == "biblioteka-213"
    url = f"/admin/partners/{made.id}"
    assert post(admin_client, url, {"action": "publish"}).status_code == 302
    assert "Библиотека № 213" in page_text(admin_client.get("/partners"))
    assert post(admin_client, url, {"action": "save", "name": "Библиотека № 213", "kind": "library",
                                    "latitude": "", "longitude": ""}).status_code == 302
    db.session.refresh(made)
    assert made.active is False and made.latitude is None and made.published
    assert post(admin_client, url, {"action": "unpublish"}).status_code == 302
    assert "Библиотека" not in page_text(admin_client.get("/partners"))
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"partner.create", "partner.update", "partner.publish", "partner.unpublish"} <= actions
    log = page_text(admin_client.get("/admin/audit?kind=partner"))
    assert "партнёр опубликован на карте" in log and "Библиотека № 213" in log


@pytest.mark.parametrize("fields, field, message", [
    ({"name": ""}, "name", "Укажите название партнёра."),
    ({"latitude": "95", "longitude": "37.5"}, "latitude", "Широта — число от -90 до 90"),
    ({"latitude": "55.7", "longitude": "-181"}, "longitude", "Долгота — число от -180 до 180"),
    ({"latitude": "north", "longitude": "37.5"}, "latitude", "Широта — число от -90 до 90"),
    ({"latitude": "nan", "longitude": "inf"}, "latitude", "Широта — число от -90 до 90"),
    ({"latitude": "55.7", "longitude": ""}, "longitude", "Укажите обе координаты"),
    ({"kind": "castle"}, "kind", "Выберите вид организации."),
    ({"website": "javascript:alert(1)"}, "website", "https://"),
    ({"public_phone": "<b>звоните</b>"}, "public_phone", "Номер телефона"),
    ({"contact_email": "not-an-address"}, "contact_email", "Это не адрес электронной почты."),
    ({"slug": "Не латиница"}, "slug", "Латинские буквы"),
])
def test_bad_partner_fields_are_refused_with_a_message_on_the_field(admin_client, fields, field, message):
    data = {"name": "Мастерская", "kind": "business", **fields}
    response = post(admin_client, "/admin/partners/new", data)
    assert response.status_code == 400 and message in page_text(response)
    assert f'id="{field}"' in response.get_data(as_text=True)
    assert f'aria-describedby="{field}-error"' in response.get_data(as_text=True)
    assert count(PracticeSite) == 0


def test_duplicate_name_and_slug_are_refused(admin_client):
    first = partner("Мастерская", "business")
    duplicate = post(admin_client, "/admin/partners/new", {"name": "Мастерская", "kind": "business"})
    assert duplicate.status_code == 400 and "Партнёр с таким названием уже есть." in page_text(duplicate)
    taken = post(admin_client, "/admin/partners/new", {"name": "Другая", "kind": "business", "slug": first.slug})
    assert taken.status_code == 400 and "У другого партнёра уже есть такой адрес." in page_text(taken)
    assert count(PracticeSite) == 1
    second = save_partner(None, "Мастерская!", "business")  # the same slug made from the name: numbered
    assert second.slug == "masterskaia-2"


def test_slugs_are_made_from_russian_names():
    assert slug_from("Открытая столярная мастерская «Делай Вещь»") == "otkrytaia-stoliarnaia-masterskaia-delai-veshch"
    assert slug_from("«»") == "partner"


def test_partner_edit_keeps_fields_the_caller_does_not_give(app):
    made = partner()
    save_partner(None, made.name, "ngo", partner=made)
    assert (made.kind, made.contact_email, made.latitude, made.published) == ("ngo", "secret@example.org", 55.7406,
                                                                              True)
    with pytest.raises(PartnerInvalid) as invalid:
        save_partner(None, made.name, "ngo", partner=made, latitude="-91")
    assert set(invalid.value.errors) == {"latitude"}


# --- CSV import -----------------------------------------------------------------------------------

CSV = ("Название;Вид;Адрес;Район;Широта;Долгота;Принимает на практику;E-mail контакта\n"
       "Библиотека № 213;библиотека;ул. Большая Филёвская, 21;Филёвский Парк;55,7462;37,5073;да;lib@example.org\n"
       "Университет;university;Филёвский бульвар, 40;Филёвский Парк;55.7527;37.4789;нет;\n")


def upload(client, content, action="preview", **extra):
    from io import BytesIO

    from tests.conftest import csrf_token

    data = {"csrf_token": csrf_token(client, "/admin/partners/import"), "action": action, **extra}
    if action == "preview":
        data["file"] = (BytesIO(content.encode("cp1251")), "partners.csv")
    else:
        data["content"] = content
    return client.post("/admin/partners/import", data=data, content_type="multipart/form-data")


def test_import_previews_then_creates_and_updates_partners(admin_client):
    existing = partner("Университет", "other", published=False)
    preview = upload(admin_client, CSV)
    text = page_text(preview)
    assert preview.status_code == 200 and "новый партнёр" in text and "обновится" in text
    assert count(PracticeSite) == 1
    done = upload(admin_client, CSV, action="import", publish="1")
    assert done.status_code == 302
    library = db.session.scalar(select(PracticeSite).filter_by(name="Библиотека № 213"))
    assert (library.kind, library.latitude, library.longitude, library.active, library.published) == (
        "library", 55.7462, 37.5073, True, True)
    db.session.refresh(existing)
    assert (existing.kind, existing.active, existing.published) == ("university", False, True)
    assert db.session.scalar(select(AuditEvent).filter_by(action="partner.import")).details["rows"] == 2


def test_import_shows_each_rows_errors_and_saves_nothing(admin_client):
    bad = ("name,kind,latitude,longitude\n"
           "Мастерская,business,95,37.5\n"
           ",library,,\n"
           "Мастерская,замок,,\n")
    preview = upload(admin_client, bad)
    text = page_text(preview)
    assert "Широта — число от -90 до 90" in text and "Укажите название партнёра." in text
    assert "Выберите вид организации." in text and "то же название встречается в файле выше" in text
    assert "Импортировать все строки" not in text
    assert upload(admin_client, bad, action="import").status_code == 400
    assert count(PracticeSite) == 0
    no_header = upload(admin_client, "Мастерская,business\n")
    assert no_header.status_code == 400 and "Первая строка должна называть столбцы" in page_text(no_header)


# --- the practice log, the report and the demo ----------------------------------------------------

def test_only_partners_hosting_practice_are_offered_in_the_practice_log(app, people):
    partner("Центр", "centre")
    partner("Магазин", "business", active=False)
    client = app.test_client()
    login(client, people.trainee)
    text = page_text(client.get("/practice/new"))
    assert "Центр" in text and "Магазин" not in text


def test_report_counts_organisations_on_the_map_and_partners_taking_part(app, people):
    centre = partner("Центр", "centre")
    library = partner("Библиотека", "library")
    partner("Магазин", "business")
    partner("Черновик", "ngo", published=False)
    yesterday = local_today() - timedelta(days=1)
    for site, day in ((centre, yesterday), (library, yesterday - timedelta(days=1))):
        entry = save_practice_entry(people.trainee, EntryData(
            cohort=people.cohort, site=site, date=day, duration_minutes=60, activity_type="workshop_class",
            description="Занятие", reflection="Итоги"), submit=True)
        review_practice_entry(entry, people.mentor, "approve", "", entry.version)
    db.session.commit()
    report = programme_report(local_today() - timedelta(days=30), local_today())
    assert (report.partners_on_map, report.partners_taking_part) == (3, 1)
    client = app.test_client()
    login(client, people.admin)
    summary = client.get("/admin/reports/summary.csv").get_data(as_text=True)
    assert "Организаций на карте (сейчас);3" in summary
    assert "Партнёров, участвовавших в периоде (кроме пилотного центра);1" in summary


def test_demo_puts_the_seeds_partners_on_the_map_in_filyovsky_park(runner, course):
    assert runner.invoke(args=["lms", "demo"]).exit_code == 0
    assert runner.invoke(args=["lms", "demo"]).exit_code == 0
    partners = db.session.scalars(select(PracticeSite)).all()
    assert len(partners) == 8 and all(p.published and p.district == "Филёвский Парк" for p in partners)
    assert {"centre", "business", "ngo", "library", "university"} <= {p.kind for p in partners}
    assert all(55.73 < p.latitude < 55.76 and 37.46 < p.longitude < 37.52 for p in partners)
