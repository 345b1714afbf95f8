"""Play 1 from CI, reading a version, and the deploy gate."""

# No `from __future__ import annotations`: FastAPI reads the dependencies in the route
# signatures at runtime, and they close over `api`, which string annotations cannot see.

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse

from core import queries, serialize
from core.commands import Register
from core.plays import register
from core.plays.gate import deploy_gate

from .access import Principal
from .context import ApiContext
from .schemas import GateOut, RegisterBody, RegisteredOut, VersionOut


def router(api: ApiContext) -> APIRouter:
    r = api.router("versions")
    ctx = api.app.ctx

    @r.post("/models/{model}/versions", status_code=201, response_model=RegisteredOut,
            responses={200: {"model": RegisteredOut,
                             "description": "already registered: same content, same version"}})
    def register_version(model: str, body: RegisterBody,
                         who: Annotated[Principal, Depends(api.require("register"))]
                         ) -> JSONResponse:
        """Play 1: register a version (201), or find the same content registered (200).

        Scores from CI skip the evaluator; artifacts are not uploaded over HTTP, so reference
        them in `components` (`weights.ref` and `sha256`).
        """
        cmd = Register.parse(model=model, components=body.components, owner=body.owner,
                             reason=body.reason, parent=body.parent, root=body.root,
                             scores=body.scores, actor=who.actor)
        result = register(cmd, ctx)
        data = serialize.version(result.version) | {"created": result.created,
                                                    "run": result.run_id,
                                                    "warnings": list(result.warnings)}
        return JSONResponse(data, status_code=201 if result.created else 200)

    @r.get("/models/{model}/versions/{version}", response_model=VersionOut)
    def get_version(model: str, version: str,
                    _: Annotated[Principal, Depends(api.require("resolve", "register",
                                                                "audit"))]) -> dict[str, Any]:
        """One version in full, by MODEL@HEX or a unique hex prefix (at least 8)."""
        found = queries.version(ctx, version, model)
        return serialize.version(found.version) | {"tags": list(found.tags)}

    @r.get("/gate", response_model=GateOut)
    def check_gate(model: Annotated[str, Query(min_length=1)],
                   version: Annotated[str, Query(min_length=1)],
                   _: Annotated[Principal, Depends(api.require("register", "resolve"))]
                   ) -> dict[str, Any]:
        """The deploy gate: is this version registered, and may it go to production?

        Always 200 when the question is well formed; `allowed` is the answer and `reasons`
        say why not. A version that already is production is allowed.
        """
        return deploy_gate(ctx, model, version)

    return r

