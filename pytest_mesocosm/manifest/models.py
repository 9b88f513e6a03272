"""benchanything.json: the manifest models, loading, validation and its JSON Schema.

A manifest tells the harness where the adapter is, what the environment promises (the
*binding vow*: observation, action, reward and episode contract) and how episodes are
scored. The models check types and ranges; :mod:`pytest_mesocosm.manifest.rules` holds the
rules a type cannot express and the wording of every problem. Unknown keys are kept at every
level: the hosted platform may add some, and a manifest must survive a round trip unchanged.

Regenerate the shipped schema after changing a model::

    python -m pytest_mesocosm.manifest.models --write-schema
"""

from __future__ import annotations

import abc
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from pytest_mesocosm.errors import ManifestError
from pytest_mesocosm.manifest.messages import RULE_ERROR, Issue, issues_from
from pytest_mesocosm.manifest.name import MANIFEST_NAME as MANIFEST_NAME  # re-exported
from pytest_mesocosm.manifest.rules import (
    RULES_VERSION,
    VERSION_PATTERN,
    Violation,
    manifest_violations,
    register_violations,
    schema_of_ref,
)
from pytest_mesocosm.schemas import SCHEMA_FILE

MANIFEST_SCHEMA = "benchanything_manifest"
REGISTER_SCHEMA = "domain_register"

Finite = Annotated[float, Field(allow_inf_nan=False)]


class _Open(BaseModel):
    """Base of every manifest model: unknown keys are kept, fields settable by name."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)


class _Ruled(_Open, abc.ABC):
    """A top-level document whose policy rules run next to pydantic's own checks, so one
    validation reports every problem: rule findings are merged into the ValidationError."""

    @classmethod
    @abc.abstractmethod
    def _violations(cls, raw: Any, root: Path | None) -> list[Violation]:
        """The policy rules' findings for the raw JSON of this kind of document."""

    @classmethod
    def _position(cls, error: InitErrorDetails) -> int:
        loc = error["loc"]
        if not loc:
            return -1
        names = list(cls.model_fields)
        return names.index(loc[0]) if loc[0] in names else len(names)

    @model_validator(mode="wrap")
    @classmethod
    def _apply_rules(cls, data: Any, handler: Callable[[Any], Any], info: ValidationInfo) -> Any:
        errors: list[InitErrorDetails] = []
        result = None
        try:
            result = handler(data)
        except ValidationError as exc:
            errors.extend(exc.errors())  # type: ignore[arg-type]
        root = (info.context or {}).get("root")
        for found in cls._violations(data, root):
            errors.append(
                InitErrorDetails(
                    type=PydanticCustomError(
                        RULE_ERROR, "{message}", {"message": found.message, "fix": found.fix}
                    ),
                    loc=found.loc,
                    input=data,
                )
            )
        if errors:
            errors.sort(key=cls._position)  # document order: adapter, name, ..., scoring
            raise ValidationError.from_exception_data(cls.__name__, errors)
        return result


class ObservationSpace(_Open):
    """What the agent sees each step."""

    type: str = Field(default="json", description="json, text, image, ...")
    description: str | None = None


class Bounds(_Open):
    """The range of a continuous action (the same for every dimension of ``shape``)."""

    low: Finite
    high: Finite
    shape: list[Annotated[int, Field(ge=1)]] | None = None


