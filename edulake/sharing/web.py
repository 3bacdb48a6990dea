"""What both servers share: bearer-token auth, errors as {"errorCode", "message"}, and the audit of every
request (one row per request, whatever its outcome), flushed in batches by a background thread."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from edulake.sharing import audit, tokens

OUTCOMES = {400: "invalid", 401: "unauthenticated", 403: "denied", 404: "not_found", 405: "invalid",
            416: "invalid", 422: "invalid"}


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def bad_request(message: str) -> ApiError:
    return ApiError(400, "INVALID_PARAMETER_VALUE", message)


def forbidden(message: str) -> ApiError:
    return ApiError(403, "PERMISSION_DENIED", message)


def not_found(message: str) -> ApiError:
    return ApiError(404, "RESOURCE_DOES_NOT_EXIST", message)


verifier = tokens.Verifier()


def authenticate(request: Request) -> tokens.Token:
    """The caller's token (also kept on the request for the audit row); 401 with the reason otherwise."""
    try:
        token = verifier.verify(request.headers.get("authorization"))
    except tokens.TokenError as e:
        raise ApiError(401, "UNAUTHENTICATED", str(e)) from None
    request.state.token = token
    return token


def _presented(request: Request) -> tokens.Token | None:
    """The token a request genuinely carried (even expired or revoked), for the audit of requests refused
    before or by authentication."""
    return verifier.identify(request.headers.get("authorization"))


def note(request: Request, action: str | None = None, resource: str | None = None, rows: int | None = None,
         **detail) -> None:
    """What the handler did, for the audit row the middleware writes."""
    if action:
        request.state.audit_action = action
    if resource is not None:
        request.state.audit_resource = resource
    if rows is not None:
        request.state.audit_rows = rows
    if detail:
        request.state.audit_detail = detail


def install(app: FastAPI, channel: str, default_action: Callable[[Request], str]) -> audit.Buffer:
    """Error handlers and the audit middleware; returns the buffer the app's lifespan must start/stop."""
    buffer = audit.Buffer()

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError):
        return JSONResponse({"errorCode": exc.code, "message": exc.message}, status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        return JSONResponse({"errorCode": "INVALID_PARAMETER_VALUE", "message": problems}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        code = {404: "RESOURCE_DOES_NOT_EXIST", 405: "METHOD_NOT_ALLOWED"}.get(exc.status_code, "HTTP_ERROR")
        return JSONResponse({"errorCode": code, "message": str(exc.detail)}, status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))

    @app.middleware("http")
    async def _audit(request: Request, call_next):
        response = None
        try:
            response = await call_next(request)
            return response
        finally:
            status = response.status_code if response is not None else 500
            if not request.url.path.endswith(("/health", "/openapi.json")) and "/catalog" not in request.url.path:
                token = getattr(request.state, "token", None) or _presented(request)
                state = request.state
                detail = getattr(state, "audit_detail", None)
                buffer.add(audit.Entry(
                    actor=token.id if token else "anonymous", channel=channel,
                    action=getattr(state, "audit_action", None) or default_action(request),
                    outcome="ok" if status < 400 else OUTCOMES.get(status, "error"),
                    scope=token.scope if token else None, district=token.district if token else None,
                    resource=getattr(state, "audit_resource", None) or request.url.path,
                    rows=getattr(state, "audit_rows", None), status=status,
                    detail=detail))

    return buffer


@contextlib.asynccontextmanager
async def audited(app: FastAPI):
    """Lifespan: flush the audit buffer every second, and once more on shutdown."""
    app.state.audit.start()
    try:
        yield
    finally:
        app.state.audit.stop()
