"""Slash-command text -> orders for the plays. Pure functions: no Slack, no database.

Grammar (also shown by `/registry help`): words in order, a few keywords (`to`, `since`, `from`,
`prompt`, `config`, ...), and `because ...` last, taking the rest of the line verbatim so a
symptom may say anything. Double quotes group words (Slack's curly quotes count too). Anything
malformed raises InvalidInput whose hint is the usage line with an example, the command named
as this workspace types it (bot.slack.names: `/pb-rollback` with a prefix).
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.shared.slack_commands import BY_NAME
from bot.shared.timeparse import parse_time
from bot.slack.names import command
from core.commands import Audit, Investigate, Promote, Rollback
from core.errors import InvalidInput

# `/registry`'s actions: what follows `/registry`, and an example.
REGISTRY_USAGE: dict[str, tuple[str, str]] = {
    "versions": ("versions <model> [limit <n>]", "versions chat limit 5"),
    "show": ("show <version>", "show chat@1a2b3c4d"),
    "history": ("history <model> [tag <tag>] [limit <n>]", "history chat tag production"),
    "diff": ("diff <version> <version>", "diff chat@1a2b3c4d chat@5e6f7a8b"),
    "gc": ("gc [<model>] [dry-run]", "gc chat dry-run"),
    "digest": ("digest", "digest"),
    "help": ("help", "help"),
}
QUOTES = str.maketrans({"\u201c": '"', "\u201d": '"', "\u2018": "'", "\u2019": "'"})


def usage(name: str, sub: str | None = None) -> tuple[str, str]:
    """(usage line, example) of a command (or a `/registry` action), as this workspace types
    the command (bot.slack.names)."""
    typed = command(name)
    line, example = REGISTRY_USAGE[sub] if sub else (BY_NAME[name].usage,
                                                     BY_NAME[name].example)
    return f"{typed} {line}", f"{typed} {example}"


def usage_hint(name: str, sub: str | None = None) -> str:
    line, example = usage(name, sub)
    return f"usage: `{line}`, e.g. `{example}`"


def _bad(name: str, message: str, sub: str | None = None) -> InvalidInput:
    typed = command(name)
    return InvalidInput(f"{typed} {sub}" if sub else typed, message,
                        hint=usage_hint(name, sub))


def _split_because(text: str) -> tuple[str, str]:
    """(head, reason): `because` outside double quotes starts the free-text tail."""
    head, reason = _split_first(text, "because")
    return head, reason or ""


def _split_first(text: str, word: str) -> tuple[str, str | None]:
    """(head, tail) at the first `word` outside double quotes; tail None when it is absent."""
    text = text.translate(QUOTES)
    quoted = False
    for m in re.finditer(rf'"|(?<!\S){word}(?!\S)', text):
        if m.group() == '"':
            quoted = not quoted
        elif not quoted:
            return text[:m.start()], text[m.end():].strip()
    return text, None


def _words(name: str, head: str, sub: str | None = None) -> list[str]:
    try:
        return shlex.split(head)
    except ValueError as exc:
        raise _bad(name, f"cannot read the text ({exc})", sub) from exc


def _clauses(name: str, words: list[str], keys: set[str], sub: str | None = None, *,
             multi: frozenset[str] = frozenset()) -> tuple[list[str], dict[str, list[str]]]:
    """Positional words up to the first keyword, then `keyword value` pairs; a `multi`
    keyword takes every following `key=value` word."""
    positional: list[str] = []
    found: dict[str, list[str]] = {}
    i = 0
    while i < len(words):
        word = words[i]
        key = word.lower()
        if key in keys:
            if key in found:
                raise _bad(name, f"`{word}` is given twice", sub)
            j = i + 1
            while j < len(words) and (j == i + 1 or key in multi) and \
                    words[j].lower() not in keys and (key not in multi or "=" in words[j]):
                j += 1
            if j == i + 1:
                raise _bad(name, f"`{word}` needs a value after it", sub)
            found[key] = words[i + 1:j]
            i = j
        elif found:
            raise _bad(name, f"unexpected `{word}`", sub)
        else:
            positional.append(word)
            i += 1
    return positional, found


def _one(found: dict[str, list[str]], key: str) -> str | None:
    values = found.get(key)
    return values[0] if values else None


def _positional(name: str, words: list[str], names: list[str],
                sub: str | None = None) -> list[str]:
    if len(words) < len(names):
        raise _bad(name, f"missing <{names[len(words)]}>", sub)
    if len(words) > len(names):
        raise _bad(name, f"unexpected `{' '.join(words[len(names):])}`", sub)
    return words


def rollback(text: str, actor: str) -> Rollback:
    head, because = _split_because(text)
    pos, kw = _clauses("rollback", _words("rollback", head), {"to"})
    (model,) = _positional("rollback", pos, ["model"])
    return Rollback.parse(model=model, actor=actor, to=_one(kw, "to"), symptom=because)


def rehearse(text: str, actor: str) -> str:
    """The model to rehearse; the command is built where its deploy path can be read."""
    (model,) = _positional("rehearse", _words("rehearse", text), ["model"])
    return model


def promote(text: str, actor: str) -> Promote:
    """`<model> <version> [override <why>] [because <reason>]`: `override` comes before
    `because` (which takes the rest of the line), for a canary found clearly worse; the word
    in a reason is only a word."""
    head, because = _split_because(text)
    head, override = _split_first(head, "override")
    override = override.strip('"') if override is not None else None
    model, version = _positional("promote", _words("promote", head), ["model", "version"])
    if override is not None and not override:
        raise _bad("promote", "`override` needs a reason after it")
    return Promote.parse(model=model, version=version, actor=actor, reason=because,
                         override_reason=override)


def audit(text: str, actor: str) -> Audit:
    (request_id,) = _positional("audit", _words("audit", text), ["request-id"])
    return Audit.parse(request_id=request_id, actor=actor)


def investigate(text: str, actor: str, now: datetime) -> Investigate:
    words = _words("investigate", text)
    if not words:
        raise _bad("investigate", "missing <model>")
    model, rest = words[0], words[1:]
    onset = None
    if rest:
        if rest[0].lower() != "since" or len(rest) < 2:
            raise _bad("investigate", f"unexpected `{' '.join(rest)}`")
        onset = parse_time(" ".join(rest[1:]), "since", now)
    return Investigate.parse(model=model, actor=actor, onset=onset)


@dataclass(frozen=True)
class ExperimentOrder:
    """An experiment as typed: components not given are the parent's."""

    model: str
    name: str
    parent: str
    reason: str
    prompt: str | None = None
    config: dict[str, Any] = field(default_factory=dict)  # dotted keys, merged over the parent's
    weights: str | None = None
    index: str | None = None


