"""Kalshi's own request and response models (kalshi-python-sync 3.34.0) as a test oracle.

The endpoint table is read from the SDK's generated API modules: for every operation its
method, path template, query parameter names, request body model and response model per
HTTP status. ``check_request`` and ``check_response`` return the problems of one exchange
with the venue (an empty list when the SDK would accept it), so a plugin body or a
stand-in answer that does not look like Kalshi fails the test that produced it.
"""

from __future__ import annotations

import ast
import functools
import json
import re
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from attrs import frozen

API_PREFIX = "/trade-api/v2"
SDK_VERSION = "3.34.0"
#: Fields seen on the wire that the 3.34.0 models do not (yet) define, with the evidence.
WIRE_FIELDS = {
    # per-market flag for fractional sizes (protocol notes section 3 and 7 [WIRE][DOCS])
    "Market": {"fractional_trading_enabled"},
}


@frozen
class Endpoint:
    name: str
    method: str
    template: str
    pattern: re.Pattern[str]
    query: frozenset[str]
    body_model: Any
    responses: Mapping[str, str]


def _sdk() -> Any:
    import kalshi_python_sync

    return kalshi_python_sync


def _literal_dict(node: ast.AST) -> dict[str, str]:
    value = ast.literal_eval(node)
    return {str(k): str(v) for k, v in value.items() if v is not None}


@functools.cache
def endpoints() -> tuple[Endpoint, ...]:
    """Every REST operation the SDK knows, from its generated source."""
    sdk = _sdk()
    from importlib.metadata import version

    assert version("kalshi-python-sync") == SDK_VERSION, "the oracle is pinned to 3.34.0"
    api_dir = Path(sdk.__file__).parent / "api"
    found = []
    for module_path in sorted(api_dir.glob("*_api.py")):
        tree = ast.parse(module_path.read_text())
        for cls in (n for n in tree.body if isinstance(n, ast.ClassDef)):
            methods = {f.name: f for f in cls.body if isinstance(f, ast.FunctionDef)}
            for name, func in methods.items():
                serializer = methods.get(f"_{name}_serialize")
                if serializer is None:
                    continue
                typed = methods.get(f"{name}_with_http_info", func)
                found.append(_endpoint(name, func, serializer, typed))
    return tuple(found)


def _endpoint(
    name: str, func: ast.FunctionDef, ser: ast.FunctionDef, typed: ast.FunctionDef
) -> Endpoint:
    responses: dict[str, str] = {}
    for node in ast.walk(func):
        if (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and node.target.id == "_response_types_map"
            and node.value is not None
        ):
            responses = _literal_dict(node.value)
    method = template = ""
    query: set[str] = set()
    body_param = None
    for node in ast.walk(ser):
        if isinstance(node, ast.keyword) and node.arg in ("method", "resource_path"):
            if node.arg == "method":
                method = ast.literal_eval(node.value)
            else:
                template = ast.literal_eval(node.value)
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "append"
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "_query_params"
            and node.args
            and isinstance(node.args[0], ast.Tuple)
        ):
            query.add(ast.literal_eval(node.args[0].elts[0]))
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.targets[0], ast.Name)
            and node.targets[0].id == "_body_params"
            and isinstance(node.value, ast.Name)
        ):
            body_param = node.value.id
    body_model = None
    if body_param:
        for arg in typed.args.args:
            if arg.arg == body_param and arg.annotation is not None:
                names = [n.id for n in ast.walk(arg.annotation) if isinstance(n, ast.Name)]
                models = [getattr(_sdk().models, n) for n in names if hasattr(_sdk().models, n)]
                body_model = models[0] if models else None
    regex = re.sub(r"\\\{[a-z_]+\\\}", "[^/]+", re.escape(template))
    return Endpoint(
        name=name,
        method=method,
        template=template,
        pattern=re.compile(f"^{regex}$"),
        query=frozenset(query),
        body_model=body_model,
        responses=responses,
    )


