"""Every route is classified here, and each is checked for every kind of visitor.

A new route without a line in ROUTES fails test_every_route_is_classified: decide who may use it and
add it, with a sample URL, so the matrix below checks it automatically.
"""
import pytest

from tests.conftest import csrf_token, login

# endpoint: (class, method, sample URL)
ROUTES = {
    "static": ("public", "GET", "/static/style.css"),
    "health": ("public", "GET", "/health"),
    "auth.login": ("public", "GET", "/login"),
    "auth.logout": ("public", "POST", "/logout"),
    "auth.set_password_page": ("public", "GET", "/set-password/not-a-token"),
    "auth.choose_language": ("public", "POST", "/language"),
    "learning.dashboard": ("signed-in", "GET", "/"),
    "learning.course_page": ("trainee-own", "GET", "/courses/fixture-course"),
    "learning.module_page": ("trainee-own", "GET", "/courses/fixture-course/intro"),
    "learning.module_progress": ("trainee-own-write", "POST", "/courses/fixture-course/intro/progress"),
}

# What each visitor gets, per class. "login" means a redirect to the sign-in page.
EXPECTED = {
    "signed-in": {"anonymous": "login", "trainee": 200, "other": 200, "mentor": 200, "admin": 200},
    "trainee-own": {"anonymous": "login", "trainee": 200, "other": 404, "mentor": 200, "admin": 200},
    "trainee-own-write": {"anonymous": "login", "trainee": 302, "other": 404, "mentor": 403, "admin": 403},
    "mentor": {"anonymous": "login", "trainee": 403, "other": 403, "mentor": 200, "admin": 403},
    "admin": {"anonymous": "login", "trainee": 403, "other": 403, "mentor": 403, "admin": 200},
}
VISITORS = ("anonymous", "trainee", "other", "mentor", "admin")


def test_every_route_is_classified(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    unclassified = sorted(endpoints - set(ROUTES))
    assert unclassified == [], f"classify these routes in tests/test_access.py: {unclassified}"
    assert sorted(set(ROUTES) - endpoints) == [], "ROUTES lists endpoints that no longer exist"


def test_every_view_declares_its_access(app):
    """The views go through lms.permissions, which marks each of them."""
    undeclared = [name for name, view in app.view_functions.items()
                  if name != "static" and not hasattr(view, "access")]
    assert undeclared == []


def test_public_routes_answer_anonymous_visitors(client, people):
    for endpoint, (kind, method, url) in ROUTES.items():
        if kind != "public":
            continue
        data = {"csrf_token": csrf_token(client)} if method == "POST" else None
        response = client.open(url, method=method, data=data)
        assert response.status_code < 500, endpoint
        assert response.status_code != 403, endpoint


@pytest.mark.parametrize("visitor", VISITORS)
def test_access_matrix(app, people, visitor):
    client = app.test_client()
    if visitor != "anonymous":
        login(client, getattr(people, visitor))
    failures = []
    for endpoint, (kind, method, url) in ROUTES.items():
        if kind == "public":
            continue
        expected = EXPECTED[kind][visitor]
        data = {"csrf_token": csrf_token(client, "/" if visitor != "anonymous" else "/login")} \
            if method == "POST" else None
        response = client.open(url, method=method, data=data)
        if expected == "login":
            ok = response.status_code == 302 and response.headers["Location"].startswith("/login")
        else:
            ok = response.status_code == expected
        if not ok:
            failures.append(f"{endpoint} {method} {url}: expected {expected}, got {response.status_code}")
    assert failures == []
