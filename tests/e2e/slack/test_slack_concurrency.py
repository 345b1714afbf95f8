"""20 requests at once, each starting an eval run: every one is acknowledged within Slack's
3 s, none waits for another, and the slow work still finishes and reports."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from slack_harness import Harness, Sent

N = 20


def test_twenty_concurrent_slow_requests_are_each_acked_within_3_s(slack: Harness) -> None:
    parent = slack.register("slow", "z" * 40)

    def start(i: int) -> Sent:
        return slack.command("/experiment", f'slow e{i} from {parent.short} prompt '
                                            f'"variant {i} {"z" * 30}"', channel="CGEN",
                             channel_name="general")

    with ThreadPoolExecutor(N) as pool:
        sent = list(pool.map(start, range(N)))
    acks = sorted(s.elapsed for s in sent)
    assert all(s.response.status_code == 200 for s in sent)
    assert acks[-1] < 3.0, acks  # each eval alone sleeps 1.5 s; 20 of them, 8 at a time
    slack.idle(60)
    for s in sent:
        reply = slack.reply(s)
        assert reply["response_type"] == "in_channel", reply
    with slack.playbook.ctx.uow() as uow:
        assert len([t for t in uow.tags.list("slow") if t.name.startswith("experiment/")]) == N