class ActionSpace(_Open):
    """What the agent may do each step."""

    model_config = ConfigDict(
        json_schema_extra={
            "allOf": [
                {
                    "if": {"properties": {"type": {"const": "discrete"}}, "required": ["type"]},
                    "then": {
                        "required": ["enum_values"],
                        "properties": {"enum_values": {"type": "array", "minItems": 1}},
                    },
                },
                {
                    "if": {"properties": {"type": {"const": "continuous"}}, "required": ["type"]},
                    "then": {"required": ["bounds"], "properties": {"bounds": {"type": "object"}}},
                },
            ]
        }
    )

    type: Literal["text", "discrete", "continuous", "json", "image", "multi_modal", "composite"]
    description: str | None = None
    enum_values: list[str] | None = Field(
        default=None, description="The allowed actions; required for a discrete space."
    )
    bounds: Bounds | None = Field(default=None, description="Required for a continuous space.")
    json_schema: dict[str, Any] | None = Field(
        default=None, alias="schema", description="JSON Schema of the action (json spaces)."
    )
    schema_ref: dict[str, Any] | str | None = Field(
        default=None,
        description="The hosted platform's field for the schema: a JSON Schema or its JSON text; "
        "used when schema is absent.",
    )

    @model_validator(mode="after")
    def _schema_from_ref(self) -> ActionSpace:
        """A hosted manifest's ``schema_ref`` serves as ``schema``, so structured output and
        reply validation read one field whichever the author wrote."""
        if self.json_schema is None and self.schema_ref is not None:
            self.json_schema = schema_of_ref(self.schema_ref)
        return self


class RewardRange(_Open):
    """The bounds of the reward of one step (``low <= high``)."""

    low: Finite
    high: Finite


class Reward(_Open):
    """How the environment rewards a step."""

    type: Literal["binary", "scalar", "sparse", "vector"]
    range: RewardRange | None = None


class EpisodeVow(_Open):
    """Limits and guarantees of one episode."""

    max_steps: int | None = Field(default=None, ge=1)
    max_wall_seconds: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    deterministic_reset: bool = False
    supports_seed: bool = False
    parallel_episodes: int | None = Field(default=None, ge=1)


class BindingVow(_Open):
    """The contract the environment promises: spaces, reward and episode rules."""

    version: str = Field(pattern=VERSION_PATTERN, description="major.minor.patch")
    tier: Literal["tier1", "tier2"] | None = None
    description: str | None = None
    observation_space: ObservationSpace = Field(default_factory=ObservationSpace)
    action_space: ActionSpace
    reward: Reward
    episode: EpisodeVow = Field(default_factory=EpisodeVow)
    techniques: list[str] | None = None
    metadata: dict[str, Any] | None = None


class MetricSpec(_Open):
    """One metric: a number per episode (``episode_reward`` = the sum of rewards,
    ``terminal_field`` = a key of the last step's info) aggregated over episodes. With
    ``pass_rate`` an episode passes when its value is strictly greater than ``pass_threshold``."""

    model_config = ConfigDict(
        json_schema_extra={
            "allOf": [
                {
                    "if": {
                        "properties": {"type": {"const": "terminal_field"}},
                        "required": ["type"],
                    },
                    "then": {
                        "required": ["field"],
                        "properties": {"field": {"type": "string", "minLength": 1}},
                    },
                }
            ]
        }
    )

    name: str = Field(min_length=1)
    type: Literal["episode_reward", "terminal_field"]
    field: str | None = Field(default=None, description="Info key; required for terminal_field.")
    aggregation: Literal["mean", "median", "min", "max", "sum", "pass_rate"] = "mean"
    pass_threshold: Finite = 0.0


class Scoring(_Open):
    """How episodes become metrics; ``primary_metric`` ranks runs."""

    primary_metric: str = Field(description="The name of one of the metrics.")
    higher_is_better: bool = True
    metrics: list[MetricSpec] = Field(min_length=1)


class MesocosmExtras(_Open):
    """pytest-mesocosm's own settings (the hosted platform ignores this key)."""

    thresholds: list[str] = Field(
        default_factory=list, description='CI gate, e.g. ["win_rate>=0.6", "mean_steps<5"].'
    )
    allowed_errors: int = Field(
        default=0, ge=0, description="Episodes with env_error/model_error the gate tolerates."
    )


