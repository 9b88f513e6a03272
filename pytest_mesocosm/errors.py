"""The one exception tree of pytest-mesocosm.

Every error the engine raises on purpose is a :class:`MesocosmError`; third-party
exceptions (aiohttp, httpx, litellm, pydantic) are wrapped at the boundary with
``raise ... from exc`` so callers only ever catch ours::

    MesocosmError
    ├── ManifestError            benchanything.json is missing, unreadable or invalid
    ├── AdapterError             talking to an environment adapter went wrong
    │   ├── AdapterUnreachable   nothing answers at the adapter URL
    │   ├── AdapterStartError    `python adapter.py --port N` exited or never got healthy
    │   └── EnvError             the adapter answered with an error status (status, detail)
    │       ├── EpisodeNotFound  404: the episode id is unknown to the adapter
    │       └── ActionRejected   422: the env raised InvalidAction for this action
    ├── AgentError               the agent could not produce an action
    │   ├── AgentConfigError     a model string or agent option is wrong (user mistake)
    │   ├── ModelError           the model could not be reached or answered garbage after retries
    │   │   └── TransientModelError  (agents/transport.py) worth a retry; never leaves the agent
    │   └── ActionParseError     no action could be read from the model's reply
    ├── ScoringError             a metric could not be computed from an episode
    │   └── ThresholdError       (gate.py) a threshold like "win_rate>=0.6" is malformed
    ├── TraceError               (traces.py) a trace or results.json cannot be read
    ├── ResumeError              a run folder cannot be resumed with these options
    └── PlatformError            the bench platform API answered with an error (status, detail)
        ├── CredentialsError     (mesocosm_platform/credentials.py) the credentials file is unusable
        ├── LoginFailed          (mesocosm_platform/api.py) the login server refused
        └── NotAuthenticated, MemberRequired, PlatformUnreachable, ApiError and its
                                 per-status subclasses (mesocosm_platform/errors.py)

Messages say what happened, show the offending value, and name the fix.
"""

from __future__ import annotations


class MesocosmError(Exception):
    """Base class of every error raised by pytest-mesocosm on purpose."""


class ManifestError(MesocosmError):
    """A manifest is missing, unreadable or breaks the schema.

    ``path`` is the manifest file (if known), ``field`` the JSON path of the problem.
    """

    def __init__(self, message: str, *, path: str | None = None, field: str | None = None):
        super().__init__(message)
        self.path = path
        self.field = field


class AdapterError(MesocosmError):
    """Base for failures talking to an environment adapter."""


class AdapterUnreachable(AdapterError):
    """Nothing answers at the adapter URL (connection refused, reset, timed out)."""


class AdapterStartError(AdapterError):
    """The adapter process exited early or did not become healthy in time."""


class EnvError(AdapterError):
    """The adapter answered an error status; ``status`` and ``detail`` are what it said."""

    def __init__(self, message: str, *, status: int, detail: object = None):
        super().__init__(message)
        self.status = status
        self.detail = detail


class EpisodeNotFound(EnvError):
    """404 from the adapter: the episode id is not live there."""


class ActionRejected(EnvError):
    """422 from the adapter: the env raised ``InvalidAction`` for the action sent."""


class AgentError(MesocosmError):
    """Base for failures of the agent (model or policy) side."""


class AgentConfigError(AgentError):
    """A model string or agent option is wrong; a user mistake, reported in one line."""


class ModelError(AgentError):
    """The model could not be reached, or kept failing after the retry budget."""


class ActionParseError(AgentError):
    """No action could be extracted from the model's reply; the reason goes back to it."""


class ScoringError(MesocosmError):
    """A metric value could not be read from an episode (e.g. an unreadable info field)."""


class ResumeError(MesocosmError):
    """``--resume RUN_DIR``: the folder holds no run, or episodes the options do not plan."""


class PlatformError(MesocosmError):
    """The bench platform API answered an error; ``status`` and ``detail`` as it said."""

    def __init__(self, message: str, *, status: int | None = None, detail: object = None):
        super().__init__(message)
        self.status = status
        self.detail = detail
