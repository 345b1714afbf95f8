"""One error hierarchy for the whole product.

Storage translates database errors into these, the CLI prints them as one line, the HTTP API maps
`code` to a status. Every error says what was wrong and, in `hint`, how to fix it.
"""

from __future__ import annotations


class PlaybookError(Exception):
    """Base of every error a user can cause or see."""

    code = "ERROR"

    def __init__(self, message: str, *, hint: str | None = None,
                 people: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        # The actors (user ids) the message names, so a surface can name them its own way
        # (Slack as a mention, which shows the person's name).
        self.people = tuple(p for p in people if p)
        self.step: str | None = None  # set by the play engine: the step that failed

    def __str__(self) -> str:
        text = self.message
        if self.hint:
            text = f"{text} ({self.hint})"
        return text

    def one_line(self) -> str:
        where = f"step '{self.step}': " if self.step else ""
        return f"{where}{self}"


class InvalidInput(PlaybookError):
    """A field of a command is missing or malformed."""

    code = "INVALID_INPUT"

    def __init__(self, field: str, message: str, *, hint: str | None = None) -> None:
        super().__init__(f"{field}: {message}", hint=hint)
        self.field = field


class ConfigError(PlaybookError):
    """playbook.toml is missing, malformed, or does not declare what was asked for."""

    code = "CONFIG_INVALID"

    def __init__(self, message: str, *, problems: list[str] | None = None,
                 hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.problems = problems or []

    def __str__(self) -> str:
        text = self.message
        if self.problems:
            text += " " + "; ".join(self.problems)
        return f"{text} ({self.hint})" if self.hint else text


class NotFound(PlaybookError):
    code = "RESOURCE_DOES_NOT_EXIST"


class Ambiguous(PlaybookError):
    code = "AMBIGUOUS"


class Refused(PlaybookError):
    """A policy rule forbids the action (gate, approver rules, channel rules)."""

    code = "REFUSED"


class InvalidState(PlaybookError):
    """The object is not in a state that allows the action (expired, rejected, already done)."""

    code = "INVALID_STATE"


class Conflict(PlaybookError):
    """Somebody else changed the thing meanwhile; re-read and try again."""

    code = "CONFLICT"


class AlreadyExists(Conflict):
    code = "RESOURCE_ALREADY_EXISTS"


class TagMovedMeanwhile(Conflict):
    code = "TAG_MOVED_MEANWHILE"

    def __init__(self, model: str, tag: str, expected_revision: int) -> None:
        super().__init__(
            f"tag {model}:{tag} moved meanwhile (expected revision {expected_revision})",
            hint="someone else moved it first; check `playbook history` and retry if still right",
        )
        self.model = model
        self.tag = tag


class EvaluatorError(PlaybookError):
    """The eval suite could not be run or answered nonsense."""

    code = "EVALUATOR_FAILED"


class StorageError(PlaybookError):
    code = "STORAGE_FAILED"


class SchemaNotCurrent(PlaybookError):
    """The database's schema is not the one this Playbook runs on (older, missing or newer)."""

    code = "SCHEMA_NOT_CURRENT"

    def __init__(self, message: str, *, hint: str | None = None, current: str | None,
                 needed: str) -> None:
        super().__init__(message, hint=hint)
        self.current = current
        self.needed = needed
