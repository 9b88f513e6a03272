"""Every model id that is not Ollama's goes through LiteLLM.

That is ``openai/...``, ``gemini/...``, ``anthropic/...`` with their usual key
variables, and vLLM or llama.cpp servers as ``openai/<name>`` with ``api_base``.

LiteLLM is imported here, lazily, when such a model is first made: it takes ~2 s of
CPU to import, and a ``script:`` run must never pay for it. Before the import,
``LITELLM_LOCAL_MODEL_COST_MAP`` is set (unless the user set it) so the import does not
fetch a cost map from the internet. Calls are kept as lean as LiteLLM allows (measured
in ``bench/litellm_agent_cost.py``: ~3 ms of CPU a call, ~3.7 ms a step for the agent
with a 6-step history; fine for hosted models that take seconds to answer, and the
reason Ollama ids take the direct path instead). LiteLLM's own retries are off
(ours in :mod:`~pytest_mesocosm.agents.transport` honour Retry-After), its debug output
is silenced, and the cost comes from the figure LiteLLM has already computed for the
response instead of a second look-up. LiteLLM keeps its pooled HTTP clients per event
loop and closes them at exit; closing them sooner would break other runs in the process.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

from pytest_mesocosm.agents.transport import (
    Completion,
    ModelRequest,
    TransientModelError,
    parse_retry_after,
)
from pytest_mesocosm.errors import AgentConfigError, ModelError

# A key LiteLLM's SDKs insist on, for local OpenAI-compatible servers that ignore it.
_PLACEHOLDER_KEY = "no-key-needed"


def import_litellm() -> Any:
    """Import LiteLLM offline and quiet; the one place that does."""
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm

    litellm.suppress_debug_info = True
    logging.getLogger("LiteLLM").setLevel(logging.ERROR)
    return litellm


class LiteLLMTransport:
    """Calls ``litellm.acompletion`` for one model; ``extra`` goes to every call as is."""

    def __init__(
        self,
        model: str,
        *,
        api_base: str | None = None,
        timeout: float = 120.0,
        extra: Mapping[str, Any] | None = None,
    ):
        self.litellm = import_litellm()
        self.model = model
        self.api_base = api_base
        self.timeout = timeout
        self.extra = dict(extra or {})
        try:
            _, self.provider, _, _ = self.litellm.get_llm_provider(model, api_base=api_base)
        except Exception as exc:  # LiteLLM raises BadRequestError for unknown providers
            raise AgentConfigError(
                f"LiteLLM does not know the provider of model {model!r}: prefix the provider, "
                f"e.g. ollama/{model} or openai/{model} (see https://docs.litellm.ai/docs/providers)"
            ) from exc
        self.missing_keys = self._missing_keys()
        if self.missing_keys and api_base and "api_key" not in self.extra:
            self.extra["api_key"] = _PLACEHOLDER_KEY
        # LiteLLM's model table, asked once; "on" sends a schema regardless (e.g. to vLLM).
        self.supports_schema = bool(self.litellm.supports_response_schema(model))

    def _missing_keys(self) -> list[str]:
        try:
            report = self.litellm.validate_environment(model=self.model, api_base=self.api_base)
        except Exception:  # an unusual provider LiteLLM cannot check: let the call tell
            return []
        return list(report.get("missing_keys") or [])

    async def complete(self, request: ModelRequest) -> Completion:
        kwargs: dict[str, Any] = {
            "model": self.model, "messages": request.messages,
            "temperature": request.temperature, "max_tokens": request.max_tokens,
            "timeout": self.timeout, "max_retries": 0,
        }
        if self.api_base:
            kwargs["api_base"] = self.api_base
        if request.tool is not None:
            kwargs["tools"] = [{"type": "function", "function": {
                "name": request.tool.name, "description": request.tool.description,
                "parameters": request.schema or {"type": "object"},
            }}]
            kwargs["tool_choice"] = {"type": "function", "function": {"name": request.tool.name}}
        elif request.schema is not None:
            kwargs["response_format"] = {
                "type": "json_schema", "json_schema": {"name": "action", "schema": request.schema},
            }
        if request.think is not None:
            kwargs["extra_body"] = {"think": request.think}
        kwargs.update(self.extra)
        try:
            response = await self.litellm.acompletion(**kwargs)
        except Exception as exc:  # every LiteLLM failure is mapped to ours right here
            raise self._map_error(exc) from exc
        message = response.choices[0].message
        usage = getattr(response, "usage", None)
        cost = (getattr(response, "_hidden_params", None) or {}).get("response_cost")
        calls = getattr(message, "tool_calls", None) or []
        return Completion(
            text=message.content or "",
            prompt_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
            completion_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
            cost=float(cost) if isinstance(cost, (int, float)) else 0.0,
            reasoning=getattr(message, "reasoning_content", None) or None,
            tool_arguments=calls[0].function.arguments if calls else None,
        )

    def _map_error(self, exc: Exception) -> ModelError:
        litellm = self.litellm
        first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        said = f"{self.model}: {first_line}"
        if isinstance(exc, litellm.RateLimitError):
            return TransientModelError(said, retry_after=_retry_after(exc))
        if isinstance(exc, (litellm.Timeout, litellm.APIConnectionError)):
            return TransientModelError(said)
        if isinstance(exc, litellm.AuthenticationError):
            keys = " or ".join(self.missing_keys) or "the provider's API key"
            return ModelError(f"{said} - set {keys}")
        if isinstance(exc, litellm.NotFoundError):
            return ModelError(f"{said} - check the model name")
        if isinstance(exc, litellm.ContextWindowExceededError):
            return ModelError(f"{said} - the chat no longer fits: lower the history option")
        status = getattr(exc, "status_code", None)
        if isinstance(status, int) and (status >= 500 or status == 429):
            return TransientModelError(said, retry_after=_retry_after(exc))
        return ModelError(said)

    async def preflight(self) -> None:
        """The provider's key is set, when LiteLLM knows which one it needs."""
        if self.missing_keys and not self.api_base and "api_key" not in self.extra:
            keys = " and ".join(self.missing_keys)
            raise ModelError(f"set {keys} to use {self.model} (LiteLLM found it unset)")

    async def aclose(self) -> None:
        """Nothing of ours to release; LiteLLM pools its clients per event loop."""


def _retry_after(exc: Exception) -> float | None:
    for headers in (
        getattr(exc, "litellm_response_headers", None),
        getattr(getattr(exc, "response", None), "headers", None),
    ):
        if headers is not None:
            value = headers.get("retry-after")
            if value:
                return parse_retry_after(value)
    return None
