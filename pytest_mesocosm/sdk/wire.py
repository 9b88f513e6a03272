"""The adapter wire contract in code: read request fields, write response bodies.

Plain functions over ``dict`` and ``bytes`` (no pydantic, no framework) because they sit
on the hot path of every ``/step``; the route table is in DESIGN.md ("The adapter wire
contract"). Anything a request or an env gets wrong becomes a :class:`WireError`, which
the server turns into ``{"detail": ...}`` with its status.
"""

from __future__ import annotations

import base64
import inspect
import json
import math
from typing import Any

from pytest_mesocosm.sdk.env import BaseEnv, StepResult

_BINARY = (bytes, bytearray, memoryview)
_ENVELOPE_KEYS = frozenset({"data", "content_type", "system_prompt"})
_JSON_TYPES = {dict: "an object", list: "an array", str: "a string", int: "a number",
               float: "a number", bool: "a boolean", type(None): "null"}


class WireError(Exception):
    """A request answered with an error ``status`` and a one-line ``detail``."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def json_type(value: Any) -> str:
    """Name a decoded JSON value's type the way a client author thinks of it."""
    return _JSON_TYPES.get(type(value), type(value).__name__)


def parse_body(raw: bytes) -> dict[str, Any]:
    """Decode a request body that must be a JSON object."""
    if not raw:
        raise WireError(400, 'request body is empty; send a JSON object like {"episode_id": "e1"}')
    try:
        body = json.loads(raw)
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
        raise WireError(400, f"request body is not valid JSON ({exc})") from exc
    except RecursionError:
        raise WireError(400, "request body nests JSON arrays/objects too deeply to decode; "
                             "send a flatter action") from None
    if not isinstance(body, dict):
        raise WireError(400, f"request body must be a JSON object, got {json_type(body)}")
    return body


def episode_id_of(body: dict[str, Any]) -> str:
    """The required ``episode_id`` string."""
    try:
        episode_id = body["episode_id"]
    except KeyError:
        raise WireError(400, 'request body has no "episode_id"; add it (a string)') from None
    if not isinstance(episode_id, str):
        raise WireError(400, f"episode_id must be a string, got {json_type(episode_id)} "
                             f"{episode_id!r}")
    return episode_id


def seed_of(body: dict[str, Any]) -> int | None:
    """The optional ``seed``: an integer (or an integral float/str, as pydantic allows) or null."""
    seed = body.get("seed")
    if seed is None or (isinstance(seed, int) and not isinstance(seed, bool)):
        return seed
    if isinstance(seed, float) and seed.is_integer():
        return int(seed)
    if isinstance(seed, str):
        try:
            return int(seed)
        except ValueError:
            pass
    raise WireError(400, f"seed must be an integer or null, got {json_type(seed)} {seed!r}")


def unknown_params(env_class: type[BaseEnv], params: dict[str, Any]) -> list[str]:
    """The ``scenario_params`` keys ``env_class.reset`` cannot take (none with ``**params``)."""
    try:
        parameters = list(inspect.signature(env_class.reset).parameters.values())[1:]  # self
    except (TypeError, ValueError):
        return []
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return []
    named = {p.name for p in parameters
             if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)}
    return sorted(set(params) - named)


def scenario_params_of(body: dict[str, Any]) -> dict[str, Any]:
    """The optional ``scenario_params`` object, passed to ``reset`` as keyword arguments."""
    params = body.get("scenario_params")
    if params is None:
        return {}
    if not isinstance(params, dict):
        raise WireError(400, f"scenario_params must be an object, got {json_type(params)}")
    if "seed" in params:
        raise WireError(400, 'scenario_params may not contain "seed"; send it as the '
                             'top-level "seed" field')
    return params


def mode_of(body: dict[str, Any]) -> str:
    """The optional render ``mode`` (default ``"text"``)."""
    mode = body.get("mode", "text")
    if not isinstance(mode, str):
        raise WireError(400, f"mode must be a string such as \"text\", got {json_type(mode)}")
    return mode


def _default(value: Any) -> Any:
    """JSON fallback: bytes as base64, numpy-style values through ``tolist()``."""
    if isinstance(value, _BINARY):
        return base64.b64encode(value).decode("ascii")
    tolist = getattr(value, "tolist", None)
    if callable(tolist):
        return tolist()
    raise TypeError(f"{type(value).__name__} {value!r:.80} is not JSON serialisable")


def dumps(payload: Any) -> bytes:
    """Encode strictly: NaN and infinity are refused, as JSON requires."""
    return json.dumps(payload, default=_default, allow_nan=False,
                      separators=(",", ":")).encode()


def _jsonable(value: Any) -> bool:
    try:
        dumps(value)
    except (TypeError, ValueError):
        return False
    return True


def _encode(payload: dict[str, Any], where: str) -> bytes:
    """Encode ``payload``; on failure name the field and ``where`` it came from."""
    try:
        return dumps(payload)
    except (TypeError, ValueError) as exc:
        field = next((key for key, value in payload.items() if not _jsonable(value)), "a field")
        raise WireError(500, f"{where}: {field} is not JSON-able ({exc}); use dicts, lists, str, "
                             "finite numbers, bools, None or bytes") from exc


def observation(data: Any, content_type: str | None) -> dict[str, Any]:
    """The ``{"data", "content_type"}`` pair, with a content type chosen from the data if unset."""
    if isinstance(data, _BINARY):
        return {"data": base64.b64encode(data).decode("ascii"),
                "content_type": content_type or "application/octet-stream"}
    if isinstance(data, str):
        return {"data": data, "content_type": content_type or "text/plain"}
    return {"data": data, "content_type": content_type or "application/json"}


def reset_body(value: Any) -> bytes:
    """``/reset`` response: ``{"data", "content_type", "system_prompt"}``."""
    if isinstance(value, dict) and "data" in value and value.keys() <= _ENVELOPE_KEYS:
        payload = observation(value["data"], value.get("content_type"))
        payload["system_prompt"] = value.get("system_prompt")
    else:
        payload = observation(value, None)
        payload["system_prompt"] = None
    return _encode(payload, "reset()")


def _reward(value: Any, step: int) -> float:
    """A finite float, or a 500 that names the step."""
    if isinstance(value, (str, *_BINARY)) or not hasattr(value, "__float__"):
        raise WireError(500, f"reward at step {step} is {value!r} ({type(value).__name__}); "
                             "rewards must be finite floats")
    reward = float(value)
    if not math.isfinite(reward):
        raise WireError(500, f"reward at step {step} is {reward}; rewards must be finite floats")
    return reward


def step_body(result: Any, step: int) -> bytes:
    """``/step`` response for the ``step``-th step's :class:`StepResult`."""
    if not isinstance(result, StepResult):
        raise WireError(500, f"step() must return a StepResult, got {type(result).__name__} "
                             f"at step {step}")
    info = result.info
    if info is None:
        info = {}
    elif isinstance(info, dict):
        info = {str(key): value for key, value in info.items()}
    else:
        raise WireError(500, f"info at step {step} must be a dict, got {type(info).__name__}")
    payload = {
        "observation": observation(result.observation, result.content_type),
        "reward": _reward(result.reward, step),
        "terminated": bool(result.terminated),
        "truncated": bool(result.truncated),
        "info": info,
        "system_prompt": result.system_prompt,
    }
    return _encode(payload, f"step {step}")


def render_body(value: Any) -> bytes:
    """``/render`` response: ``{"data", "content_type"}``."""
    return _encode(observation(value, None), "render()")
