"""The sandbox page's Block Kit renderer (bot/sandbox/static/blockkit.js), in headless Chromium.

The renderer is a pure function from blocks to DOM, so each test hands it blocks and reads the
nodes back: by role and name where a person would (buttons), by structure where Slack's look
is the point (fields, context, mrkdwn). The last tests render the bot's own messages, built by
bot/slack/blocks, so the page and the bot cannot drift apart unnoticed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from browser_support import STATIC, VIEWPORT, chromium, fail_on_page_errors, screenshot

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

T0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
CTX = {"users": {"U0ANA": "Ana", "U0BEN": "Ben"}, "channels": {"C0REL": "triage-releases"}}
HOSTILE = '<script>window.pwned = 1</script><img src=x onerror="window.pwned = 2">'


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
def page(browser: Browser) -> Iterator[Page]:
    """One page for the module: blockkit.js and style.css inlined, nothing fetched."""
    page = browser.new_page(viewport=VIEWPORT)
    errors = fail_on_page_errors(page)
    css = (STATIC / "style.css").read_text()
    script = (STATIC / "blockkit.js").read_text()
    page.set_content(f"<!doctype html><html lang=en><head><style>{css}</style></head>"
                     "<body style='background:#fff'><main class='messages' id='root'></main>"
                     f"<script>{script}</script></body></html>")
    yield page
    assert errors == []
    page.close()


def show(page: Page, blocks: list[dict[str, Any]], ctx: dict[str, Any] | None = None) -> None:
    page.evaluate("([blocks, ctx]) => document.getElementById('root')"
                  ".replaceChildren(BlockKit.renderBlocks(blocks, ctx))", [blocks, ctx])


def mrkdwn(page: Page, text: str, ctx: dict[str, Any] | None = None) -> dict[str, str]:
    found: dict[str, str] = page.evaluate(
        "([text, ctx]) => { const n = BlockKit.renderMrkdwn(text, ctx);"
        " return {html: n.innerHTML, text: n.textContent}; }", [text, ctx])
    return found


def plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text, "emoji": True}


def md(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text}


# ---- blocks -------------------------------------------------------------------------------

def test_a_header_is_a_heading_with_its_emoji(page: Page) -> None:
    show(page, [{"type": "header", "text": plain(":rotating_light: Rolled back chat")}])
    heading = page.get_by_role("heading", level=3)
    assert heading.text_content() == "\U0001f6a8 Rolled back chat"


def test_a_section_has_mrkdwn_text_and_fields_two_to_a_row(page: Page) -> None:
    show(page, [{"type": "section", "text": md("*Candidate* beats production"),
                 "fields": [md("*Candidate*\n`chat@bbbb`"), md("*Production*\n`chat@aaaa`"),
                            md("*Delta*\n:arrow_up: +0.1"), plain("plain *not bold*")]}])
    assert page.locator("#root .bk-section-text b").text_content() == "Candidate"
    cells = page.locator("#root .bk-field")
    assert cells.count() == 4
    assert cells.nth(0).inner_text() == "Candidate\nchat@bbbb"
    assert cells.nth(3).locator("b").count() == 0
    first, second, third = (cells.nth(i).bounding_box() for i in range(3))
    assert first and second and third
    assert first["y"] == second["y"] and second["x"] > first["x"]  # side by side
    assert third["y"] > first["y"]  # the third starts the next row


def test_a_section_accessory_button_sits_beside_the_text(page: Page) -> None:
    show(page, [{"type": "section", "block_id": "row-1", "text": md("Production is `a`"),
                 "accessory": {"type": "button", "text": plain("Details"),
                               "action_id": "show_details", "value": "chat@a"}}])
    button = page.get_by_role("button", name="Details")
    assert button.get_attribute("data-action-id") == "show_details"
    assert button.get_attribute("data-block-id") == "row-1"
    assert button.get_attribute("data-value") == "chat@a"
    text_box = page.locator("#root .bk-section-text").bounding_box()
    button_box = button.bounding_box()
    assert text_box and button_box and button_box["x"] > text_box["x"] + text_box["width"] - 1


def test_context_divider_and_unknown_blocks(page: Page) -> None:
    show(page, [{"type": "context", "elements": [md("Request `apr-1`"), plain("2 approvers")]},
                {"type": "divider"},
                {"type": "input", "label": plain("Why?")}])
    assert page.locator("#root .bk-context .bk-context-item").count() == 2
    assert page.locator("#root .bk-context code").text_content() == "apr-1"
    assert page.locator("#root hr.bk-divider").count() == 1
    assert page.locator("#root [data-block-type=input]").text_content() == \
        '[block "input" is not shown in the sandbox]'


def test_action_buttons_carry_their_action_style_and_confirm(page: Page) -> None:
    confirm = {"title": plain("Reject this promotion?"), "text": md("`chat@b` stays out."),
               "confirm": plain("Reject"), "deny": plain("Cancel"), "style": "danger"}
    show(page, [{"type": "actions", "block_id": "approval:apr-1", "elements": [
        {"type": "button", "text": plain("Approve"), "action_id": "approval_approve",
         "value": "apr-1", "style": "primary"},
        {"type": "button", "text": plain("Reject"), "action_id": "approval_reject",
         "value": "apr-1", "style": "danger", "confirm": confirm},
        {"type": "button", "text": plain("Later"), "action_id": "later", "value": "x"},
        {"type": "static_select", "action_id": "pick"}]}])
    approve = page.get_by_role("button", name="Approve")
    reject = page.get_by_role("button", name="Reject")
    later = page.get_by_role("button", name="Later")
    assert approve.get_attribute("class") == "bk-button bk-primary"
    assert reject.get_attribute("class") == "bk-button bk-danger"
    assert later.get_attribute("class") == "bk-button"
    assert approve.get_attribute("data-block-id") == "approval:apr-1"
    assert approve.get_attribute("data-confirm") is None
    assert json.loads(reject.get_attribute("data-confirm") or "") == confirm
    assert reject.get_attribute("aria-haspopup") == "dialog"
    assert approve.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(0, 122, 90)"
    assert reject.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(224, 30, 90)"
    assert page.locator("#root .bk-unsupported").count() == 1


def test_a_url_button_is_a_link_and_only_safe_schemes_are(page: Page) -> None:
    show(page, [{"type": "actions", "elements": [
        {"type": "button", "text": plain("Runbook"), "url": "https://example.com/runbook"},
        {"type": "button", "text": plain("Sneaky"), "url": "javascript:alert(1)",
         "action_id": "sneaky", "value": "v"}]}])
    assert page.get_by_role("link", name="Runbook").get_attribute("href") == \
        "https://example.com/runbook"
    assert page.get_by_role("button", name="Sneaky").get_attribute("href") is None


def test_plain_text_is_literal_and_nothing_renders_as_nothing(page: Page) -> None:
    show(page, [{"type": "section", "fields": [
        {"type": "plain_text", "text": ":rocket: *a* &amp; b", "emoji": False},
        {"type": "plain_text", "text": ":rocket: *a* &amp; b"}]}])
    cells = page.locator("#root .bk-field")
    assert cells.nth(0).text_content() == ":rocket: *a* &amp; b"
    assert cells.nth(1).text_content() == "\U0001f680 *a* &amp; b"
    assert page.evaluate("BlockKit.renderBlocks(null).outerHTML") == '<div class="bk-blocks"></div>'
    assert page.evaluate("BlockKit.renderMrkdwn(undefined).outerHTML") == \
        '<span class="bk-mrkdwn"></span>'


# ---- mrkdwn -------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "html"), [
    ("*bold* and _italic_ and ~gone~", "<b>bold</b> and <i>italic</i> and <s>gone</s>"),
    ("*bold _inside_ too*", "<b>bold <i>inside</i> too</b>"),
    ("snake_case_name, 2*3*4 and file_v2_final", "snake_case_name, 2*3*4 and file_v2_final"),
    ("a `co*de* &amp; <x>` b", 'a <code class="bk-code">co*de* &amp; &lt;x&gt;</code> b'),
    ("before\n```line 1\n<b>2</b> &lt;3```\nafter",
     'before<pre class="bk-pre">line 1\n&lt;b&gt;2&lt;/b&gt; &lt;3</pre>after'),
    ("<https://example.com/a?b=1&amp;c=2|the docs>",
     '<a class="bk-link" href="https://example.com/a?b=1&amp;c=2" target="_blank" '
     'rel="noopener noreferrer">the docs</a>'),
    ("<https://example.com>", '<a class="bk-link" href="https://example.com" '
     'target="_blank" rel="noopener noreferrer">https://example.com</a>'),
    ("in <#C0REL|old-name> and <#C0XYZ|elsewhere> and <#C0QQQ>",
     'in <span class="bk-channel-ref" data-channel-id="C0REL">#triage-releases</span> and '
     '<span class="bk-channel-ref" data-channel-id="C0XYZ">#elsewhere</span> and '
     '<span class="bk-channel-ref" data-channel-id="C0QQQ">#C0QQQ</span>'),
    ("by <@U0BEN> and <@U0ZED>", 'by <span class="bk-mention" data-user-id="U0BEN">@Ben</span>'
     ' and <span class="bk-mention" data-user-id="U0ZED">@U0ZED</span>'),
    ("at <!date^1767614400^{date_short_pretty} {time}|2026-01-05 12:00 UTC>",
     'at <time class="bk-date" datetime="2026-01-05T12:00:00.000Z">2026-01-05 12:00 UTC</time>'),
    ("&gt; quoted *line*\nnot quoted",
     '<blockquote class="bk-quote">quoted <b>line</b></blockquote>not quoted'),
    (":white_check_mark: done, :no_such_emoji: kept, 10:30:00 kept",
     "\u2705 done, :no_such_emoji: kept, 10:30:00 kept"),
])
def test_mrkdwn_formatting(page: Page, text: str, html: str) -> None:
    assert mrkdwn(page, text, CTX)["html"] == html


def test_entities_are_decoded_once_and_unknown_brackets_stay_literal(page: Page) -> None:
    found = mrkdwn(page, "a &lt; b &gt; c &amp;&amp; d &amp;lt; usage: /rollback <model>")
    assert found["text"] == "a < b > c && d &lt; usage: /rollback <model>"


def test_unsafe_link_schemes_are_not_links(page: Page) -> None:
    found = mrkdwn(page, "<javascript:alert(1)|click me> <data:text/html,x|this>")
    assert "<a" not in found["html"]
    assert found["text"] == "<javascript:alert(1)|click me> <data:text/html,x|this>"


def test_nothing_the_bot_posts_can_inject_markup(page: Page) -> None:
    confirm = {"title": plain(HOSTILE), "text": md(HOSTILE), "confirm": plain("Yes"),
               "deny": plain("No")}
    show(page, [
        {"type": "header", "text": plain(HOSTILE)},
        {"type": "section", "text": md(HOSTILE), "fields": [md(HOSTILE), plain(HOSTILE)]},
        {"type": "section", "text": md(f"*{HOSTILE}*"),
         "accessory": {"type": "button", "text": plain(HOSTILE), "action_id": HOSTILE,
                       "value": HOSTILE, "confirm": confirm}},
        {"type": "context", "elements": [md(f"`{HOSTILE}`"), md(f"```{HOSTILE}```")]},
        {"type": "section", "text": md("&lt;script&gt;window.pwned = 3&lt;/script&gt;")},
    ])
    root = page.locator("#root")
    assert root.locator("script, img, iframe").count() == 0
    assert page.evaluate("window.pwned") is None
    assert page.locator("#root .bk-header").text_content() == HOSTILE
    assert page.locator("#root .bk-section-text").nth(0).text_content() == HOSTILE
    assert page.locator("#root .bk-section-text").nth(2).text_content() == \
        "<script>window.pwned = 3</script>"
    button = page.locator("#root .bk-button")
    assert button.text_content() == HOSTILE
    assert button.get_attribute("data-value") == HOSTILE
    assert json.loads(button.get_attribute("data-confirm") or "")["title"]["text"] == HOSTILE


# ---- the bot's own messages ---------------------------------------------------------------

def _bot_messages() -> list[list[dict[str, Any]]]:
    from bot.slack.blocks.approval import CardView, approval_card
    from bot.slack.blocks.incident import incident_record
    from core.domain import ApprovalRequest, Incident, Version
    from core.identity import Components

    def version(vid: str, score: float) -> Version:
        return Version(model="triage", id=vid * 64, components=Components(prompt=vid),
                       owner="U0ANA", parent_id=None, reason="r", scores={"score": score},
                       eval_source="supplied", created_at=T0)

    request = ApprovalRequest(id="apr-1", model="triage", version_id="b" * 64,
                              tag="production", requester="U0ANA", reason="better recall",
                              required=1, created_at=T0, expires_at=T0 + timedelta(hours=24),
                              production_at_request="a" * 64)
    card = approval_card(CardView(request=request, candidate=version("b", 0.91),
                                  production=version("a", 0.84), metric="score",
                                  higher_is_better=True, changed=("prompt",),
                                  now=T0 + timedelta(hours=1)))
    incident = Incident(id="inc-1", model="triage", tag="production", bad_version="b" * 64,
                        restored_version="a" * 64, opened_by="U0BEN", opened_at=T0,
                        rolled_back_at=T0, time_to_rollback_s=0.42, symptom="empty answers")
    record = incident_record(incident, budget_s=300)
    return [card["blocks"], record["blocks"]]


def test_the_bots_approval_card_and_incident_record_render_like_slack(page: Page) -> None:
    card, record = _bot_messages()
    show(page, [*card, {"type": "divider"}, *record], CTX)
    assert page.get_by_role("heading", name="Promotion to production: triage@bbbbbbbbbbbb") \
        .is_visible()
    assert page.get_by_role("button", name="Approve").get_attribute("class") == \
        "bk-button bk-primary"
    reject = page.get_by_role("button", name="Reject")
    assert json.loads(reject.get_attribute("data-confirm") or "")["title"]["text"] == \
        "Reject this promotion?"
    text = page.locator("#root").inner_text()
    for expected in ("@Ana", "better recall", "\u2b06\ufe0f +0.07 (better)", "\U0001f440",
                     "2026-01-06 12:00 UTC", "Rolled back triage", "@Ben", "0.42 s",
                     "empty answers"):
        assert expected in text, expected
    assert "<@" not in text and "<!date" not in text and ":eyes:" not in text
    screenshot(page, "blockkit-approval-card-and-incident")
