"""Block Kit rendering: pure functions from domain objects to payloads, checked without Slack."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from bot.slack.blocks.approval import APPROVE, REJECT, CardView, approval_card
from bot.slack.blocks.common import channel, code, user
from bot.slack.blocks.errors import error_message
from bot.slack.blocks.home import home_view
from bot.slack.blocks.incident import confirmation, incident_record
from bot.slack.errors import SlackCallFailed
from core.domain import Approval, ApprovalRequest, ApprovalStatus, Incident, Tag, Version
from core.errors import Refused
from core.identity import Components
from core.queries import ModelOverview

T0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def _version(vid: str, score: float) -> Version:
    return Version(model="chat", id=vid * 64, components=Components(prompt=vid), owner="UANA",
                   parent_id=None, reason="r", scores={"score": score}, eval_source="supplied",
                   created_at=T0)


def _view(**changes: object) -> CardView:
    request = ApprovalRequest(id="apr-1", model="chat", version_id="b" * 64, tag="production",
                              requester="UANA", reason="better recall", required=2,
                              created_at=T0, expires_at=T0 + timedelta(hours=24),
                              production_at_request="a" * 64)
    request = replace(request, **changes)  # type: ignore[arg-type]
    return CardView(request=request, candidate=_version("b", 0.9),
                    production=_version("a", 0.8), metric="score", higher_is_better=True,
                    changed=("prompt",), now=T0 + timedelta(hours=1))


def _buttons(card: dict[str, object]) -> list[dict[str, object]]:
    blocks = card["blocks"]
    assert isinstance(blocks, list)
    return [e for b in blocks if b["type"] == "actions" for e in b["elements"]]


def test_a_pending_card_has_approve_primary_and_reject_danger_with_confirm() -> None:
    card = approval_card(_view())
    approve, reject = _buttons(dict(card))
    assert (approve["action_id"], approve["style"], approve["value"]) == (APPROVE, "primary",
                                                                          "apr-1")
    assert reject["action_id"] == REJECT and reject["style"] == "danger"
    assert "confirm" in reject and "confirm" not in approve
    text = json.dumps(card)
    for expected in ("chat@bbbbbbbbbbbb", "chat@aaaaaaaaaaaa", "score 0.9", "score 0.8",
                     "+0.1", "(better)", "prompt", "<@UANA>", "better recall", "0/2",
                     "Waiting for 2 approver(s)"):
        assert expected in text, expected


def test_the_card_shows_the_first_approver_while_it_waits() -> None:
    card = approval_card(_view(approvals=[Approval("UBEN", T0)]))
    assert _buttons(dict(card)) and "Approved by <@UBEN>" in json.dumps(card)
    assert "1 more approver" in json.dumps(card)


def test_decided_cards_have_no_buttons_and_say_who_and_what() -> None:
    approved = approval_card(_view(status=ApprovalStatus.APPROVED, decided_by="UCHO",
                                   decided_at=T0, approvals=[Approval("UBEN", T0),
                                                             Approval("UCHO", T0)]))
    rejected = approval_card(_view(status=ApprovalStatus.REJECTED, decided_by="UBEN",
                                   decided_at=T0, decision_note="flaky eval"))
    superseded = approval_card(_view(status=ApprovalStatus.SUPERSEDED, decided_at=T0,
                                     decision_note="superseded by apr-2"))
    overdue = approval_card(replace(_view(), now=T0 + timedelta(days=2)))
    for card, expected in [(approved, "Approved by <@UBEN> and <@UCHO>"),
                           (rejected, "Rejected by <@UBEN>"), (rejected, "flaky eval"),
                           (superseded, "apr-2"), (overdue, "Expired")]:
        assert not _buttons(dict(card)) and expected in json.dumps(card), expected


def test_incident_record_and_confirmation() -> None:
    incident = Incident(id="inc-1", model="chat", tag="production", bad_version="b" * 64,
                        restored_version="a" * 64, symptom="empty answers", opened_by="UON",
                        opened_at=T0, rolled_back_at=T0, time_to_rollback_s=400.0)
    record = json.dumps(incident_record(incident, budget_s=300))
    assert "over the 300 s budget" in record and "<@UON>" in record and "inc-1" in record
    assert "within" in json.dumps(incident_record(incident, budget_s=600))
    assert "serving not seen switching yet" in record
    switched = replace(incident, detected_at=T0 - timedelta(seconds=100),
                       serving_switched_at=T0 + timedelta(seconds=20))
    shown = json.dumps(incident_record(switched, budget_s=300))
    assert "120.00 s, detected to serving switched (:white_check_mark: within" in shown
    assert "slowest: detected -> decided (100.0 s)" in shown
    failed = confirmation(replace(incident, confirmation="failed",
                                  confirm_scores={"score": 0.1}))
    assert "failed" in failed["text"] and "score=0.1" in failed["text"]
    broken = confirmation(replace(incident, confirmation="error: evaluator timed out"))
    assert "could not run" in broken["text"] and "rollback stands" in broken["text"]


def test_errors_say_what_how_to_fix_and_what_already_happened() -> None:
    refused = error_message(Refused("not allowed", hint="ask an approver"))
    assert refused["text"] == "not allowed (how to fix: ask an approver)"
    failed = SlackCallFailed("posting to #x", "not_in_channel")
    failed.done = "Rolled back chat@b -> chat@a"
    text = error_message(failed)["text"]
    # mrkdwn, escaped as Slack wants it ("->" shows as typed)
    assert text.startswith("Rolled back chat@b -&gt; chat@a But: posting to #x failed")
    assert "/invite" in text
    # Written to a person (a DM), Slack's channel_not_found is not about playbook.toml.
    dm = SlackCallFailed("posting to <@U1>", "channel_not_found", to_a_person=True)
    assert "direct message" in str(dm.hint) and "playbook.toml" not in str(dm.hint)
    assert "playbook.toml" in str(SlackCallFailed("posting to #x", "channel_not_found").hint)
    crash = error_message(RuntimeError("boom"))
    assert "RuntimeError" in crash["text"] and "boom" not in crash["text"]


def test_home_view_and_formatting_helpers() -> None:
    view = home_view([ModelOverview(model="chat", stakes="low",
                                   production=Tag("chat", "production", "a" * 64, 3, T0),
                                   last_known_good="chat@cccccccccccc")])
    text = json.dumps(view)
    assert view["type"] == "home" and "chat@aaaaaaaaaaaa" in text and "rev 3" in text
    assert "chat@cccccccccccc" in text and "never" in text
    assert len(home_view([ModelOverview(f"m{i}", "low", None, None) for i in range(50)]
                         )["blocks"]) <= 100
    assert user("UABC123") == "<@UABC123>" and user("ana") == "ana"
    assert channel("C0123") == "<#C0123>" and channel("#inc") == "#inc"
    assert len(code("x" * 10_000)) < 3000


def test_an_alert_s_text_cannot_mention_the_channel_or_forge_a_link() -> None:
    from bot.slack.blocks.detection import detection_card
    from core.domain import Detection
    from core.plays.alerts import DetectionView

    d = Detection(id="det-1", model="chat", fingerprint="f", source="generic",
                  name="<!channel> Bad", summary="<!here>", status="firing",
                  url="https://x|a> <!channel> <https://y", state="detected",
                  started_at=T0, received_at=T0, updated_at=T0, suspect_version=None)
    card = detection_card(DetectionView(d, None, None, None, (), None, None))
    shown = json.dumps(card)

    def parsed(node: object) -> list[str]:  # what Slack reads as mrkdwn (plain_text is shown
        if isinstance(node, dict):         # as typed)
            own = [node["text"]] if node.get("type") == "mrkdwn" else []
            return own + [t for v in node.values() for t in parsed(v)]
        return [t for v in node for t in parsed(v)] if isinstance(node, list) else []
    for text in [card["text"], *parsed(card["blocks"])]:
        assert "<!channel>" not in text and "<!here>" not in text, text
    assert "|source>" not in shown  # the unsafe URL is not linked at all
    safe = detection_card(DetectionView(replace(d, url="https://grafana/d/x?a=1"), None,
                                        None, None, (), None, None))
    assert "<https://grafana/d/x?a=1|source>" in json.dumps(safe)
