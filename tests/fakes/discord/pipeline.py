"""The REST request pipeline: route, authenticate, inject faults, rate-limit, validate, serve, record."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from aiohttp import BodyPartReader, web

from . import rest, rest_commands, rest_interactions, rest_members, rest_messages, rest_threads
from .errors import DiscordError, error_body
from .faults import RequestFacts
from .log import KEPT_HEADERS, RecordedRequest, Violation
from .messages import Upload
from .ratelimit import rate_limited_headers
from .validate import FieldError, OpenApiSpec, autocomplete_errors, discord_errors, message_limit_errors

if TYPE_CHECKING:
    from .server import FakeDiscord

API_PREFIX = "/api/v10"

ROUTES: dict[tuple[str, str], rest.Handler] = {
    **rest.ROUTES,
    **rest_messages.ROUTES,
    **rest_commands.ROUTES,
    **rest_interactions.ROUTES,
    **rest_threads.ROUTES,
    **rest_members.ROUTES,
}

# Routes whose bodies are messages, for the limits the spec does not carry.
MESSAGE_BODY_ROUTES = {
    ("POST", "/channels/{channel_id}/messages"),
    ("PATCH", "/channels/{channel_id}/messages/{message_id}"),
    ("POST", "/webhooks/{webhook_id}/{webhook_token}"),
    ("PATCH", "/webhooks/{webhook_id}/{webhook_token}/messages/@original"),
    ("PATCH", "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}"),
}
FORUM_POST_ROUTE = ("POST", "/channels/{channel_id}/threads")
CALLBACK_ROUTE = ("POST", "/interactions/{interaction_id}/{interaction_token}/callback")


def _json(status: int, body: Any, headers: Mapping[str, str] | None = None) -> web.Response:
    # Exactly "application/json": discord.py compares the header string, so no charset suffix.
    return web.Response(
        status=status,
        body=json.dumps(body).encode(),
        headers={**(headers or {}), "Content-Type": "application/json"},
    )


async def read_body(request: web.Request) -> tuple[Any, list[Upload], bool]:
    """The JSON body (or multipart payload_json), the uploaded files, and whether parsing failed."""
    if request.content_type != "multipart/form-data":
        raw = await request.read()
        if not raw:
            return None, [], False
        try:
            return json.loads(raw), [], False
        except ValueError:
            return None, [], True
    body: Any = None
    uploads: list[Upload] = []
    async for part in await request.multipart():
        if not isinstance(part, BodyPartReader):
            continue
        data = await part.read()
        if part.name == "payload_json":
            try:
                body = json.loads(data)
            except ValueError:
                return None, [], True
        elif part.name is not None:
            content_type = part.headers.get("Content-Type", "application/octet-stream")
            uploads.append(Upload(part.name, part.filename or part.name, content_type, len(data)))
    return body, uploads, False


def body_errors(spec: OpenApiSpec, method: str, template: str, body: Any) -> list[FieldError]:
    errors = spec.request_errors(template, method, body) if body is not None else []
    key = (method, template)
    if key in MESSAGE_BODY_ROUTES:
        errors += message_limit_errors(body)
    elif key == FORUM_POST_ROUTE and isinstance(body, dict):
        errors += message_limit_errors(body.get("message"), ("message",))
    elif key == CALLBACK_ROUTE and isinstance(body, dict):
        if body.get("type") in (4, 7):
            errors += message_limit_errors(body.get("data"), ("data",))
        elif body.get("type") == 8:
            errors += autocomplete_errors(body.get("data"))
    # Both checks can flag the same field (e.g. an embed title); say it once.
    return list(dict.fromkeys(errors))


async def handle(fake: FakeDiscord, request: web.Request) -> web.StreamResponse:
    method = request.method
    path = ("/" + request.match_info["tail"]).rstrip("/") or "/"
    headers = {k: request.headers[k] for k in KEPT_HEADERS if k in request.headers}
    body, uploads, bad_json = await read_body(request)
    record = RecordedRequest(
        method=method,
        path=path,
        route=None,
        json=body,
        headers=headers,
        status=0,
        query=dict(request.query),
        files=[u.filename for u in uploads],
        caller=request.match_info.get("caller", ""),
    )
    try:
        status, answer, extra = await _serve(fake, request, record, body, uploads, bad_json)
    except Exception as exc:
        # A bug in the fake must fail the test, not look like a Discord outage: discord.py
        # would retry a 500 for 25 s, so answer 400 and keep the exception for the test.
        fake.internal_errors.append(exc)
        status, answer, extra = 400, {"message": f"fake discord crashed: {exc!r}", "code": 0}, {}
    if fake.rewrite_answer is not None and 200 <= status < 300:
        answer = fake.rewrite_answer(record, answer)
    record.status = status
    record.answer = answer
    fake.requests.append(record)
    if status == 429:
        fake.count_429 += 1
    fake.notify()
    if fake.hold is not None and not fake.hold.is_set() and fake.hold_if(record):
        fake.held.append(record)
        fake.notify()
        await fake.hold.wait()
    if fake.answer_delay:
        # The change is made before the answer travels back, as over a real network: a client
        # killed in between has done something it never heard about.
        await asyncio.sleep(fake.answer_delay)
    if answer is None:
        return web.Response(status=status, headers=extra)
    return _json(status, answer, extra)


async def _serve(
    fake: FakeDiscord, request: web.Request, record: RecordedRequest, body: Any, uploads: list[Upload], bad_json: bool
) -> tuple[int, Any, dict[str, str]]:
    method, path = record.method, record.path
    matched = fake.spec.match(path)
    handler = None if matched is None else ROUTES.get((method, matched[0]))
    if matched is None or handler is None:
        # Unknown to Discord, or not implemented here: either way the test should hear of it.
        fake.unknown_requests.append(record)
        if matched is None:
            return 404, error_body(404, 0), {}
        record.route = matched[0]
        if method not in fake.spec.methods(matched[0]):
            return 405, error_body(405, 0), {}
        return 404, error_body(404, 0), {}
    template, params = matched
    record.route = template
    if template not in rest_interactions.UNAUTHENTICATED:
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("Bot ") or auth[4:] not in fake.tokens:
            return 401, error_body(401, 0), {}

    facts = RequestFacts(method=method, path=path, template=template, params=params, body=body)
    bucket = fake.buckets.bucket(method, template, params)
    fault = fake.faults.take(facts)
    if fault is not None:
        if fault.status == 429:
            headers = rate_limited_headers(fault.retry_after, is_global=fault.is_global, bucket=bucket, via=fault.via)
        else:
            headers = bucket.headers()
        return fault.status, fault.body(), headers

    if fake.global_limiter is not None and template not in rest_interactions.UNAUTHENTICATED:
        wait = fake.global_limiter.try_acquire()
        if wait is not None:
            answer = {"message": "You are being rate limited.", "retry_after": round(wait, 3), "global": True}
            return 429, answer, rate_limited_headers(wait, is_global=True, bucket=None, via=True)
    if not bucket.take():
        wait = max(bucket.reset_at - time.time(), 0.001)
        answer = {"message": "You are being rate limited.", "retry_after": round(wait, 3), "global": False}
        return 429, answer, rate_limited_headers(wait, is_global=False, bucket=bucket, via=True)

    if bad_json:
        return 400, error_body(400, 50109, "The request body contains invalid JSON."), bucket.headers()
    if fake.validate:
        errors = body_errors(fake.spec, method, template, body)
        if errors:
            fake.violations.append(Violation(method, path, template, errors, body))
            answer = {**error_body(400, 50035), "errors": discord_errors(errors)}
            return 400, answer, bucket.headers()

    call = rest.Call(
        fake=fake,
        method=method,
        path=path,
        template=template,
        params=params,
        query=request.query,
        body=body,
        uploads=uploads,
    )
    try:
        reply = await handler(call)
    except DiscordError as exc:
        if exc.misuse:
            errors = [FieldError((), str(exc.body["code"]), exc.body["message"])]
            fake.violations.append(Violation(method, path, template, errors, body))
        return exc.status, exc.body, bucket.headers()
    status = 204 if reply.body is None and reply.status == 200 else reply.status
    return status, reply.body, bucket.headers()
