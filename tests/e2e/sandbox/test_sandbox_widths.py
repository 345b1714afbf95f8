"""The sandbox page from a phone to a wide screen: a real `playbook serve --sandbox --seed` and
headless Chromium at 390 px (a phone) and at 1440 px (a desktop).

A newcomer's first hour, point "the page is unusable at phone width": at every width the page
never scrolls sideways (a long code block scrolls inside itself), the approval card and the App
Home fit, the composer stays in the window, another channel is a tap away (on a phone through
the menu button's drawer, as in Slack's mobile app; on a desktop in the sidebar), and a thread
opens within the window (on a phone over the messages) and closes again.

Screenshots land in test-artifacts/sandbox/ (or $PLAYBOOK_ARTIFACTS) as w390-… and w1440-….
Waits are Playwright's auto-waiting `expect`s only.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest
from browser_support import chromium, clean_page, screenshot
from sandbox_process import SandboxServer

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Locator, Page, ViewportSize

PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1440, "height": 900}
MENU = "Channels and apps"  # the top bar's button for the channel drawer on a phone

# Nothing scrolls sideways but what is meant to (code blocks, the rows of command hints): not
# the page, and not the panes that scroll up and down.
OVERFLOW = """() => {
  const wide = [document.documentElement, ...document.querySelectorAll(
    ".messages, .home-view, .thread-messages, .composer, .pane-header, .topbar")]
    .filter((node) => node.getClientRects().length && node.scrollWidth > node.clientWidth);
  return {window: window.innerWidth, page: document.documentElement.scrollWidth,
          wider: wide.map((node) => `${node.id || node.className}: ${node.scrollWidth} px`)};
}"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture(params=[PHONE, DESKTOP], ids=lambda size: f"w{size['width']}")
def viewport(request: pytest.FixtureRequest) -> ViewportSize:
    size: ViewportSize = request.param
    return size


@pytest.fixture
def page(browser: Browser, viewport: ViewportSize) -> Iterator[Page]:
    with clean_page(browser, viewport) as page:
        yield page


def on_a_phone(page: Page) -> bool:
    return (page.viewport_size or DESKTOP)["width"] == PHONE["width"]


def shot(page: Page, step: str) -> None:
    screenshot(page, f"w{(page.viewport_size or DESKTOP)['width']}-{step}")


def candidate(server: SandboxServer, model: str) -> str:
    """The seeded version no tag points at yet: the one left for the newcomer to promote."""
    done = server.playbook("--json", "versions", model)
    assert done.returncode == 0, done.stderr
    versions: list[dict[str, Any]] = json.loads(done.stdout)
    return next(str(v["short"]) for v in versions if not v["tags"])


def message(page: Page, text: str | re.Pattern[str]) -> Locator:
    return page.get_by_role("main").get_by_role("article").filter(has_text=text)


def composer_in_view(page: Page, channel: str) -> Locator:
    """The message box and its Send button, whole and inside the window."""
    from playwright.sync_api import expect

    composer = page.get_by_role("textbox", name=f"Message #{channel}")
    expect(composer).to_be_in_viewport(ratio=1)
    expect(page.get_by_role("button", name="Send", exact=True)).to_be_in_viewport(ratio=1)
    return composer


def run(page: Page, channel: str, command: str) -> None:
    """Types a slash command into the channel's composer and sends it with Enter."""
    from playwright.sync_api import expect

    composer = composer_in_view(page, channel)
    composer.fill(command)
    composer.press("Enter")
    expect(composer).to_have_value("")


def fits_the_width(page: Page) -> None:
    found = page.evaluate(OVERFLOW)
    assert found["page"] <= found["window"] and not found["wider"], \
        f"scrolls sideways in a {found['window']} px window: page {found['page']} px, " \
        f"{found['wider']}"


def within_the_width(page: Page, box: Locator) -> None:
    edges = box.bounding_box()
    assert edges is not None
    width = (page.viewport_size or DESKTOP)["width"]
    assert edges["x"] >= 0 and edges["x"] + edges["width"] <= width, (edges, width)


def the_messages_get_the_room(page: Page) -> None:
    """On a phone the pane is the whole width (the sidebar waits in its drawer); on a desktop
    the sidebar stands beside it."""
    from playwright.sync_api import expect

    pane = page.get_by_role("main").bounding_box()
    assert pane is not None
    width = (page.viewport_size or DESKTOP)["width"]
    nav = page.get_by_role("navigation", name="Workspace")
    if on_a_phone(page):
        expect(nav).to_be_hidden()
        assert pane["x"] == 0 and pane["width"] == width, (pane, width)
    else:
        expect(nav).to_be_in_viewport(ratio=1)
        side = nav.bounding_box()
        assert side is not None and pane["x"] >= side["x"] + side["width"], (pane, side)


def go_to(page: Page, name: str) -> None:
    """Opens a channel or the app as a person does: from the sidebar on a desktop; on a phone
    the sidebar is a drawer behind the menu button, which closes once a channel is picked."""
    from playwright.sync_api import expect

    menu = page.get_by_role("button", name=MENU)
    nav = page.get_by_role("navigation", name="Workspace")
    if not on_a_phone(page):
        expect(menu).to_be_hidden()
        nav.get_by_role("button", name=name, exact=True).click()
        return
    expect(nav).to_be_hidden()
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(menu).to_have_attribute("aria-controls", "sidebar")
    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(nav).to_be_in_viewport(ratio=1)
    shot(page, f"drawer-open-for-{name}")
    nav.get_by_role("button", name=name, exact=True).click()
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(nav).to_be_hidden()
    expect(page.get_by_role("heading", level=1)).to_be_focused()  # what was picked