def experiment(text: str) -> ExperimentOrder:
    head, because = _split_because(text)
    pos, kw = _clauses("experiment", _words("experiment", head),
                       {"from", "prompt", "config", "weights", "index"},
                       multi=frozenset({"config"}))
    model, name = _positional("experiment", pos, ["model", "name"])
    parent = _one(kw, "from")
    if parent is None:
        raise _bad("experiment", "missing `from <version>`: an experiment branches from a "
                                  "registered parent")
    config: dict[str, Any] = {}
    for pair in kw.get("config", []):
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise _bad("experiment", f"config `{pair}` is not key=value")
        try:
            config[key] = json.loads(raw)
        except ValueError:
            config[key] = raw
    if not any(k in kw for k in ("prompt", "config", "weights", "index")):
        raise _bad("experiment", "change at least one of prompt, config, weights, index")
    return ExperimentOrder(model=model, name=name, parent=parent,
                           reason=because or f"experiment {name}", prompt=_one(kw, "prompt"),
                           config=config, weights=_one(kw, "weights"), index=_one(kw, "index"))


@dataclass(frozen=True)
class RegistryQuery:
    """`/registry <action> ...`: a read of the registry, or garbage collection."""

    action: str  # versions | show | history | diff | gc | help
    model: str | None = None
    versions: tuple[str, ...] = ()
    tag: str | None = None
    limit: int = 10
    dry_run: bool = False


def _limit(sub: str, raw: str | None, default: int) -> int:
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= 100:
        raise _bad("registry", f"limit `{raw}` is not a number from 1 to 100", sub)
    return int(raw)


def registry(text: str) -> RegistryQuery:
    words = _words("registry", text)
    action = words[0].lower() if words else "help"
    rest = words[1:]
    if action not in REGISTRY_USAGE:
        raise _bad("registry", f"unknown action `{action}` (versions, show, history, diff, "
                                "gc, digest, help)")
    if action in ("help", "digest"):
        if rest and action == "digest":
            raise _bad("registry", f"unexpected `{' '.join(rest)}`", action)
        return RegistryQuery(action)
    if action == "versions":
        pos, kw = _clauses("registry", rest, {"limit"}, action)
        (model,) = _positional("registry", pos, ["model"], action)
        return RegistryQuery(action, model=model, limit=_limit(action, _one(kw, "limit"), 10))
    if action == "history":
        pos, kw = _clauses("registry", rest, {"tag", "limit"}, action)
        (model,) = _positional("registry", pos, ["model"], action)
        return RegistryQuery(action, model=model, tag=_one(kw, "tag"),
                             limit=_limit(action, _one(kw, "limit"), 15))
    if action == "show":
        (ref,) = _positional("registry", rest, ["version"], action)
        return RegistryQuery(action, versions=(ref,))
    if action == "diff":
        old, new = _positional("registry", rest, ["version", "version"], action)
        return RegistryQuery(action, versions=(old, new))
    dry = [w for w in rest if w.lower() in ("dry-run", "--dry-run", "dry_run")]
    pos = [w for w in rest if w not in dry]
    if len(pos) > 1:
        raise _bad("registry", f"unexpected `{' '.join(pos[1:])}`", action)
    return RegistryQuery("gc", model=pos[0] if pos else None, dry_run=bool(dry))
