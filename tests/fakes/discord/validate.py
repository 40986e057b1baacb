"""Checks request bodies the way Discord would: the OpenAPI request schema, then the documented
limits the spec leaves out or gets wrong (content is 2000, not the spec's 4000; embed totals)."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any, NamedTuple

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from referencing import Registry
from referencing.jsonschema import DRAFT202012

SPEC_PATH = Path(__file__).resolve().parents[2] / "fixtures" / "discord" / "openapi.json"
_SPEC_URI = "urn:discord-openapi"

CONTENT_MAX = 2000
EMBEDS_MAX = 10
EMBED_TOTAL_MAX = 6000
EMBED_FIELDS_MAX = 25
AUTOCOMPLETE_CHOICES_MAX = 25
# (path inside one embed, limit)
EMBED_TEXT_LIMITS: tuple[tuple[tuple[str, ...], int], ...] = (
    (("title",), 256),
    (("description",), 4096),
    (("footer", "text"), 2048),
    (("author", "name"), 256),
)
FIELD_NAME_MAX = 256
FIELD_VALUE_MAX = 1024


class FieldError(NamedTuple):
    path: tuple[str | int, ...]
    code: str
    message: str

    def describe(self) -> str:
        where = ".".join(str(p) for p in self.path) or "<body>"
        return f"{where}: {self.code}: {self.message}"


class Template(NamedTuple):
    path: str
    regex: re.Pattern[str]
    params: int  # fewer parameters = more specific, so '@original' beats '{message_id}'


def _escape_pointer(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def _compile_template(path: str) -> Template:
    pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(path))
    return Template(path, re.compile(f"^{pattern}$"), path.count("{"))


class OpenApiSpec:
    """Discord's OpenAPI document, loaded once per process; validators are built on first use."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        # The spec types snowflakes as strings only, but Discord takes JSON integers too and
        # discord.py sends some that way (recipient_id, attachment ids).
        schemas = document["components"]["schemas"]
        snowflake = schemas["SnowflakeType"]
        if "anyOf" not in snowflake:
            schemas["SnowflakeType"] = {"anyOf": [snowflake, {"type": "integer", "minimum": 0}]}
        # Media channels (16) are real and discord.py sends them with forums in channel_types, but the
        # published spec does not list them yet.
        kinds = schemas["ChannelTypes"]["oneOf"]
        if not any(k.get("const") == 16 for k in kinds):
            kinds.append({"title": "GUILD_MEDIA", "const": 16})
        self._registry: Registry[Any] = Registry().with_resource(_SPEC_URI, DRAFT202012.create_resource(document))
        self.templates = sorted((_compile_template(p) for p in document["paths"]), key=lambda t: (t.params, t.path))
        self._validators: dict[tuple[str, str], Draft202012Validator | None] = {}

    @classmethod
    @functools.cache
    def load(cls, path: Path = SPEC_PATH) -> OpenApiSpec:
        with path.open(encoding="utf-8") as f:
            return cls(json.load(f))

    def match(self, path: str) -> tuple[str, dict[str, str]] | None:
        """The most specific spec path template matching `path`, and its parameters."""
        for template in self.templates:
            found = template.regex.match(path)
            if found:
                return template.path, found.groupdict()
        return None

    def methods(self, template: str) -> set[str]:
        return {m.upper() for m in self.document["paths"][template] if m != "parameters"}

    def _validator(self, template: str, method: str) -> Draft202012Validator | None:
        key = (template, method)
        if key not in self._validators:
            operation = self.document["paths"][template].get(method.lower(), {})
            content = operation.get("requestBody", {}).get("content", {})
            validator = None
            if "application/json" in content:
                pointer = "/".join(
                    _escape_pointer(p)
                    for p in ("paths", template, method.lower(), "requestBody", "content", "application/json")
                )
                schema = {"$ref": f"{_SPEC_URI}#/{pointer}/schema"}
                validator = Draft202012Validator(schema, registry=self._registry)
            self._validators[key] = validator
        return self._validators[key]

    def schema_errors(self, name: str, body: Any) -> list[FieldError]:
        """Errors of `body` against one named schema, for routes whose spec body is a loose union
        (a forum post must be a CreateForumThreadRequest, which the union does not enforce)."""
        key = (f"#/components/schemas/{name}", "")
        if key not in self._validators:
            schema = {"$ref": f"{_SPEC_URI}#/components/schemas/{name}"}
            self._validators[key] = Draft202012Validator(schema, registry=self._registry)
        validator = self._validators[key]
        assert validator is not None
        return [leaf for error in validator.iter_errors(body) for leaf in _leaf_errors(error)]

    def request_errors(self, template: str, method: str, body: Any) -> list[FieldError]:
        validator = self._validator(template, method)
        if validator is None:
            return []
        found: list[FieldError] = []
        for error in validator.iter_errors(body):
            found.extend(_leaf_errors(error))
        return found


# -- turning jsonschema errors into Discord's field errors -------------------------------------


def _is_discriminator_miss(error: ValidationError, base_depth: int) -> bool:
    """A union branch failed because its `type` key (or the value's JSON type) does not fit it."""
    path = list(error.absolute_path)
    if error.validator in ("enum", "const") and len(path) == base_depth + 1 and path[-1] == "type":
        return True
    return error.validator == "type" and len(path) == base_depth


