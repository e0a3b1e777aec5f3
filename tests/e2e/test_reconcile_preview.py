"""The reconciliation preview in a frame, as OpenRefine shows it: a page of another origin (here
another port, as OpenRefine's http://127.0.0.1:3333) frames /reconcile/preview and the card shows;
the same page framing a site page gets nothing (the rest of the site keeps frame-ancestors 'none')."""

from __future__ import annotations

import http.server
import threading

import pytest

from catalog.services.reconciling.index import clear_cache


@pytest.fixture
def other_origin():
    """A tiny server on another port that answers every GET with the HTML it was given."""
    pages: dict[str, str] = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            body = pages.get(self.path, "").encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", pages
    server.shutdown()
    thread.join(timeout=5)
    server.server_close()


def test_preview_shows_inside_another_origins_frame(
    page, live_server, other_origin, make_course, screenshot
):
    clear_cache()
    course = make_course(
        "Introduction to De-escalation (1 hour)",
        areas={"skill-development": 1},
        topics=["de-escalation"],
    )
    origin, pages = other_origin
    pages["/refine"] = (
        "<!doctype html><title>OpenRefine</title><h1>Reconcile</h1>"
        f'<iframe id="preview" src="{live_server}/reconcile/preview?id={course.id}" '
        'width="430" height="220"></iframe>'
        f'<iframe id="site" src="{live_server}/" width="430" height="220"></iframe>'
    )
    page.goto(f"{origin}/refine")
    card = page.frame_locator("#preview").locator("h1")
    card.wait_for()
    assert card.inner_text() == "Introduction to De-escalation (1 hour)"
    assert "Skill Development" in page.frame_locator("#preview").locator("body").inner_text()
    site = page.frame(url=f"{live_server}/")
    assert site is None or site.locator(".site-header").count() == 0
    screenshot("preview-in-frame")
