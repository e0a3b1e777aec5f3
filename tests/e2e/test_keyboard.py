"""Keyboard users: a skip link is the first stop on every page, and choosing a facet keeps the
focus on that facet instead of sending it back to the top of the new page."""

from __future__ import annotations


def _focused(page) -> dict:
    return page.evaluate(
        """() => {
            const el = document.activeElement;
            const facet = el.closest('[data-facet]');
            return {tag: el.tagName, id: el.id, text: el.textContent.trim(),
                    value: el.getAttribute('data-value'),
                    facet: facet ? facet.getAttribute('data-facet') : null};
        }"""
    )


def test_skip_link_is_first_and_moves_focus_to_the_content(page, live_server, screenshot, taxonomy):
    page.goto(live_server + "/courses")
    page.keyboard.press("Tab")
    first = _focused(page)
    assert first["text"] == "Skip to main content"
    assert page.locator(".skip-link").is_visible()  # shown when focused
    screenshot("skip-link-focused")
    page.keyboard.press("Enter")
    assert _focused(page)["id"] == "main"
    page.keyboard.press("Tab")  # the next stop is inside the content, past the site navigation
    assert page.evaluate("() => document.getElementById('main').contains(document.activeElement)")


def test_choosing_a_facet_keeps_the_focus_on_it(page, live_server, screenshot, make_course):
    make_course(
        "Introduction to De-escalation (1 hour)",
        delivery="online",
        areas={"skill-development": 1},
        topics=["de-escalation"],
    )
    make_course("Missouri Legal Update", hours="2", areas={"legal-studies": 2})
    page.set_viewport_size({"width": 1000, "height": 500})
    page.goto(live_server + "/courses")
    link = page.locator('[data-facet="delivery"] a[data-value="online"]')
    link.focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**delivery=online**")
    page.wait_for_load_state("load")
    focused = _focused(page)
    assert (focused["facet"], focused["value"]) == ("delivery", "online"), focused
    assert (
        page.locator('[data-facet="delivery"] a[data-value="online"]').get_attribute("aria-current")
        == "true"
    )
    assert page.evaluate("() => window.scrollY") > 0  # the facet is in view, not the page top
    screenshot("facet-chosen-focus-kept")

    # choosing it again (to clear it) keeps the focus on the same facet value too
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "delivery=online" not in url)
    page.wait_for_load_state("load")
    focused = _focused(page)
    assert (focused["facet"], focused["value"]) == ("delivery", "online"), focused
