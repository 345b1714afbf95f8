"""Every `playbook` command line, declared apart from what runs it, so that `playbook --help`
and bad usage answer without importing the server (each handler is named "module:function" in
bot/cli and imported only when its command runs: `handler_of`).
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable
from typing import Any

from bot.shared.scopes import DEFAULT_LIFETIME, SCOPE_HELP, SCOPES
from core.domain import LINEAGE_SHOWN

# The commands `--server URL` runs over HTTP (bot/cli/remote.py: HANDLERS has these).
REMOTE = frozenset({"register", "promote", "approve", "reject", "rollback", "audit",
                    "attribute", "gate", "canary"})


def handler_of(args: argparse.Namespace) -> Callable[..., Any] | None:
    """The function the parsed command names (None: `init`, which needs no database)."""
    if args.handler is None:
        return None
    module, name = str(args.handler).split(":")
    found: Callable[..., Any] = getattr(importlib.import_module(f"bot.cli.{module}"), name)
    return found


def needs_app(args: argparse.Namespace) -> bool:
    """Whether the command runs on the composed app (database, playbook.toml); one declared
    with `app=False` (`slack manifest`) gets only the settings, and runs anywhere."""
    return args.handler is not None and bool(getattr(args, "app", True))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="playbook", description="Run the seven plays of AI model version control.")
    parser.add_argument("--config", metavar="PATH",
                        help="playbook.toml (default: $PLAYBOOK_CONFIG or ./playbook.toml)")
    parser.add_argument("--database", metavar="URL",
                        help="SQLAlchemy URL (default: $DATABASE_URL or SQLite in --home)")
    parser.add_argument("--home", metavar="DIR",
                        help="local state: SQLite file and artifacts (default: ./.playbook)")
    parser.add_argument("--as", dest="actor", metavar="USER",
                        help="who is acting (default: $PLAYBOOK_USER or the login name)")
    parser.add_argument("--json", action="store_true", help="print JSON for scripts")
    parser.add_argument("--server", metavar="URL",
                        help="run the command on this Playbook server over HTTP "
                             "(default: $PLAYBOOK_SERVER; unset: work on the database here)")
    parser.add_argument("--token", metavar="T", help="API token for --server "
                                                     "(default: $PLAYBOOK_TOKEN)")
    parser.add_argument("--migrate", action="store_true",
                        help="bring the database schema to this Playbook's first (default: "
                             "$PLAYBOOK_MIGRATE; the embedded SQLite default always is); "
                             "otherwise a database named by --database or DATABASE_URL is "
                             "only checked")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("init", help="write a commented starter playbook.toml")
    p.add_argument("--print", action="store_true", help="print it instead of writing")
    p.set_defaults(handler=None)

    for declare in (_registry, _promotion, _incident, _audit, _serve, _tokens, _canary,
                    _schedule, _outbox, _db, _webhooks, _imports, _slack):
        declare(sub)
    return parser


def _component_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("components (at least one)")
    g.add_argument("--weights", metavar="REF", help="fine-tune id or artifact URI")
    g.add_argument("--weights-sha256", metavar="HEX")
    g.add_argument("--weights-file", metavar="PATH", help="hash and store this weights file")
    g.add_argument("--prompt", metavar="TEXT")
    g.add_argument("--prompt-file", metavar="PATH")
    g.add_argument("--model-config", metavar="JSON", help="the config as a JSON object")
    g.add_argument("--model-config-file", metavar="PATH")
    g.add_argument("--index", metavar="REF", help="retrieval index reference")
    g.add_argument("--index-sha256", metavar="HEX")
    g.add_argument("--index-file", metavar="PATH")
    m = p.add_argument_group("metadata")
    m.add_argument("--owner", required=True, help="who owns this version")
    m.add_argument("--reason", required=True, help="why it changed")
    m.add_argument("--parent", metavar="MODEL@HEX", help="the version this one changes")
    m.add_argument("--root", action="store_true", help="this is the model's first version")
    m.add_argument("--score", action="append", metavar="METRIC=VALUE",
                   help="eval scores from CI (repeatable); else the model's evaluator runs")
    m.add_argument("--mlflow-version", type=int, metavar="N",
                   help="the weights are version N of the model's MLflow mirror "
                        "(models:/NAME/N); its alias follows production and canary")
    m.add_argument("--artifact", action="append", metavar="PATH",
                   help="a heavy file to keep in the artifact store (repeatable)")


def _registry(sub: Any) -> None:
    p = sub.add_parser("register", help="play 1: register a version")
    p.add_argument("model")
    _component_args(p)
    p.set_defaults(handler="registry:cmd_register")

    p = sub.add_parser("experiment", help="play 4: branch an experiment from a parent",
                       description="Components you do not give are the parent's: change "
                                   "one thing at a time.")
    p.add_argument("model")
    p.add_argument("name", help="experiment name: the tag becomes experiment/NAME")
    _component_args(p)
    p.add_argument("--set", dest="config_set", action="append", metavar="KEY=VALUE",
                   help="set one key of the parent's config (a.b=1 for a nested key; "
                        "the value is JSON, else text); repeatable")
    p.add_argument("--retention-days", type=int, help="default: experiment_retention_days")
    p.set_defaults(handler="registry:cmd_experiment")

    p = sub.add_parser("versions", help="list a model's versions, newest first")
    p.add_argument("model")
    p.add_argument("--limit", type=int, default=20)
    p.add_argument("--kind", choices=["release", "experiment"])
    p.set_defaults(handler="registry:cmd_versions")

    p = sub.add_parser("show", help="one version in full")
    p.add_argument("version", metavar="MODEL@HEX")
    p.set_defaults(handler="registry:cmd_show")

    p = sub.add_parser("tags", help="where a model's tags point")
    p.add_argument("model")
    p.set_defaults(handler="registry:cmd_tags")

    p = sub.add_parser("history", help="tag events, newest first")
    p.add_argument("model")
    p.add_argument("--tag", help="only this tag (e.g. production)")
    p.add_argument("--limit", type=int, default=50)
    p.set_defaults(handler="registry:cmd_history")

    p = sub.add_parser("diff", help="what changed between two versions")
    p.add_argument("old", metavar="MODEL@HEX")
    p.add_argument("new", metavar="MODEL@HEX")
    p.set_defaults(handler="registry:cmd_diff")


def _promotion(sub: Any) -> None:
    p = sub.add_parser("promote", help="play 2: move production to a version")
    p.add_argument("model")
    p.add_argument("version", metavar="MODEL@HEX")
    p.add_argument("--reason", "--because", dest="reason")
    p.add_argument("--expect-revision", type=int, metavar="N",
                   help="refuse if production is no longer at revision N (see `tags`)")
    p.set_defaults(handler="promotion:cmd_promote")

    p = sub.add_parser("approve", help="play 2: approve a pending promotion")
    p.add_argument("request", metavar="REQUEST_ID")
    p.set_defaults(handler="promotion:cmd_approve")

    p = sub.add_parser("reject", help="play 2: reject a pending promotion")
    p.add_argument("request", metavar="REQUEST_ID")
    p.add_argument("--reason", "--because", dest="reason")
    p.set_defaults(handler="promotion:cmd_reject")

    p = sub.add_parser("approvals", help="pending approval requests")
    p.add_argument("model", nargs="?")
    p.set_defaults(handler="promotion:cmd_approvals")

    p = sub.add_parser("request", help="one approval request in full")
    p.add_argument("request", metavar="REQUEST_ID")
    p.set_defaults(handler="promotion:cmd_request")


def _incident(sub: Any) -> None:
    p = sub.add_parser("rollback", help="play 3: emergency rollback to the last known-good")
    p.add_argument("model")
    p.add_argument("--to", metavar="MODEL@HEX", help="an explicit target version")
    p.add_argument("--symptom", "--because", dest="symptom", help="what was seen")
    p.add_argument("--expect-revision", type=int, metavar="N",
                   help="refuse if production is no longer at revision N (see `tags`)")
    p.add_argument("--detected-at", metavar="TIME",
                   help="when the trouble was noticed (ISO 8601, or `20m ago`; default now): "
                        "time to rollback counts from it")
    p.set_defaults(handler="incident:cmd_rollback")

    p = sub.add_parser("incidents", help="incident records, newest first")
    p.add_argument("model", nargs="?")
    p.add_argument("--limit", type=int, default=20)
    p.set_defaults(handler="incident:cmd_incidents")

    p = sub.add_parser("investigate", help="play 7: investigate a regression")
    p.add_argument("model")
    p.add_argument("--since", metavar="TIME", help="the onset (ISO 8601, `2h ago`); default now")
    p.add_argument("--window-hours", type=float, default=72.0)
    p.add_argument("--suspect", metavar="MODEL@HEX", help="default: production at the onset")
    p.set_defaults(handler="incident:cmd_investigate")


def _audit(sub: Any) -> None:
    p = sub.add_parser("audit", help="play 5: which version served a request")
    p.add_argument("request_id", nargs="?")
    p.add_argument("--model", help="with --at: what production was then")
    p.add_argument("--at", metavar="TIME", help="ISO 8601, `now` or `2h ago`")
    p.add_argument("--lineage", metavar="N|all", default=str(LINEAGE_SHOWN),
                   help=f"how many of the version's ancestors to list, nearest first "
                        f"(default {LINEAGE_SHOWN}; `all`: the whole chain)")
    p.set_defaults(handler="audit:cmd_audit")

    p = sub.add_parser("attribute", help="record which version served requests (JSON lines)")
    p.add_argument("file", nargs="?", help="JSON lines file; default stdin")
    p.set_defaults(handler="audit:cmd_attribute")

    p = sub.add_parser("gc", help="play 6: free artifacts past retention")
    p.add_argument("model", nargs="?")
    p.add_argument("--dry-run", action="store_true", help="list what would go, delete nothing")
    p.set_defaults(handler="audit:cmd_gc")

    p = sub.add_parser("runs", help="recorded play runs; `runs ID` explains one")
    p.add_argument("run_id", nargs="?")
    p.add_argument("--play")
    p.add_argument("--limit", type=int, default=20)
    p.set_defaults(handler="audit:cmd_runs")


def _serve(sub: Any) -> None:
    p = sub.add_parser("serve", help="run the Slack app and the HTTP API")
    p.add_argument("--host", help="address to listen on (default: $PLAYBOOK_HOST or "
                                  "127.0.0.1; 0.0.0.0 in a container)")
    p.add_argument("--port", type=int, help="default: $PLAYBOOK_PORT or 8080")
    p.add_argument("--workers", type=int, metavar="N",
                   help="server processes sharing the port (default: $PLAYBOOK_WORKERS or 1)")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--socket-mode", action="store_true",
                      help="reach Slack over a WebSocket (SLACK_APP_TOKEN) instead of a public "
                           "URL; the HTTP API still listens on --host/--port")
    mode.add_argument("--http-only", action="store_true",
                      help="serve only the HTTP API (no Slack secrets needed); approval cards "
                           "are then not posted")
    mode.add_argument("--sandbox", action="store_true",
                      help="serve a pretend Slack workspace at / that drives the same Slack app "
                           "(the default when SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET are "
                           "unset)")
    p.add_argument("--seed", action="store_true",
                   help="in the sandbox: register three example versions of every model and "
                        "promote two, through the normal plays (idempotent)")
    p.set_defaults(handler="serve:cmd_serve", schema="leave")


def _tokens(sub: Any) -> None:
    p = sub.add_parser("token", help="HTTP API tokens: create (shown once), list, revoke",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       epilog="scopes:\n" + "\n".join(f"  {s:<10} {h}"
                                                      for s, h in SCOPE_HELP.items()))
    p.add_argument("action", choices=["create", "list", "revoke"])
    p.add_argument("token", nargs="?", metavar="ID_OR_NAME", help="revoke: which token(s)")
    p.add_argument("--name", help="create: what calls with it (ci-deploy, serving-eu)")
    p.add_argument("--scope", action="append", choices=SCOPES, help="create: repeatable")
    p.add_argument("--user", help="create: who its plays and approvals are recorded under, "
                                  "e.g. a Slack user id (default: its name)")
    p.add_argument("--model", action="append", metavar="MODEL",
                   help="create: a model it may touch; repeatable (default: every model)")
    p.add_argument("--expires", default=DEFAULT_LIFETIME, metavar="WHEN",
                   help=f"create: a lifetime (90d, 12h), a time (2027-03-01) or `never` "
                        f"(default: {DEFAULT_LIFETIME})")
    p.add_argument("--all", action="store_true", help="list: revoked ones too")
    p.set_defaults(handler="tokens:cmd_token")


def _canary(sub: Any) -> None:
    p = sub.add_parser("gate", help="deploy gate: exit 0 if a version may be deployed, else 1")
    p.add_argument("model")
    p.add_argument("version", metavar="MODEL@HEX")
    p.set_defaults(handler="canary:cmd_gate")

    p = sub.add_parser("canary", help="play 2: the canary slice and how it compares")
    p.add_argument("model")
    p.add_argument("--stop", action="store_true", help="end the slice (the tag stays)")
    p.set_defaults(handler="canary:cmd_canary")

    promote = sub.choices["promote"]
    promote.add_argument("--canary", metavar="SHARE",
                         help="point `canary` at it for this share of traffic (5%% or 0.05) "
                              "instead of moving production now")
    promote.add_argument("--override", metavar="REASON",
                         help="promote although its canary is clearly worse, or although "
                              "production was rolled back from it before, saying why (recorded "
                              "with the move)")
    promote.set_defaults(handler="canary:cmd_promote")
    approve = sub.choices["approve"]
    approve.add_argument("--override", metavar="REASON",
                         help="approve although the canary is clearly worse, saying why")


def _schedule(sub: Any) -> None:
    p = sub.add_parser("jobs", help="scheduled jobs and their next fire times")
    p.set_defaults(handler="schedule:cmd_jobs")

    p = sub.add_parser("digest", help="make the daily digest due now, or print it")
    p.add_argument("--now", action="store_true", required=True,
                   help="post now (the schedule posts it daily by itself)")
    p.add_argument("--channel", metavar="CHANNEL",
                   help="one channel (default: every [[schedule.digest]] channel)")
    p.add_argument("--print", action="store_true",
                   help="print the digest instead of posting it (no Slack needed)")
    p.set_defaults(handler="schedule:cmd_digest")

    p = sub.add_parser("rehearse", help="play 3 rehearsed: roll back the rehearsal tag, timed")
    p.add_argument("model")
    p.add_argument("--no-post", action="store_true",
                   help="do not post to Slack even when SLACK_BOT_TOKEN is set")
    p.set_defaults(handler="schedule:cmd_rehearse")


def _outbox(sub: Any) -> None:
    e = sub.add_parser("events", help="what the plays said happened, newest last")
    e.add_argument("--model", metavar="MODEL")
    e.add_argument("--name", metavar="EVENT", help="e.g. CanaryOverridden, TagMoved")
    e.add_argument("--limit", type=int, default=50, metavar="N")
    e.set_defaults(handler="outbox:cmd_events")

    p = sub.add_parser("outbox", help="events on their way to Slack, and failed deliveries")
    p.add_argument("--all", action="store_true", help="done and skipped ones too")
    p.add_argument("--limit", type=int, default=100, metavar="N")
    p.set_defaults(handler="outbox:cmd_list")
    actions = p.add_subparsers(dest="action", metavar="ACTION")
    d = actions.add_parser("deliver", help="deliver what is due now (when no server runs)")
    d.set_defaults(handler="outbox:cmd_deliver")
    r = actions.add_parser("retry", help="make dead deliveries pending again")
    r.add_argument("event", nargs="?", type=int, help="one event's seq (default: all)")
    r.set_defaults(handler="outbox:cmd_retry")
    k = actions.add_parser("skip", help="close what waits for a handler this deployment "
                                        "never runs (e.g. notify, without Slack)")
    k.add_argument("target", metavar="HANDLER")
    k.set_defaults(handler="outbox:cmd_skip")


def _db(sub: Any) -> None:
    p = sub.add_parser("db", help="the database schema: current, check, upgrade")
    actions = p.add_subparsers(dest="db_action", required=True, metavar="ACTION")
    for name, handler, text in (
            ("current", "db:cmd_current", "the schema's revision, and the one this Playbook needs"),
            ("check", "db:cmd_check", "exit 1 unless the schema is this Playbook's"),
            ("upgrade", "db:cmd_upgrade", "migrate the schema to this Playbook's")):
        a = actions.add_parser(name, help=text)
        a.set_defaults(handler=handler, schema="leave")


def _slack(sub: Any) -> None:
    p = sub.add_parser("slack", help="the Slack app: print its manifest")
    actions = p.add_subparsers(dest="slack_action", required=True, metavar="ACTION")
    m = actions.add_parser(
        "manifest", help="print the app manifest (JSON) to create or update the Slack app from",
        description="The manifest with this workspace's command names and request URL, for "
                    "Slack's Create New App -> From an app manifest (docs/slack.md). Needs no "
                    "playbook.toml and no database.")
    m.add_argument("--prefix", metavar="PREFIX",
                   help="put PREFIX in front of every command, e.g. pb- for /pb-rollback "
                        "(default: $SLACK_COMMAND_PREFIX, which the server must have too; "
                        "'' for none)")
    where = m.add_mutually_exclusive_group()
    where.add_argument("--url", metavar="URL",
                       help="where Slack sends commands, clicks and events: "
                            "https://HOST/slack/events (default: the example URL, to replace)")
    where.add_argument("--socket-mode", action="store_true",
                       help="for `serve --socket-mode`: Socket Mode on, no request URL")
    m.set_defaults(handler="manifest:cmd_manifest", app=False)


def _webhooks(sub: Any) -> None:
    p = sub.add_parser("webhooks", help="the [[webhooks]] and their deliveries; `test NAME`")
    p.set_defaults(handler="webhooks:cmd_list")
    actions = p.add_subparsers(dest="webhook_action", metavar="ACTION")
    t = actions.add_parser("test", help="send a signed ping now and show the answer")
    t.add_argument("name", metavar="NAME")
    t.set_defaults(handler="webhooks:cmd_test")


def _imports(sub: Any) -> None:
    p = sub.add_parser("import", help="adopt another registry's versions and aliases")
    sources = p.add_subparsers(dest="source", required=True, metavar="SOURCE")
    m = sources.add_parser("mlflow", help="an MLflow registered model (idempotent)")
    m.add_argument("--uri", required=True, help="the tracking server, e.g. http://mlflow:5000")
    m.add_argument("--name", required=True, help="the registered model's name in MLflow")
    m.add_argument("--model", help="the Playbook model (default: the same name)")
    m.add_argument("--owner", help="owner of the imported versions (default: MLflow's user, "
                                   "else --as)")
    m.set_defaults(handler="imports:cmd_import_mlflow")
