"""The sandbox page end to end: a real `playbook serve --sandbox --seed` and headless Chromium.

The story of issue 6, as a newcomer clicks it: promote a high-stakes model, see the approval
card, be refused when approving one's own request, switch to an approver and approve, watch the
card change in place, be refused a rollback outside the incident channel, roll back in it and
read the incident record and its thread. Every element is found by role and accessible name,
so the test also checks the page is labelled for keyboard and screen-reader users. A
screenshot of each step lands in test-artifacts/sandbox/ (or $PLAYBOOK_ARTIFACTS).

Each test gets a fresh sandbox (conftest's `sandbox_server`) and a fresh browser context; the
browser itself is started once per module. Waits are Playwright's auto-waiting `expect`s only.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest
from browser_support import VIEWPORT, chromium, clean_page, fail_on_page_errors, screenshot
from testkit.waiting import LIMIT_S

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Locator, Page
    from sandbox_process import SandboxServer

EVAL_TIMEOUT_MS = int(LIMIT_S * 1000)  # a rollback's confirmation runs the real eval suite


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    with clean_page(browser, VIEWPORT) as page:
        yield page


def candidate(server: SandboxServer, model: str) -> str:
    """The seeded version no tag points at yet: the one left for the newcomer to promote."""
    done = server.playbook("--json", "versions", model)
    assert done.returncode == 0, done.stderr
    versions: list[dict[str, Any]] = json.loads(done.stdout)
    return next(str(v["short"]) for v in versions if not v["tags"])


def run(page: Page, channel: str, command: str) -> None:
    """Types a slash command into the channel's composer and sends it with Enter."""
    from playwright.sync_api import expect

    composer = page.get_by_role("textbox", name=f"Message #{channel}")
    composer.fill(command)
    composer.press("Enter")
    expect(composer).to_have_value("")


def message(page: Page, text: str | re.Pattern[str]) -> Locator:
    return page.get_by_role("main").get_by_role("article").filter(has_text=text)