class Manifest(_Ruled):
    """benchanything.json: where the adapter is, the binding vow and the scoring block.

    ``source_path``, ``root``, ``adapter_path`` and ``domain_id`` are set from the file by
    :func:`load_manifest`; a manifest built in memory is rooted at the current directory.
    """

    adapter: str = Field(min_length=1, description="The adapter script, relative to this file.")
    name: str = Field(min_length=1)
    id: str | None = Field(default=None, description="Domain id; default: the folder's name.")
    description: str | None = None
    tags: list[str] = Field(default_factory=list)
    binding_vow: BindingVow
    scoring: Scoring
    mesocosm: MesocosmExtras | None = None

    _source_path: Path | None = PrivateAttr(default=None)

    @classmethod
    def _violations(cls, raw: Any, root: Path | None) -> list[Violation]:
        return manifest_violations(raw, root)

    @property
    def source_path(self) -> Path | None:
        """The manifest file (absolute), if it was loaded from one."""
        return self._source_path

    @property
    def root(self) -> Path:
        """The manifest's folder: adapter paths and the default domain id hang off it."""
        return self._source_path.parent if self._source_path is not None else Path.cwd()

    @property
    def adapter_path(self) -> Path:
        return (self.root / self.adapter).resolve()

    @property
    def domain_id(self) -> str:
        return self.id or self.root.name

    def to_dict(self) -> dict[str, Any]:
        """The manifest as JSON data, unknown keys included and defaults not added."""
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True)


def _owner_id(value: Any) -> Any:
    """Owner ids come as strings or integers; keep one type."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


class DomainRegister(_Ruled):
    """The legacy ``POST /v1/domains`` body: a vow and scoring served at a fixed endpoint."""

    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    owner_id: Annotated[str, BeforeValidator(_owner_id)]
    binding_vow: BindingVow
    endpoint: str
    scoring: Scoring

    @classmethod
    def _violations(cls, raw: Any, root: Path | None) -> list[Violation]:
        return register_violations(raw)


# ---------------------------------------------------------------- loading


def _manifest_file(path: Path) -> Path:
    return path / MANIFEST_NAME if path.is_dir() else path


def _read(file: Path, given: Path) -> tuple[Any, Issue | None]:
    """The file's JSON, or the one problem that stops us from reading it."""
    where = str(file)
    if not file.exists():
        if file != given:
            return None, Issue(
                str(given), f"no {MANIFEST_NAME} in this folder",
                f"create {file}, or pass the path of the manifest",
            )
        return None, Issue(
            where, "no such file", f"pass the path of a {MANIFEST_NAME} or of the folder holding it"
        )
    try:
        text = file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        return None, Issue(where, f"is not UTF-8 text ({exc.reason})", f"save {file} as UTF-8")
    except OSError as exc:
        reason = f"cannot be read: {exc.strerror}"
        return None, Issue(where, reason, f"check the permissions of {file}")
    return _parse_json(text, where)


def _parse_json(text: str, where: str) -> tuple[Any, Issue | None]:
    try:
        return json.loads(text), None
    except json.JSONDecodeError as exc:
        at = f"line {exc.lineno}, column {exc.colno}"
        problem = f"invalid JSON at {at}: {exc.msg}"
        return None, Issue(where, problem, f"fix the JSON syntax at {at}")


def _failure(file: Path, issues: list[Issue]) -> ManifestError:
    """All problems in one error: the count on the first line, one problem a line."""
    lines = [f"{file}: {issue.text} ({issue.fix})" for issue in issues]
    if len(lines) > 1:
        lines = [f"{file}: {len(lines)} problems", *("  " + line for line in lines)]
    return ManifestError("\n".join(lines), path=str(file), field=issues[0].path)


def load_manifest(path: str | Path) -> Manifest:
    """Read and validate a manifest file (or the ``benchanything.json`` in a folder).

    The adapter path is checked against the manifest's folder: it must be relative, stay
    inside it and exist. Raises :class:`ManifestError` listing every problem at once.
    """
    given = Path(path)
    file = _manifest_file(given)
    raw, problem = _read(file, given)
    if problem is not None:
        raise ManifestError(f"{problem.text} ({problem.fix})", path=str(file))
    try:
        manifest = Manifest.model_validate(raw, context={"root": file.parent})
    except ValidationError as exc:
        raise _failure(file, issues_from(exc)) from None
    manifest._source_path = file.resolve()
    return manifest


