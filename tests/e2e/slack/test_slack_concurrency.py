"""20 requests at once, each starting an eval run: every one is acknowledged while no eval can
finish (the evals wait at a gate the test opens afterwards), so no ack waits for slow work,
and the slow work still finishes and reports once let through."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from slack_harness import Harness, Sent

N = 20


def test_twenty_concurrent_slow_requests_are_each_acked_before_any_eval_ends(
        slack: Harness) -> None:
    parent = slack.register("slow", "z" * 40)

    def start(i: int) -> Sent:
        return slack.command("/experiment", f'slow e{i} from {parent.short} prompt '
                                            f'"variant {i} {"z" * 30}"', channel="CGEN",
                             channel_name="general")

    with ThreadPoolExecutor(N) as pool:
        sent = list(pool.map(start, range(N)))
    assert all(s.response.status_code == 200 for s in sent)  # acked, every eval still held
    assert not any(slack.fake.responses(s.trigger) for s in sent)
    with slack.playbook.ctx.uow() as uow:
        assert not [t for t in uow.tags.list("slow") if t.name.startswith("experiment/")]

    slack.open_gate()
    slack.idle()
    for s in sent:
        reply = slack.reply(s)
        assert reply["response_type"] == "in_channel", reply
    with slack.playbook.ctx.uow() as uow:
        assert len([t for t in uow.tags.list("slow") if t.name.startswith("experiment/")]) == N