def test_promote_approve_and_roll_back_in_the_browser(sandbox_server: SandboxServer,
                                                       page: Page) -> None:
    from playwright.sync_api import expect

    version = candidate(sandbox_server, "triage")
    page.goto(sandbox_server.base_url + "/")

    # The workspace: channels from playbook.toml, the App Home, acting as the requester.
    expect(page.get_by_role("heading", level=1)).to_have_text("#releases")
    nav = page.get_by_role("navigation", name="Workspace")
    for name in ("releases", "incidents", "Playbook"):
        expect(nav.get_by_role("button", name=name, exact=True)).to_be_visible()
    switcher = page.get_by_label("Acting as")
    expect(switcher).to_have_value("U0YOU")
    expect(switcher.get_by_role("option")).to_contain_text(
        ["You (requester)", "Ana", "Ben (approver)", "Cho (approver)",
         "Olly (outside the channel)"])
    screenshot(page, "01-workspace")

    # A newcomer knows no version id: the channel offers the seeded one to promote.
    tips = page.get_by_role("group", name="Try in this channel")
    tips.get_by_role("button", name=f'Put "/promote triage {version}" in the message box') \
        .click()
    composer = page.get_by_role("textbox", name="Message #releases")
    expect(composer).to_have_value(f"/promote triage {version}")
    expect(composer).to_be_focused()

    # Play 2 on a high-stakes model: the approval card in #releases.
    run(page, "releases", f"/promote triage {version} because better recall")
    card = message(page, f"Promotion to production: {version}")
    expect(card.get_by_role("heading", name=f"Promotion to production: {version}")) \
        .to_be_visible()
    approve = card.get_by_role("button", name="Approve")
    expect(approve).to_have_class(re.compile(r"\bbk-primary\b"))
    expect(card.get_by_role("button", name="Reject")).to_have_class(re.compile(r"\bbk-danger\b"))
    expect(card).to_contain_text("Requested by")
    expect(card).to_contain_text("@You")
    expect(message(page, "You ran /promote triage")).to_contain_text("Only visible to you")
    screenshot(page, "02-approval-card")

    # Reject asks first; Cancel sends nothing.
    card.get_by_role("button", name="Reject").click()
    dialog = page.get_by_role("dialog", name="Reject this promotion?")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()
    screenshot(page, "03-reject-confirm-dialog")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(card.get_by_role("button", name="Reject")).to_be_focused()

    # The requester cannot approve their own promotion: an ephemeral refusal, card unchanged.
    approve.click()
    refusal = message(page, "requested this promotion and cannot approve it")
    expect(refusal).to_contain_text("Only visible to you")
    screenshot(page, "04-self-approval-refused")

    # Someone outside the channel may click, and is told why not.
    switcher.select_option(label="Olly (outside the channel)")
    expect(refusal).to_have_count(0)  # the requester's ephemerals are theirs alone
    expect(page.get_by_text("You (Olly) are not a member of #releases")).to_be_visible()
    # As in Slack, no message box (and nothing to try in it) before joining; the banner
    # says so and who can type here, instead of a box that would then refuse.
    expect(page.get_by_text("so you cannot type here")).to_be_visible()
    expect(page.get_by_role("textbox", name="Message #releases")).to_be_hidden()
    expect(page.get_by_role("group", name="Try in this channel")).to_be_hidden()
    card.get_by_role("button", name="Approve").click()
    expect(message(page, "not a member")).to_contain_text("Only visible to you")
    # People and channels named as Slack shows them, never as raw <@U…> markup.
    expect(message(page, "not a member")).to_contain_text("@Olly is not a member of #releases")
    screenshot(page, "05-outsider-refused")

    # An approver who is a member approves: the card is updated in place, without buttons.
    switcher.select_option(label="Ben (approver)")
    expect(page.get_by_text("are not a member of")).to_be_hidden()
    card.get_by_role("button", name="Approve").click()
    expect(card).to_contain_text("Approved by @Ben")
    expect(card.get_by_role("button")).to_have_count(0)
    expect(card.get_by_text("(edited)")).to_be_visible()
    screenshot(page, "06-approved-card-updated")

    # Play 3 outside the incident channel is refused, naming the right one.
    run(page, "releases", "/rollback triage because empty answers")
    refused = message(page, re.compile(r"incident channel|#incidents"))
    expect(refused.last).to_contain_text("Only visible to you")
    screenshot(page, "07-rollback-refused-in-releases")

    # In #incidents it rolls back at once and posts the incident record.
    nav.get_by_role("button", name="incidents", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("#incidents")
    run(page, "incidents", "/rollback triage because empty answers")
    # The record (its header says so), not the ephemeral answer to /rollback beside it.
    record = page.get_by_role("main").get_by_role("article").filter(
        has=page.get_by_role("heading", name=re.compile("Rolled back triage")))
    expect(record.get_by_role("heading", name=re.compile("Rolled back triage"))).to_be_visible()
    expect(record).to_contain_text("empty answers")
    expect(record).to_contain_text(version)
    screenshot(page, "08-incident-record")

    # The confirmation eval follows in the record's thread.
    replies = record.get_by_role("button", name=re.compile(r"\d+ repl(y|ies)"))
    expect(replies).to_be_visible(timeout=EVAL_TIMEOUT_MS)
    replies.click()
    thread = page.get_by_role("complementary", name="Thread")
    expect(thread).to_be_visible()
    expect(thread).to_contain_text("Rolled back triage")
    expect(thread).to_contain_text(re.compile(r"Confirmation eval (passed|failed)"))
    screenshot(page, "09-incident-thread")
    page.keyboard.press("Escape")
    expect(thread).to_be_hidden()
    expect(replies).to_be_focused()

    # The App Home: where every model stands, for the user acting now.
    nav.get_by_role("button", name="Playbook", exact=True).click()
    expect(page.get_by_role("tab", name="Home")).to_have_attribute("aria-selected", "true")
    home = page.get_by_role("tabpanel", name="Home")
    expect(home.get_by_role("heading", name="Playbook: models at a glance")).to_be_visible()
    expect(home).to_contain_text("triage")
    expect(home.get_by_role("button", name="Run rehearsal now").first).to_be_visible()
    screenshot(page, "10-app-home")


def test_the_composer_says_what_is_wrong_and_works_by_keyboard(sandbox_server: SandboxServer,
                                                                page: Page) -> None:
    from playwright.sync_api import expect

    page.goto(sandbox_server.base_url + "/?channel=C0SB02")
    expect(page.get_by_role("heading", level=1)).to_have_text("#incidents")
    for landmark in ("banner", "navigation", "main"):
        expect(page.get_by_role(landmark)).to_have_count(1)

    # Keyboard only: the skip link leads to the composer, the hints fill it in.
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to the composer")).to_be_focused()
    page.keyboard.press("Enter")
    composer = page.get_by_role("textbox", name="Message #incidents")
    expect(composer).to_be_focused()
    composer.press_sequentially("/reh")
    expect(page.get_by_text("Usage: /rehearse <model>")).to_be_visible()
    page.get_by_role("button", name="Insert /registry").click()
    expect(composer).to_have_value("/registry ")
    expect(composer).to_be_focused()

    # Plain text is not a command; an unknown command is refused by the sandbox, kept typed.
    composer.fill("hello bot")
    composer.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("only answers slash commands")
    composer.fill("/deploy everything")
    composer.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("Not sent:")
    expect(composer).to_have_value("/deploy everything")

    # A command the bot answers, sent with Enter.
    composer.fill("/registry help")
    composer.press("Enter")
    expect(page.get_by_role("alert")).to_be_hidden()
    expect(message(page, "Playbook commands")).to_contain_text("Only visible to you")
    screenshot(page, "11-registry-help")

    # Play 5: the summary in the channel, the whole bundle as a file in its thread.
    run(page, "incidents", "/audit support-req-1")
    summary = message(page, "Audit of request support-req-1")
    replies = summary.get_by_role("button", name=re.compile(r"\d+ repl(y|ies)"))
    replies.click()
    thread = page.get_by_role("complementary", name="Thread")
    link = thread.get_by_role("list", name="Files").get_by_role("link").first
    expect(link).to_be_visible()
    bundle = page.request.get(sandbox_server.base_url + (link.get_attribute("href") or ""))
    assert bundle.ok and bundle.json()["attribution"]["request_id"] == "support-req-1"
    screenshot(page, "12-audit-file-in-thread")


def test_changes_made_elsewhere_show_up_live_even_without_the_event_stream(
        sandbox_server: SandboxServer, page: Page, browser: Browser) -> None:
    from playwright.sync_api import expect

    version = candidate(sandbox_server, "support")
    page.goto(sandbox_server.base_url + "/")
    expect(page.get_by_role("heading", level=1)).to_have_text("#releases")
    # A second person whose page gets no server-sent events: it falls back to polling.
    other = browser.new_context(viewport=VIEWPORT).new_page()
    other.set_default_timeout(LIMIT_S * 1000)
    errors = fail_on_page_errors(other)
    other.route("**/sandbox/events", lambda route: route.abort())
    other.goto(sandbox_server.base_url + "/?user=U0ANA")
    expect(other.get_by_label("Acting as")).to_have_value("U0ANA")

    # Someone else promotes a low-stakes model: the announcement reaches both pages.
    answer = sandbox_server.http.post("/sandbox/command", json={
        "user": "U0CHO", "channel": "C0SB01", "text": f"/promote support {version}"})
    assert answer.status_code == 200, answer.text
    for viewer in (page, other):
        expect(message(viewer, f"Promoted {version} to production")).to_be_visible()

    # An App Home button (no channel, no message) runs the drill; the record lands in
    # #incidents, where the first page sees it arrive.
    other.get_by_role("navigation").get_by_role("button", name="Playbook", exact=True).click()
    other.get_by_role("tabpanel", name="Home").get_by_role(
        "button", name="Run rehearsal now").first.click()
    page.get_by_role("navigation").get_by_role("button", name="incidents", exact=True).click()
    record = message(page, "Rehearsal: rolled back support")
    expect(record).to_be_visible(timeout=EVAL_TIMEOUT_MS)
    screenshot(page, "13-rehearsal-from-app-home")

    # The app's Messages tab is the direct messages with the bot, with its own composer.
    other.get_by_role("tab", name="Messages").click()
    expect(other.get_by_role("tab", name="Messages")).to_have_attribute("aria-selected", "true")
    expect(other.get_by_role("textbox", name="Message Playbook")).to_be_visible()
    expect(other.get_by_role("tabpanel", name="Home")).to_be_hidden()
    other.context.close()
    assert errors == [], errors