# ---------------------------------------------------------------- validation reports


def _is_register(obj: Any) -> bool:
    """A ``POST /v1/domains`` body has an endpoint (or owner) and no adapter."""
    if not isinstance(obj, dict) or "adapter" in obj:
        return False
    return "endpoint" in obj or "owner_id" in obj


def _report(schema: str, issues: list[Issue]) -> dict[str, Any]:
    return {
        "ok": not issues,
        "issues": [issue.text for issue in issues],
        "suggested_fixes": [issue.fix for issue in issues],
        "rules_version": RULES_VERSION,
        "schema": schema,
    }


def validate_payload(obj: Any, *, root: Path | None = None) -> dict[str, Any]:
    """Check a manifest or a legacy domain-register body; never raises for bad input.

    Returns what ``mesocosm validate`` prints: ``ok``, ``issues`` (``path: problem``),
    ``suggested_fixes`` (one per issue), ``rules_version`` and ``schema`` (which shape was
    detected). With ``root`` (the manifest's folder) the adapter must also exist there.
    """
    register = _is_register(obj)
    model: type[_Ruled] = DomainRegister if register else Manifest
    try:
        model.model_validate(obj, context={"root": root})
        issues: list[Issue] = []
    except ValidationError as exc:
        issues = issues_from(exc)
    return _report(REGISTER_SCHEMA if register else MANIFEST_SCHEMA, issues)


def hosted_warnings(obj: Any) -> list[str]:
    """What a valid manifest lacks for the hosted platform (it stays valid here)."""
    if _is_register(obj) or not isinstance(obj, dict):
        return []
    vow = obj.get("binding_vow")
    if isinstance(vow, dict) and "tier" not in vow:
        return ["binding_vow.tier is missing: the hosted platform refuses a manifest without "
                'it; add "tier": "tier1" (or "tier2") to binding_vow']
    return []


def validate_file(path: str | Path, warnings: list[str] | None = None) -> dict[str, Any]:
    """:func:`validate_payload` for a file (``-`` reads stdin); unreadable JSON is an issue.

    ``warnings``, when given, receives :func:`hosted_warnings` (kept out of the report,
    whose shape is the hosted CLI's)."""
    if str(path) == "-":
        raw, problem = _parse_json(sys.stdin.read(), "<stdin>")
        root = None
    else:
        given = Path(path)
        file = _manifest_file(given)
        raw, problem = _read(file, given)
        root = file.parent
    if problem is not None:
        return _report(MANIFEST_SCHEMA, [problem])
    if warnings is not None:
        warnings.extend(hosted_warnings(raw))
    return validate_payload(raw, root=root)


# ---------------------------------------------------------------- JSON Schema


def manifest_json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of benchanything.json, generated from the models."""
    schema = Manifest.model_json_schema(by_alias=True, mode="validation")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}


def schema_text() -> str:
    """The schema exactly as the shipped file holds it."""
    return json.dumps(manifest_json_schema(), indent=2, ensure_ascii=False) + "\n"


def write_schema(path: str | Path = SCHEMA_FILE) -> Path:
    """Write the generated schema (by default over the shipped file); returns the path."""
    target = Path(path)
    target.write_text(schema_text(), encoding="utf-8")
    return target


def _main(argv: list[str]) -> int:
    if not argv or argv[0] != "--write-schema" or len(argv) > 2:
        usage = "usage: python -m pytest_mesocosm.manifest.models --write-schema [PATH]"
        print(usage, file=sys.stderr)
        return 2
    print(f"wrote {write_schema(*argv[1:])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(_main(sys.argv[1:]))
