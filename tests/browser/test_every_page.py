"""Every page each role can open, found by following links from the start pages, in both languages.

On each: axe-core (0 critical, 0 serious) at 360 and 1280 px, the Nu HTML Checker (0 errors), nothing wider
than a 360-px screen, a header no taller than 15% of a 740-px screen, main controls at least 44 x 44 px, and no
letters of the other language outside course content and user data (which carry their own `lang`).

The checkers come from npm (`.ci/run` installs them into `.ci/node`); LMS_AXE_JS and LMS_VNU_JAR point elsewhere.
Locally a missing checker skips its test; in CI (CI=true) it fails.

This module has a server of its own: the crawl opens notifications and grading pages, which other browser
tests expect untouched.
"""
import json
import os
import re
import subprocess
from collections import Counter, deque
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest

from tests.browser.conftest import ROOT, open_menu, running_server

pytestmark = pytest.mark.browser

NODE = ROOT / ".ci" / "node" / "node_modules"
AXE_JS = Path(os.environ.get("LMS_AXE_JS") or NODE / "axe-core" / "axe.min.js")
VNU_JAR = Path(os.environ.get("LMS_VNU_JAR") or NODE / "vnu-jar" / "build" / "dist" / "vnu.jar")

ROLES = {"anonymous": None, "trainee": "trainee1@example.org", "mentor": "mentor@example.org",
         "admin": "admin@example.org"}
START = {"anonymous": ["/login", "/forgot-password", "/verify", "/issuer", "/partners", "/verify/NO-SUCH-CODE",
                       "/set-password/not-a-token", "/confirm/not-a-token", "/unsubscribe/not-a-token",
                       "/no-such-page", "/offline"],
         "trainee": ["/", "/practice", "/practice/new", "/certificates", "/calendar", "/notifications",
                     "/settings", "/settings/notifications", "/offline"],
         "mentor": ["/", "/mentor/queue", "/mentor/practice/approve", "/practice/trainees", "/calendar",
                    "/notifications", "/settings"],
         "admin": ["/", "/admin/users", "/admin/users/new", "/admin/cohorts", "/admin/certificates", "/admin/reports",
                   "/admin/audit", "/admin/partners", "/admin/curriculum", "/admin/emails", "/admin/matrix",
                   "/settings"]}
SKIP = re.compile(r"^/(static/|files/|practice/attachments/|issuer/(jwks|keys/)|status/|logout)"
                  r"|\.(csv|xlsx|zip|pdf|jwt|ics|json|docx)$|/files/")
PER_PATTERN = 2  # pages kept of each shape of address (/practice/#): the same template with other data
CAP = 120  # pages per role and language
HEADER_MAX = 0.15 * 740


def _checker(path, name):
    if path.exists():
        return path
    if os.environ.get("CI") == "true":
        pytest.fail(f"{name} is missing at {path}: .ci/run installs it with npm")
    pytest.skip(f"{name} is not installed (npm install --prefix .ci/node axe-core vnu-jar)")


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links, self.csrf = [], None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and attrs.get("href") and "download" not in attrs:
            self.links.append(attrs["href"])
        if tag == "input" and attrs.get("name") == "csrf_token" and self.csrf is None:
            self.csrf = attrs.get("value")


def _shape(path, query):
    return re.sub(r"\d+", "#", path) + ("?" + "&".join(sorted(p.split("=")[0] for p in query.split("&")))
                                         if query else "")


def _crawl(request, base, role):
    """{url: html} of the pages reachable from the role's start pages."""
    pages, seen, shapes = {}, set(), Counter()
    queue = deque(START[role])
    while queue and len(pages) < CAP:
        url = queue.popleft()
        if url in seen:
            continue
        seen.add(url)
        response = request.get(base + url, max_redirects=5)
        final = urlsplit(response.url)
        if not response.headers.get("content-type", "").startswith("text/html"):
            continue
        if final.path == "/login" and role != "anonymous" and url != "/login":
            pytest.fail(f"{role} was sent to sign in from {url}")
        html = response.text()
        pages[final.path + ("?" + final.query if final.query else "")] = html
        parser = _Links()
        parser.feed(html)
        for href in parser.links:
            parts = urlsplit(urljoin(base + url, href))
            if f"{parts.scheme}://{parts.netloc}" != base or SKIP.search(parts.path):
                continue
            target = parts.path + ("?" + parts.query if parts.query else "")
            shape = _shape(parts.path, parts.query)
            if target in seen or target in queue or shapes[shape] >= PER_PATTERN:
                continue
            shapes[shape] += 1
            queue.append(target)
    return pages


