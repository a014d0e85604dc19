"""The partners map: the public directory, pages and GeoJSON; administration, CSV import, the report, the demo."""
import io
import json
from datetime import timedelta

import pytest
from PIL import Image
from sqlalchemy import func, select

from lms.audit import AuditEvent
from lms.clock import local_today
from lms.extensions import db
from lms.learning.models import Enrolment
from lms.partners.services import (
    MAX_SIDE,
    THUMBNAIL_SIDE,
    PartnerInvalid,
    save_partner,
    set_partner_image,
    set_partner_published,
    slug_from,
)
from lms.placements.services import PlacementData, assign_placement
from lms.practice.models import PartnerImage, PracticeSite
from lms.practice.services import EntryData, review_practice_entry, save_practice_entry
from lms.reports.services import programme_report
from tests.conftest import count_queries, csrf_token, login, page_text, post
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


def picture(image_format="JPEG", size=(3000, 2000), gps=False):
    """A picture as a camera or a designer would send it; a JPEG's may carry where it was taken."""
    image = Image.new("RGBA" if image_format == "PNG" else "RGB", size, (200, 120, 40, 128))
    out = io.BytesIO()
    extra = {}
    if gps:
        exif = Image.Exif()
        exif[0x010F] = "PhoneMaker"  # Make
        exif[0x8825] = {1: "N", 2: (55.0, 44.0, 30.0), 3: "E", 4: (37.0, 29.0, 10.0)}  # GPSInfo
        extra["exif"] = exif
    image.save(out, image_format, **extra)
    return out.getvalue()


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
            made = save_partner(None, f"Партнёр {i}", "ngo", latitude="55.74", longitude=str(37.40 + i / 1000),
                                district=f"Район {i % 7}")
            if i % 50 == 0:
                set_partner_image(None, made, "logo.png", picture("PNG"))
        db.session.execute(PracticeSite.__table__.update().values(published=True))
        db.session.commit()
        counts = []
        for url in ("/partners", "/partners.geojson"):
            with count_queries() as counter:
                assert client.get(url).status_code == 200
            counts.append(counter.count)
        return counts

    few, many = queries(3), queries(300)
    assert few == many and max(many) <= MAX_QUERIES
    assert page_text(client.get("/partners")).count("Партнёр") == 300
    login(client, people.admin)
    with count_queries() as counter:
        assert client.get("/admin/partners").status_code == 200
    assert counter.count <= MAX_QUERIES


# --- administration -------------------------------------------------------------------------------

def upload_picture(client, site, filename, data, description=""):
    page = f"/admin/partners/{site.id}"
    return client.post(page, data={"csrf_token": csrf_token(client, page), "action": "image",
                                   "image_description": description,
                                   **({"image": (io.BytesIO(data), filename)} if filename else {})},
                       content_type="multipart/form-data")


def test_admin_gives_a_partner_a_photo_kept_without_the_cameras_details(app, admin_client):
    site = partner()
    camera = picture(gps=True)
    assert Image.open(io.BytesIO(camera)).getexif()  # the upload does say where it was taken
    response = upload_picture(admin_client, site, "двор.JPEG", camera, "Двор центра летом")
    assert response.status_code == 302 and response.location.endswith(f"/admin/partners/{site.id}#picture")
    image = db.session.get(PartnerImage, site.id)
    kept = Image.open(io.BytesIO(image.data))
    assert (kept.format, kept.size, image.width, image.height) == ("JPEG", (MAX_SIDE, 800), MAX_SIDE, 800)
    assert not kept.getexif() and "exif" not in kept.info
    assert max(Image.open(io.BytesIO(image.thumbnail)).size) == THUMBNAIL_SIDE
    assert db.session.scalar(select(AuditEvent.action).order_by(AuditEvent.id.desc())) == "partner.image"
    anonymous = app.test_client()
    page = anonymous.get(f"/partners/{site.slug}").get_data(as_text=True)
    src = f"/partners/{site.slug}/photo?v={image.version}"
    assert f'src="{src}" width="600" height="400" alt="Двор центра летом"' in page
    listed = anonymous.get("/partners").get_data(as_text=True)
    assert f'src="/partners/{site.slug}/photo/small?v={image.version}" width="160" height="107"' in listed
    photo = anonymous.get(src)
    assert (photo.status_code, photo.mimetype, photo.data) == (200, "image/jpeg", image.data)
    assert photo.headers["Content-Disposition"].startswith("attachment")
    assert photo.headers["X-Content-Type-Options"] == "nosniff"
    assert photo.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert anonymous.get(f"/partners/{site.slug}/photo").headers["Cache-Control"] == "public, max-age=3600"
    assert anonymous.get(f"/partners/{site.slug}/photo/small").data == image.thumbnail


def test_a_logo_keeps_its_transparency_and_a_new_picture_replaces_the_old(admin_client):
    site = partner()
    assert upload_picture(admin_client, site, "photo.jpg", picture(size=(400, 300))).status_code == 302
    assert upload_picture(admin_client, site, "logo.png", picture("PNG", size=(500, 500))).status_code == 302
    image = db.session.get(PartnerImage, site.id)
    kept = Image.open(io.BytesIO(image.data))
    assert (count(PartnerImage), image.content_type, kept.mode, kept.size) == (1, "image/png", "RGBA", (500, 500))
    page = page_text(admin_client.get(f"/partners/{site.slug}"))
    assert page  # the alt is the partner's name when no description was given
    assert f'alt="{site.name}"' in admin_client.get(f"/partners/{site.slug}").get_data(as_text=True)