def _leaf_errors(error: ValidationError) -> list[FieldError]:
    if error.validator in ("anyOf", "oneOf") and error.context:
        depth = len(error.absolute_path)
        branches: dict[int, list[ValidationError]] = {}
        for sub in error.context:
            branches.setdefault(int(sub.relative_schema_path[0]), []).append(sub)
        plausible = [
            [leaf for e in errs for leaf in _leaf_errors(e)]
            for errs in branches.values()
            if not any(_is_discriminator_miss(e, depth) for e in errs)
        ]
        if plausible:
            # The branch the caller meant: fewest JSON-type mismatches, then errors reaching deepest.
            return min(
                plausible,
                key=lambda leaves: (
                    sum(leaf.code == "BASE_TYPE_BAD_TYPE" for leaf in leaves),
                    -max((len(leaf.path) for leaf in leaves), default=0),
                ),
            )
        if isinstance(error.instance, dict) and "type" in error.instance:
            message = f"Value {error.instance['type']!r} is not valid."
            return [FieldError((*error.absolute_path, "type"), "BASE_TYPE_CHOICES", message)]
    return [_field_error(error)]


def _field_error(error: ValidationError) -> FieldError:
    path = tuple(error.absolute_path)
    kind = str(error.validator)
    limit = error.validator_value
    if kind in ("maxLength", "maxItems"):
        return FieldError(path, "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")
    if kind in ("minLength", "minItems"):
        return FieldError(path, "BASE_TYPE_MIN_LENGTH", f"Must be {limit} or more in length.")
    if kind == "required":
        missing = re.match(r"'([^']+)'", error.message)
        name = missing.group(1) if missing else "?"
        return FieldError((*path, name), "BASE_TYPE_REQUIRED", "This field is required")
    if kind in ("enum", "const"):
        return FieldError(path, "BASE_TYPE_CHOICES", f"Value must be one of {limit}.")
    if kind in ("maximum", "exclusiveMaximum"):
        return FieldError(path, "NUMBER_TYPE_MAX", f"int value should be less than or equal to {limit}.")
    if kind in ("minimum", "exclusiveMinimum"):
        return FieldError(path, "NUMBER_TYPE_MIN", f"int value should be greater than or equal to {limit}.")
    if kind == "type":
        return FieldError(path, "BASE_TYPE_BAD_TYPE", error.message)
    return FieldError(path, f"SCHEMA_{kind.upper()}", error.message)


def discord_errors(errors: Iterable[FieldError]) -> dict[str, Any]:
    """Nest field errors the way Discord's 50035 answers do: {"embeds": {"0": {"title": {"_errors": [...]}}}}."""
    tree: dict[str, Any] = {}
    for err in errors:
        node = tree
        for part in err.path:
            node = node.setdefault(str(part), {})
        node.setdefault("_errors", []).append({"code": err.code, "message": err.message})
    return tree


# -- documented limits -------------------------------------------------------------------------


def _text_at(obj: Any, keys: tuple[str, ...]) -> str:
    for key in keys:
        if not isinstance(obj, dict):
            return ""
        obj = obj.get(key)
    return obj if isinstance(obj, str) else ""


def _too_long(path: tuple[str | int, ...], limit: int) -> FieldError:
    return FieldError(path, "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")


def message_limit_errors(body: Any, prefix: tuple[str | int, ...] = ()) -> list[FieldError]:
    """Content, embed and total-embed limits of a message body (create, edit, webhook, callback)."""
    if not isinstance(body, dict):
        return []
    found: list[FieldError] = []
    content = body.get("content")
    if isinstance(content, str) and len(content) > CONTENT_MAX:
        found.append(_too_long((*prefix, "content"), CONTENT_MAX))
    embeds = body.get("embeds")
    if not isinstance(embeds, list):
        return found
    if len(embeds) > EMBEDS_MAX:
        found.append(_too_long((*prefix, "embeds"), EMBEDS_MAX))
    total = 0
    for index, embed in enumerate(embeds):
        where = (*prefix, "embeds", index)
        for keys, limit in EMBED_TEXT_LIMITS:
            text = _text_at(embed, keys)
            total += len(text)
            if len(text) > limit:
                found.append(_too_long((*where, *keys), limit))
        fields = embed.get("fields") if isinstance(embed, dict) else None
        if not isinstance(fields, list):
            continue
        if len(fields) > EMBED_FIELDS_MAX:
            found.append(_too_long((*where, "fields"), EMBED_FIELDS_MAX))
        for f_index, item in enumerate(fields):
            for key, limit in (("name", FIELD_NAME_MAX), ("value", FIELD_VALUE_MAX)):
                text = _text_at(item, (key,))
                total += len(text)
                if len(text) > limit:
                    found.append(_too_long((*where, "fields", f_index, key), limit))
    if total > EMBED_TOTAL_MAX:
        message = f"Embed size exceeds maximum size of {EMBED_TOTAL_MAX}"
        found.append(FieldError((*prefix, "embeds"), "MAX_EMBED_SIZE_EXCEEDED", message))
    return found


def autocomplete_errors(data: Any) -> list[FieldError]:
    """Choices of an autocomplete answer (callback type 8): at most 25, names 1-100 characters."""
    if not isinstance(data, dict) or not isinstance(data.get("choices"), list):
        return [FieldError(("data", "choices"), "BASE_TYPE_REQUIRED", "This field is required")]
    choices = data["choices"]
    found: list[FieldError] = []
    if len(choices) > AUTOCOMPLETE_CHOICES_MAX:
        found.append(_too_long(("data", "choices"), AUTOCOMPLETE_CHOICES_MAX))
    for index, choice in enumerate(choices):
        if not 1 <= len(_text_at(choice, ("name",))) <= 100:
            message = "Must be between 1 and 100 in length."
            found.append(FieldError(("data", "choices", index, "name"), "BASE_TYPE_BAD_LENGTH", message))
    return found