def endpoint_for(method: str, path: str) -> Endpoint | None:
    """The SDK operation for ``METHOD /trade-api/v2/...``; literal paths beat templates."""
    route = path[len(API_PREFIX) :] if path.startswith(API_PREFIX) else path
    matches = [e for e in endpoints() if e.method == method and e.pattern.match(route)]
    matches.sort(key=lambda e: e.template.count("{"))
    return matches[0] if matches else None


def _model(name: str) -> Any:
    return getattr(_sdk().models, name)


def _fields(model: Any) -> set[str]:
    return {f.alias or n for n, f in model.model_fields.items()}


def _unknown_keys(model: Any, data: Any, where: str) -> list[str]:
    """Keys the SDK model does not define, at any depth of nested SDK models."""
    if not isinstance(data, Mapping) or not hasattr(model, "model_fields"):
        return []
    known = _fields(model) | WIRE_FIELDS.get(model.__name__, set())
    problems = [f"{where}.{k}: not a field of {model.__name__}" for k in data if k not in known]
    for name, info in model.model_fields.items():
        value = data.get(info.alias or name)
        inner = _inner_model(info.annotation)
        if inner is None or value is None:
            continue
        items = value if isinstance(value, list) else [value]
        for i, item in enumerate(items):
            problems += _unknown_keys(inner, item, f"{where}.{name}[{i}]")
    return problems


def _inner_model(annotation: Any) -> Any:
    from pydantic import BaseModel

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def _validate(model: Any, data: Any, where: str) -> list[str]:
    from pydantic import ValidationError

    try:
        model.from_dict(data)
    except (ValidationError, ValueError, TypeError, AttributeError) as exc:
        return [f"{where}: {model.__name__} refuses it: {exc}".replace("\n", " ")[:600]]
    return []


def _decode(body: bytes | str) -> Any:
    text = body.decode() if isinstance(body, bytes) else body
    # exact numbers, as Kalshi's own JSON decoder would see them (floats stay floats)
    return json.loads(text)


def check_request(
    method: str, path: str, query: Mapping[str, Any], body: bytes | None
) -> list[str]:
    """What the SDK would refuse about this request: unknown endpoint, unknown query
    parameter, or a body its request model does not accept (types, enums, extra keys)."""
    endpoint = endpoint_for(method, path)
    if endpoint is None:
        return [f"{method} {path}: no such operation in kalshi-python-sync {SDK_VERSION}"]
    where = f"{method} {endpoint.template}"
    problems = [f"{where}: unknown query parameter {k!r}" for k in query
                if k not in endpoint.query]
    if endpoint.body_model is None:
        if body:
            problems.append(f"{where}: the operation takes no body")
        return problems
    if not body:
        return [*problems, f"{where}: {endpoint.body_model.__name__} body missing"]
    data = _decode(body)
    problems += _unknown_keys(endpoint.body_model, data, "body")
    problems += _validate(endpoint.body_model, data, where)
    return problems


def response_model(method: str, path: str, status: int) -> Any:
    endpoint = endpoint_for(method, path)
    if endpoint is None:
        return None
    name = endpoint.responses.get(str(status)) or endpoint.responses.get(f"{str(status)[0]}XX")
    return _model(name) if name else None


def check_response(method: str, path: str, status: int, body: bytes | str) -> list[str]:
    """What the SDK's response model for this status refuses about ``body`` (success
    answers must also carry no field the model does not define)."""
    endpoint = endpoint_for(method, path)
    if endpoint is None:
        return [f"{method} {path}: no such operation in kalshi-python-sync {SDK_VERSION}"]
    where = f"{method} {endpoint.template} -> {status}"
    name = endpoint.responses.get(str(status))
    if name is None:
        if 200 <= status < 300:
            return [f"{where}: the SDK documents no such success status"]
        return []
    if not body:
        return [] if status == 204 else [f"{where}: empty body, {name} expected"]
    try:
        data = _decode(body)
    except ValueError:
        return [f"{where}: body is not JSON"]
    model = _model(name)
    problems = _validate(model, data, where)
    if 200 <= status < 300:
        problems += _unknown_keys(model, data, where)
    return problems


def exact(value: Any) -> Any:
    """JSON numbers as the plugin must read them (for comparisons in tests)."""
    return Decimal(str(value)) if isinstance(value, float) else value