def _sign_in(context, base, email, password):
    page = context.new_page()
    page.goto(base + "/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    assert urlsplit(page.url).path != "/login", f"{email} could not sign in"
    page.close()


def _switch_language(context, base, locale):
    page = context.new_page()
    page.goto(base + "/verify")
    open_menu(page)
    button = page.locator(f"button[name=locale][value={locale}]:visible").first
    if button.count():
        button.click()
        page.wait_for_load_state()
    page.close()


def _prepare(env):
    """Beyond the demo: an essay waiting for the mentor, an issued certificate and a partner's photo, so their pages
    are crawled."""
    import io

    from PIL import Image
    from sqlalchemy import select

    from config import Config
    from lms import create_app
    from lms.auth.models import find_user_by_email
    from lms.certificates.services import issue_certificate
    from lms.curriculum.models import Assignment
    from lms.extensions import db
    from lms.grading.services import save_text_answer
    from lms.learning.models import Cohort
    from lms.partners.services import set_partner_image
    from lms.practice.models import PracticeSite
    from tests.browser.test_certificate_flow import GRADUATES, enrol_eligible_graduates

    config = type("CrawlConfig", (Config,), {"SQLALCHEMY_DATABASE_URI": env["DATABASE_URL"],
                                              "SECRET_KEY": env["SECRET_KEY"], "LMS_BASE_URL": env["LMS_BASE_URL"],
                                              "ARGON2_PROFILE": "CHEAPEST"})
    app = create_app(config)
    enrol_eligible_graduates(app)
    with app.app_context():
        essay = db.session.scalar(select(Assignment).where(Assignment.key == "intro-essay"))
        save_text_answer(find_user_by_email("trainee2@example.org"), essay, "Мой район: дворы, школа и сквер. " * 20,
                         submit=True)
        cohort = db.session.scalar(select(Cohort))
        admin = find_user_by_email("admin@example.org")
        issue_certificate(find_user_by_email(GRADUATES[0][0]), cohort.course, admin)
        photo = io.BytesIO()
        Image.new("RGB", (900, 600), (120, 160, 90)).save(photo, "JPEG")
        partner = db.session.scalar(select(PracticeSite).where(PracticeSite.published).order_by(PracticeSite.id))
        set_partner_image(admin, partner, "workshop.jpg", photo.getvalue(), description="Мастерская изнутри")
        db.session.commit()


def _keep(pages):
    """The crawled pages in test-artifacts/crawl/, to read when a check fails (CI keeps the folder)."""
    folder = ROOT / "test-artifacts" / "crawl"
    folder.mkdir(parents=True, exist_ok=True)
    index = {}
    for (role, locale), found in pages.items():
        for n, (url, html) in enumerate(found.items()):
            name = f"{role}-{locale}-{n}.html"
            (folder / name).write_text(html)
            index[name] = url
    (folder / "index.json").write_text(json.dumps(index, indent=1))


@pytest.fixture(scope="module")
def site(browser, tmp_path_factory):
    """{(role, locale): {url: html}} and, per role, a signed-in browser context (bypassing our CSP for axe)."""
    with running_server(tmp_path_factory.mktemp("crawl")) as (base, accounts, env):
        _prepare(env)
        contexts, pages = {}, {}
        for role, email in ROLES.items():
            context = browser.new_context(viewport={"width": 360, "height": 740}, locale="ru-RU", bypass_csp=True)
            context.set_default_timeout(15000)
            if email:
                _sign_in(context, base, email, accounts[email][1])
            contexts[role] = context
            for locale in ("ru", "en"):
                _switch_language(context, base, locale)
                pages[role, locale] = _crawl(context.request, base, role)
            _switch_language(context, base, "ru")
        _keep(pages)
        yield base, contexts, pages
        for context in contexts.values():
            context.close()


MEASURE = """() => {
  const seen = (el) => { const r = el.getBoundingClientRect(); const s = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' ? r : null; };
  const small = [];
  const controls = document.querySelectorAll(
    '.site-header a, .site-header button, .site-header summary, .breadcrumbs a, main summary, ' +
    'input[type=file], button, .button, input[type=submit]');
  for (const el of controls) {
    const r = seen(el);
    if (r && (Math.round(r.width) < 44 || Math.round(r.height) < 44))
      small.push(`${el.tagName.toLowerCase()} "${(el.innerText || el.value || el.name || '').trim().slice(0, 40)}"` +
                 ` ${Math.round(r.width)}x${Math.round(r.height)}`);
  }
  // Chart text: its size on screen (the font size times the chart's scale), inside the chart, not on another text.
  const charts = [];
  for (const svg of document.querySelectorAll('main svg[viewBox]')) {
    const box = svg.getBoundingClientRect();
    const scale = box.width / svg.viewBox.baseVal.width;
    const texts = [...svg.querySelectorAll('text')].map(t => ({t: t.textContent.trim(), r: t.getBoundingClientRect(),
      px: parseFloat(getComputedStyle(t).fontSize) * scale}));
    texts.forEach((a, i) => {
      if (a.px < 10.95) charts.push(`"${a.t}" ${a.px.toFixed(1)} px`);
      if (a.r.left < box.left - .5 || a.r.right > box.right + .5 || a.r.top < box.top - .5 || a.r.bottom > box.bottom + .5)
        charts.push(`"${a.t}" clipped`);
      for (const b of texts.slice(i + 1))
        if (a.r.left < b.r.right && b.r.left < a.r.right && a.r.top < b.r.bottom && b.r.top < a.r.bottom)
          charts.push(`"${a.t}" overlaps "${b.t}"`);
    });
  }
  const header = document.querySelector('.site-header');
  const wide = [...document.querySelectorAll('main *')].filter(el => el.getBoundingClientRect().right > innerWidth + 1
    && ![...el.children].some(c => c.getBoundingClientRect().right > innerWidth + 1))
    .slice(0, 3).map(el => `${el.tagName.toLowerCase()}.${el.className}`);
  return {width: document.documentElement.scrollWidth, wide,
          header: header ? header.getBoundingClientRect().height : 0, small, charts};
}"""


@pytest.fixture(scope="module")
def rendered(site):
    """Per width: {("role locale", url): {"width", "header", "small", "charts", "axe"}} of every crawled page in
    both languages, axe included."""
    axe = _checker(AXE_JS, "axe-core").read_text()
    base, contexts, pages = site
    results = {}
    for width in (360, 1280):
        found = results[width] = {}
        for role, context in contexts.items():
            page = context.new_page()
            page.set_viewport_size({"width": width, "height": 740 if width == 360 else 900})
            for locale in ("ru", "en"):
                _switch_language(context, base, locale)
                for url in pages[role, locale]:
                    page.goto(base + url)
                    measured = page.evaluate(MEASURE)
                    page.add_script_tag(content=axe)
                    violations = page.evaluate("""async () => (await axe.run(document, {resultTypes: ['violations']}))
                      .violations.filter(v => ['critical', 'serious'].includes(v.impact))
                      .map(v => `${v.impact} ${v.id}: ${v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | ')}`)""")
                    found[f"{role} {locale}", url] = {**measured, "axe": violations}
            _switch_language(context, base, "ru")
            page.close()
    return results


def test_the_crawl_reaches_every_area(site):
    _base, _contexts, pages = site
    for role, expected in {"trainee": ["/courses/", "/practice/", "/sessions/", "/cohorts/"],
                           "mentor": ["/mentor/submissions/", "/practice/trainees/", "/cohorts/"],
                           "admin": ["/admin/users/", "/admin/cohorts/", "/admin/partners/"]}.items():
        urls = " ".join(pages[role, "ru"])
        for prefix in expected:
            assert prefix in urls, f"the {role}'s crawl found no {prefix} page"
        assert len(pages[role, "ru"]) >= 15


@pytest.mark.parametrize("width", [360, 1280])
def test_axe_finds_no_serious_violation(rendered, width):
    problems = [f"{role} {url}: {v}" for (role, url), r in rendered[width].items() for v in r["axe"]]
    assert not problems, "\n".join(problems)


def test_chart_text_is_readable_on_a_phone_and_never_clipped_or_overlapping(rendered):
    problems = [f"{role} {url}: {c}" for (role, url), r in rendered[360].items() for c in r["charts"]]
    assert not problems, "\n".join(problems)


def test_no_page_is_wider_than_a_phone(rendered):
    wide = [f"{role} {url}: {r['width']} px ({', '.join(r['wide'])})" for (role, url), r in rendered[360].items()
            if r["width"] > 360]
    assert not wide, "\n".join(wide)


def test_the_header_takes_at_most_15_percent_of_a_phone_screen(rendered):
    tall = [f"{role} {url}: {r['header']:.0f} px" for (role, url), r in rendered[360].items()
            if r["header"] > HEADER_MAX]
    assert not tall, "\n".join(tall)


def test_main_controls_are_at_least_44_px(rendered):
    small = sorted({f"{role} {url}: {s}" for (role, url), r in rendered[360].items() for s in r["small"]})
    assert not small, "\n".join(small[:80])


def test_html_is_valid(site, tmp_path):
    jar = _checker(VNU_JAR, "vnu-jar")
    _base, _contexts, pages = site
    files = {}
    for (role, locale), found in pages.items():
        for n, (url, html) in enumerate(found.items()):
            path = tmp_path / f"{role}-{locale}-{n}.html"
            path.write_text(html)
            files[path.name] = f"{role} {locale} {url}"
    run = subprocess.run(["java", "-jar", str(jar), "--errors-only", "--format", "json", str(tmp_path)],
                         capture_output=True, text=True, timeout=600)
    messages = json.loads(run.stderr or run.stdout or '{"messages": []}')["messages"]
    errors = [f"{files.get(Path(urlsplit(m.get('url', '')).path).name, m.get('url'))}:{m.get('lastLine')}: "
              f"{m['message']}" for m in messages if m.get("type") in ("error", "non-document-error")]
    assert not errors, "\n".join(errors[:80])


# Latin letters allowed on Russian pages: names of formats, products and standards, addresses, codes.
LATIN_ALLOWED = re.compile(
    r"\b(PDF|DOCX|CSV|XLSX|ZIP|QR|JSON|JWT|JWKS|URL|SMTP|HTML|Markdown|YAML|iCalendar|Google|Apple|Yandex|"
    r"Open Badges?|1EdTech|English|JavaScript|Excel|ODT|ODS|JPG|PNG|VC|ID|OK)\b"
    r"|[\w.+-]+@[\w.-]+|https?://\S+|[\w./-]+\.(md|docx|pdf|csv|ics|png|jpe?g|zip)\b|\b[A-Z0-9]{4,}(-[A-Z0-9]+)+\b")
CYRILLIC_ALLOWED = re.compile(r"Русский")


class _Text(HTMLParser):
    """Text, aria-label, title, placeholder and alt of a page outside elements whose `lang` differs from the page's."""
    # A <title> cannot mark the language of a part of it.
    SKIPPED = {"script", "style", "code", "kbd", "pre", "samp", "title"}
    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

    def __init__(self):
        super().__init__()
        self.page_lang, self.stack, self.chunks = None, [], []

    def _outside(self):
        return all(not skip for _tag, skip in self.stack)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "html":
            self.page_lang = attrs.get("lang")
            return
        skip = tag in self.SKIPPED or (attrs.get("lang") not in (None, self.page_lang))
        if self._outside() and not skip:
            self.chunks += [attrs[a] for a in ("aria-label", "title", "placeholder", "alt") if attrs.get(a)]
        if tag not in self.VOID:
            self.stack.append((tag, skip))

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                break

    def handle_data(self, data):
        if self._outside():
            self.chunks.append(data)


def test_russian_pages_have_no_english(site):
    _base, _contexts, pages = site
    problems = [p for p in _language_problems(pages) if " ru " in p]
    assert not problems, f"{len(problems)} texts:\n" + "\n".join(problems[:300])


def test_english_pages_mark_russian_content(site):
    _base, _contexts, pages = site
    problems = [p for p in _language_problems(pages) if " en " in p]
    assert not problems, f"{len(problems)} texts:\n" + "\n".join(problems[:300])


def _language_problems(pages):
    problems = []
    for (role, locale), found in pages.items():
        for url, html in found.items():
            parser = _Text()
            parser.feed(html)
            assert parser.page_lang == locale, f"{role} {url} is not in {locale}"
            for chunk in parser.chunks:
                if locale == "ru":
                    rest = LATIN_ALLOWED.sub("", chunk)
                    bad = re.search(r"[A-Za-z]{2,}", rest)
                else:
                    rest = CYRILLIC_ALLOWED.sub("", chunk)
                    bad = re.search(r"[А-Яа-яЁё]", rest)
                if bad:
                    problems.append(f"{role} {locale} {url}: {' '.join(chunk.split())[:100]!r}")
    return sorted(set(problems), key=lambda p: (" ru " not in p, p))
