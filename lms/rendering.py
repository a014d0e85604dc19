"""Markdown to safe HTML: one renderer and one allow-list for curriculum text and for users' text.

HTML is produced once, when a course is synced or a text is saved, and stored; pages never render
Markdown per request.
"""
import threading
from functools import partial

import bleach
import markdown
from bleach.linkifier import LinkifyFilter
from markdown.extensions.toc import slugify_unicode

ALLOWED_TAGS = frozenset({
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "b", "i", "del", "sup", "sub",
    "code", "pre", "blockquote", "ul", "ol", "li", "dl", "dt", "dd", "a", "abbr",
    "table", "thead", "tbody", "tr", "th", "td", "div", "span",
})
ALLOWED_ATTRIBUTES = {
    "a": ["href", "title"],
    "abbr": ["title"],
    "th": ["align"],
    "td": ["align"],
    "div": ["class"],
    "p": ["class"],
    "span": ["class"],
    "code": ["class"],
    "ol": ["start"],
    **{f"h{n}": ["id"] for n in range(1, 7)},
}
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})

EXTENSIONS = ["tables", "fenced_code", "admonition", "sane_lists", "toc"]
EXTENSION_CONFIGS = {"toc": {"slugify": slugify_unicode, "toc_depth": "2-3"}}

# Bump when rendering changes, so that a sync re-renders content whose source did not change.
RENDERER_VERSION = "1"


# Building a Markdown converter and a cleaner costs as much as using them (a cold sync of 200 modules spent
# 2-3 s on it); neither is thread-safe, so each thread keeps its own.
_local = threading.local()


def _user_link(attrs, new=False):
    """Links people post point away from us as a forum's should: no credit, no referrer, no window access."""
    attrs[(None, "rel")] = "nofollow ugc noopener"
    return attrs


def _renderers():
    if not hasattr(_local, "markdown"):
        _local.markdown = markdown.Markdown(extensions=EXTENSIONS, extension_configs=EXTENSION_CONFIGS)
        _local.cleaner = bleach.Cleaner(tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES,
                                        protocols=ALLOWED_PROTOCOLS, strip=True, strip_comments=True)
        _local.user_cleaner = bleach.Cleaner(
            tags=ALLOWED_TAGS, attributes={**ALLOWED_ATTRIBUTES, "a": ["href", "title", "rel"]},
            protocols=ALLOWED_PROTOCOLS, strip=True, strip_comments=True,
            filters=[partial(LinkifyFilter, callbacks=[_user_link], skip_tags={"pre", "code"})])
    return _local.markdown, _local.cleaner


def sanitize_html(html):
    return _renderers()[1].clean(html)


def render_user_markdown(text):
    """What a person posts (comments, announcements, discussion posts): sanitised like everything else, bare
    addresses made links, and every link marked rel="nofollow ugc noopener"."""
    md, _cleaner = _renderers()
    return _local.user_cleaner.clean(md.reset().convert(text or ""))


def render_markdown(text, with_toc=False):
    """Return sanitised HTML, or (html, toc_html) when with_toc is set."""
    md, cleaner = _renderers()
    html = cleaner.clean(md.reset().convert(text or ""))
    if not with_toc:
        return html
    toc = md.toc if md.toc_tokens else ""
    return html, cleaner.clean(toc)