@pytest.mark.parametrize("filename, data, message", [
    (None, None, "Выберите файл JPG или PNG"),
    ("план.pdf", b"%PDF-1.4\n%\xe2\xe3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF", "не картинка JPG или PNG"),
    ("фото.jpg", b"<svg onload=alert(1)>", "не соответствует типу"),
    ("обрыв.jpg", picture(size=(50, 50))[:200], "не картинка JPG или PNG"),
    ("пусто.png", b"", "пуст"),
])
def test_a_file_that_is_not_a_readable_picture_is_refused_and_the_old_one_kept(admin_client, filename, data,
                                                                              message):
    site = partner()
    assert upload_picture(admin_client, site, "logo.png", picture("PNG", size=(64, 64))).status_code == 302
    before = db.session.get(PartnerImage, site.id).sha256
    events = count(AuditEvent)
    response = upload_picture(admin_client, site, filename, data)
    assert response.status_code == 400 and message in page_text(response)
    db.session.expire_all()
    assert db.session.get(PartnerImage, site.id).sha256 == before and count(AuditEvent) == events
    html = response.get_data(as_text=True)
    assert 'id="image" name="image" type="file" accept="image/jpeg,image/png" aria-invalid="true"' in html


def test_a_picture_claiming_more_pixels_than_a_camera_makes_is_refused_unread(admin_client):
    site = partner()
    bomb = io.BytesIO()
    Image.new("1", (10_000, 10_000)).save(bomb, "PNG")  # a few kilobytes that unpack to 100 megapixels
    response = upload_picture(admin_client, site, "bomb.png", bomb.getvalue())
    assert response.status_code == 400 and "не картинка JPG или PNG" in page_text(response)
    assert count(PartnerImage) == 0


def test_admin_removes_the_picture_and_an_unpublished_partners_is_for_admins_only(app, admin_client):
    site = partner(published=False)
    upload_picture(admin_client, site, "logo.png", picture("PNG", size=(64, 64)))
    photo = admin_client.get(f"/partners/{site.slug}/photo")
    assert photo.status_code == 200 and photo.headers["Cache-Control"] == "private, no-store"
    assert app.test_client().get(f"/partners/{site.slug}/photo").status_code == 404
    assert app.test_client().get("/partners/no-such/photo/small").status_code == 404
    response = post(admin_client, f"/admin/partners/{site.id}", {"action": "remove_image"})
    assert response.status_code == 302 and count(PartnerImage) == 0
    assert "partner.image_remove" in set(db.session.scalars(select(AuditEvent.action)))
    assert admin_client.get(f"/partners/{site.slug}/photo").status_code == 404
    log = page_text(admin_client.get("/admin/audit?kind=partner"))
    assert "загружено фото или логотип партнёра" in log and "удалено фото или логотип партнёра" in log


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
    workshop, university = partner("Мастерская", "business"), partner("Университет", "university")
    enrolment = db.session.scalar(select(Enrolment).filter_by(trainee_id=people.trainee.id))
    for site, starts in ((workshop, local_today() - timedelta(days=60)), (university, local_today() + timedelta(1))):
        assign_placement(PlacementData(enrolment=enrolment, site=site, starts_on=starts,
                                       ends_on=starts + timedelta(days=40), planned_hours=20,
                                       supervisor_name="Ольга", supervisor_email="olga@example.org"), people.mentor)
    yesterday = local_today() - timedelta(days=1)
    for site, day in ((centre, yesterday), (library, yesterday - timedelta(days=1))):
        entry = save_practice_entry(people.trainee, EntryData(
            cohort=people.cohort, site=site, date=day, duration_minutes=60, activity_type="workshop_class",
            description="Занятие", reflection="Итоги"), submit=True)
        review_practice_entry(entry, people.mentor, "approve", "", entry.version)
    db.session.commit()
    report = programme_report(local_today() - timedelta(days=30), local_today())
    # the library (practice) and the workshop (a placement running in the period); the university's starts later
    assert (report.partners_on_map, report.partners_taking_part) == (5, 2)
    assert programme_report(local_today() - timedelta(days=70), local_today() - timedelta(days=50)) \
        .partners_taking_part == 1
    client = app.test_client()
    login(client, people.admin)
    summary = client.get("/admin/reports/summary.csv").get_data(as_text=True)
    assert "Организаций на карте (сейчас);5" in summary
    assert "Партнёров, участвовавших в периоде (кроме пилотного центра);2" in summary


def test_demo_puts_the_seeds_partners_on_the_map_in_filyovsky_park(runner, course):
    assert runner.invoke(args=["lms", "demo"]).exit_code == 0
    assert runner.invoke(args=["lms", "demo"]).exit_code == 0
    partners = db.session.scalars(select(PracticeSite)).all()
    assert len(partners) == 8 and all(p.published and p.district == "Филёвский Парк" for p in partners)
    assert {"centre", "business", "ngo", "library", "university"} <= {p.kind for p in partners}
    assert all(55.73 < p.latitude < 55.76 and 37.46 < p.longitude < 37.52 for p in partners)