def an_approval_card_and_the_app_home_fit_the_window(sandbox_server: SandboxServer,
                                                     page: Page) -> None:
    from playwright.sync_api import expect

    version = candidate(sandbox_server, "triage")
    page.goto(sandbox_server.base_url + "/")
    expect(page.get_by_role("heading", level=1)).to_have_text("#releases")
    the_messages_get_the_room(page)
    composer_in_view(page, "releases")
    fits_the_width(page)
    shot(page, "01-releases")

    # The approval card: its fields, buttons and request id stay inside the window.
    run(page, "releases", f"/promote triage {version} because better recall")
    card = message(page, f"Promotion to production: {version}")
    reject = card.get_by_role("button", name="Reject")
    for button in (card.get_by_role("button", name="Approve"), reject):
        expect(button).to_be_in_viewport(ratio=1)
        within_the_width(page, button)
    within_the_width(page, card)
    composer_in_view(page, "releases")
    fits_the_width(page)
    shot(page, "02-approval-card")

    # Its confirm dialog fits, both answers on screen.
    reject.click()
    dialog = page.get_by_role("dialog", name="Reject this promotion?")
    expect(dialog).to_be_in_viewport(ratio=1)
    for answer in ("Cancel", "Reject"):
        expect(dialog.get_by_role("button", name=answer, exact=True)).to_be_in_viewport(ratio=1)
    expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()
    shot(page, "03-confirm-dialog")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()

    # The App Home: every model's fields and buttons fit.
    go_to(page, "Playbook")
    expect(page.get_by_role("tab", name="Home")).to_have_attribute("aria-selected", "true")
    home = page.get_by_role("tabpanel", name="Home")
    expect(home.get_by_role("heading", name="Playbook: models at a glance")).to_be_visible()
    rehearse = home.get_by_role("button", name="Run rehearsal now").first
    expect(rehearse).to_be_in_viewport(ratio=1)
    within_the_width(page, home)
    fits_the_width(page)
    shot(page, "04-app-home")


def another_channel_is_in_reach_and_answers_registry_help(sandbox_server: SandboxServer,
                                                          page: Page) -> None:
    from playwright.sync_api import expect

    page.goto(sandbox_server.base_url + "/")
    expect(page.get_by_role("heading", level=1)).to_have_text("#releases")
    menu = page.get_by_role("button", name=MENU)
    if on_a_phone(page):
        # By keyboard: the drawer takes the focus to the channel shown, Escape gives it back.
        menu.focus()
        page.keyboard.press("Enter")
        expect(menu).to_have_attribute("aria-expanded", "true")
        nav = page.get_by_role("navigation", name="Workspace")
        expect(nav.get_by_role("button", name="releases", exact=True)).to_be_focused()
        page.keyboard.press("Escape")
        expect(menu).to_have_attribute("aria-expanded", "false")
        expect(menu).to_be_focused()
        expect(nav).to_be_hidden()

    go_to(page, "incidents")
    expect(page.get_by_role("heading", level=1)).to_have_text("#incidents")
    run(page, "incidents", "/registry help")
    answer = message(page, "Playbook commands")
    expect(answer).to_contain_text("Only visible to you")
    expect(answer).to_contain_text("/registry versions")
    expect(answer).to_be_in_viewport()
    within_the_width(page, answer)
    composer_in_view(page, "incidents")
    fits_the_width(page)
    shot(page, "05-registry-help-in-incidents")


def a_thread_opens_inside_the_window_and_closes(sandbox_server: SandboxServer,
                                               page: Page) -> None:
    from playwright.sync_api import expect

    page.goto(sandbox_server.base_url + "/?channel=C0SB02")
    expect(page.get_by_role("heading", level=1)).to_have_text("#incidents")
    run(page, "incidents", "/audit support-req-1")
    summary = message(page, "Audit of request support-req-1")
    replies = summary.get_by_role("button", name=re.compile(r"\d+ repl(y|ies)"))
    expect(replies).to_be_in_viewport(ratio=1)
    replies.click()

    thread = page.get_by_role("complementary", name="Thread")
    expect(thread).to_be_in_viewport(ratio=1)
    expect(thread.get_by_role("list", name="Files").get_by_role("link").first).to_be_visible()
    close = thread.get_by_role("button", name="Close thread")
    expect(close).to_be_focused()
    expect(close).to_be_in_viewport(ratio=1)
    box, pane = thread.bounding_box(), page.get_by_role("main").bounding_box()
    assert box is not None and pane is not None
    if on_a_phone(page):  # over the messages, all of them
        assert box["x"] <= pane["x"] and box["x"] + box["width"] >= pane["x"] + pane["width"]
    else:  # beside them
        assert box["x"] >= pane["x"] + pane["width"] - 1, (box, pane)
    fits_the_width(page)
    shot(page, "06-thread")

    close.click()
    expect(thread).to_be_hidden()
    expect(replies).to_be_focused()
    composer_in_view(page, "incidents")
    shot(page, "07-thread-closed")


def test_the_page_fits_from_a_phone_to_a_wide_screen(sandbox_server: SandboxServer,
                                                    page: Page) -> None:
    """Each width in one sandbox (a server start is most of the cost), three stories in it."""
    an_approval_card_and_the_app_home_fit_the_window(sandbox_server, page)
    another_channel_is_in_reach_and_answers_registry_help(sandbox_server, page)
    a_thread_opens_inside_the_window_and_closes(sandbox_server, page)
