"""The script: and replay: agents, the make_agent factory and its one-line errors."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from support import write_counter_repo

from pytest_mesocosm.agents import Agent, AgentContext, AgentReply, TaskInfo, Turn, make_agent
from pytest_mesocosm.agents.llm import LLMAgent
from pytest_mesocosm.agents.replay import ReplayAgent
from pytest_mesocosm.agents.script import ScriptAgent
from pytest_mesocosm.engine.config import AgentOptions, BenchConfig
from pytest_mesocosm.engine.outcomes import EpisodeStatus
from pytest_mesocosm.engine.session import run_bench
from pytest_mesocosm.engine.traces import read_trace
from pytest_mesocosm.errors import AgentConfigError, ModelError
from pytest_mesocosm.manifest.models import load_manifest

TASK = TaskInfo(name="Counter")


def ctx(step: int = 0, observation: Any = None, **kw: Any) -> AgentContext:
    return AgentContext(task=TASK, episode_id="ep", seed=1, step=step,
                        observation={"count": step} if observation is None else observation, **kw)


def write(folder: Path, name: str, code: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(textwrap.dedent(code))
    return path


def agent(model: str, base_dir: Path | None = None) -> Agent:
    return make_agent(AgentOptions(model=model), base_dir=base_dir)


def act(an_agent: Agent, context: AgentContext) -> AgentReply:
    return asyncio.run(an_agent.act(context))


# -- script: -------------------------------------------------------------------------


def test_script_agent_calls_the_function_with_observation_and_context(tmp_path: Path) -> None:
    path = write(tmp_path, "policy.py", """\
        def policy(observation, context):
            return {"move": observation["count"] + context.step, "retry": context.feedback}
    """)
    script = agent(f"script:{path}:policy")
    assert isinstance(script, ScriptAgent) and isinstance(script, Agent)

    reply = act(script, ctx(2, feedback="too slow"))
    assert reply.action == {"move": 4, "retry": "too slow"}
    assert reply.raw_text == '{"move": 4, "retry": "too slow"}'
    assert reply.parse_error is None and reply.prompt_tokens == 0


def test_async_policy_and_a_returned_reply(tmp_path: Path) -> None:
    path = write(tmp_path, "policy.py", """\
        import asyncio
        from pytest_mesocosm.agents import AgentReply

        async def slow(observation, context):
            await asyncio.sleep(0)
            return "up"

        def garbled(observation, context):
            return AgentReply(action=None, raw_text="???", parse_error="no action",
                              prompt_tokens=12)
    """)
    assert act(agent(f"script:{path}:slow"), ctx()).action == "up"
    reply = act(agent(f"script:{path}:garbled"), ctx())
    assert (reply.parse_error, reply.prompt_tokens) == ("no action", 12)


def test_policy_exception_is_a_model_error_with_its_message(tmp_path: Path) -> None:
    path = write(tmp_path, "policy.py", """\
        def policy(observation, context):
            raise KeyError("no such cell")
    """)
    with pytest.raises(ModelError) as err:
        act(agent(f"script:{path}:policy"), ctx())
    assert str(err.value) == f"policy script:{path}:policy raised KeyError: 'no such cell'"


def test_script_path_falls_back_to_the_manifest_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = tmp_path / "repo"
    write(repo / "baselines", "always_up.py", "def act(observation, context):\n    return 'up'\n")
    monkeypatch.chdir(tmp_path)
    script = agent("script:baselines/always_up.py:act", base_dir=repo)
    assert act(script, ctx()).action == "up"


def test_policy_can_import_its_neighbours(tmp_path: Path) -> None:
    write(tmp_path, "helpers.py", "BEST = 'left'\n")
    path = write(tmp_path, "policy.py", """\
        from helpers import BEST

        def policy(observation, context):
            return BEST
    """)
    assert act(agent(f"script:{path}:policy"), ctx()).action == "left"


SCRIPT_ERRORS = [
    ("missing.py", "policy", None,
     "file missing.py not found (looked in {cwd} or {tmp})"),
    ("policy.py", "nope", "def policy(observation, context):\n    return 1\n"
     "def helper(x):\n    return x\n",
     "{path} has no function 'nope'; it defines: helper, policy"),
    ("policy.py", "policy", "import os\nVALUE = undefined_name + 1\n",
     "importing policy.py failed at line 2: NameError: name 'undefined_name' is not defined"),
    ("policy.py", "policy", "def policy(observation, context)\n    return 1\n",
     "importing policy.py failed at line 1: SyntaxError: expected ':'"),
    ("policy.py", "policy", "def policy(observation):\n    return 1\n",
     "policy() must accept (observation, context)"),
]


@pytest.mark.parametrize(("name", "function", "code", "message"), SCRIPT_ERRORS)
def test_script_errors_are_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                    name: str, function: str, code: str | None,
                                    message: str) -> None:
    folder = tmp_path / "policies"
    folder.mkdir()
    if code is not None:
        (folder / name).write_text(code)
    monkeypatch.chdir(folder)
    with pytest.raises(AgentConfigError) as err:
        agent(f"script:{name}:{function}", base_dir=tmp_path)
    text = str(err.value)
    assert "\n" not in text
    assert text.startswith(f"model 'script:{name}:{function}': " if code is None
                           else f"script:{folder / name}:{function}: ")
    assert text.endswith(message.format(cwd=folder, tmp=tmp_path, path=name)), text


def test_script_without_a_function_name(tmp_path: Path) -> None:
    path = write(tmp_path, "policy.py", "def policy(o, c):\n    return 1\n")
    with pytest.raises(AgentConfigError, match=r"as script:path/to/policy\.py:function"):
        agent(f"script:{path}")


# -- replay: -------------------------------------------------------------------------


def trace_lines(actions: list[Any]) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = [
        {"event": "episode_start", "episode_id": "ep", "seed": 3},
        {"event": "observation", "step": 0, "data": {"count": 0}},
        {"event": "model_call", "step": 0, "raw_text": "ACTION: down"},
        {"event": "invalid_action", "step": 0, "action": "down", "reason": "say up"},
    ]
    for number, action in enumerate(actions, start=1):
        events += [
            {"event": "action", "step": number - 1, "action": action},
            {"event": "step_result", "step": number, "action": action, "reward": 0.0,
             "terminated": False, "truncated": False, "info": {}, "observation": {}},
        ]
    return [*events, {"event": "episode_end", "status": "completed"}]


def write_trace(path: Path, events: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(e) + "\n" for e in events))
    return path


def test_replay_plays_the_accepted_actions_by_step(tmp_path: Path) -> None:
    trace = write_trace(tmp_path / "seed-3.jsonl", trace_lines(["up", {"x": 1}, 0.5]))
    replay = agent(f"replay:{trace}")
    assert isinstance(replay, ReplayAgent)

    assert [act(replay, ctx(step)).action for step in (0, 1, 2)] == ["up", {"x": 1}, 0.5]
    assert act(replay, ctx(1)).raw_text == '{"x": 1}'
    with pytest.raises(ModelError) as err:
        act(replay, ctx(3))
    assert str(err.value) == (
        f"replay trace {trace} has only 3 actions; step 4 needs one more"
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"event": "step_result", "action": "up"}\nnot json\n',
         "line 2 of t.jsonl is not JSON"),
        ('{"event": "episode_start"}\n', "t.jsonl has no step_result events"),
        ('{"event": "step_result", "step": 1}\n',
         "the step_result on line 1 of t.jsonl has no action"),
        (None, "file t.jsonl not found"),
    ],
)
def test_replay_errors_are_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                    content: str | None, message: str) -> None:
    monkeypatch.chdir(tmp_path)
    if content is not None:
        (tmp_path / "t.jsonl").write_text(content)
    with pytest.raises(AgentConfigError) as err:
        agent("replay:t.jsonl")
    assert "\n" not in str(err.value) and message in str(err.value)


def test_replay_reproduces_a_scripted_run_against_a_real_adapter(tmp_path: Path) -> None:
    repo = write_counter_repo(tmp_path / "repo")
    manifest = load_manifest(repo)

    def run(model: str, runs: str) -> Any:
        config = BenchConfig(agent=AgentOptions(model=model), seeds=[1],
                             runs_dir=tmp_path / runs)
        return run_bench(manifest, config).results[0]

    first = run(f"script:{repo.parent / 'policy.py'}:policy", "scripted")
    again = run(f"replay:{first.trace_path}", "replayed")

    def played(result: Any) -> list[tuple[Any, Any]]:
        return [(e["action"], e["reward"]) for e in read_trace(Path(result.trace_path))
                if e["event"] == "step_result"]

    assert first.status == again.status == EpisodeStatus.COMPLETED
    assert played(again) == played(first) and len(played(first)) == 3


# -- the factory -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "message"),
    [
        ("foo:bar", "model 'foo:bar' is not a form pytest-mesocosm knows: use a LiteLLM model id "
                    "(e.g. ollama/llama3.2, openai/gpt-4o-mini), script:path/to/policy.py:function "
                    "or replay:path/to/trace.jsonl (for an Ollama model, write ollama/foo:bar)"),
        ("qwen3:8b", "(for an Ollama model, write ollama/qwen3:8b)"),
        ("http://localhost:11434", "is not a form pytest-mesocosm knows"),
        ("  ", "the model is empty: use a LiteLLM model id"),
        ("replay:", "name the trace, as replay:path/to/trace.jsonl"),
    ],
)
def test_factory_rejects_unknown_forms(model: str, message: str) -> None:
    with pytest.raises(AgentConfigError) as err:
        agent(model)
    assert "\n" not in str(err.value) and message in str(err.value)


def test_factory_makes_an_llm_agent_for_model_ids() -> None:
    made = agent("ollama/llama3.2:latest")
    assert isinstance(made, LLMAgent) and made.name == "ollama/llama3.2:latest"


def test_history_turns_are_what_a_policy_sees(tmp_path: Path) -> None:
    path = write(tmp_path, "policy.py", """\
        def policy(observation, context):
            return [t.action for t in context.history]
    """)
    history = [Turn(observation={}, raw_text="up", action="up"),
               Turn(observation={}, raw_text="x", action="x", feedback="bad")]
    assert act(agent(f"script:{path}:policy"), ctx(1, history=history)).action == ["up", "x"]


def test_script_runs_never_import_litellm(tmp_path: Path) -> None:
    path = write(tmp_path, "policy.py", "def policy(observation, context):\n    return 'up'\n")
    code = textwrap.dedent(f"""\
        import asyncio, sys
        from pytest_mesocosm.agents import AgentContext, TaskInfo, make_agent
        from pytest_mesocosm.engine.config import AgentOptions

        agent = make_agent(AgentOptions(model={f"script:{path}:policy"!r}))
        ctx = AgentContext(task=TaskInfo(name="t"), episode_id="e", seed=0, step=0,
                           observation={{}})
        assert asyncio.run(agent.act(ctx)).action == "up"
        print(sorted(m for m in ("litellm", "aiohttp", "openai", "jsonschema")
                     if m in sys.modules))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60)
    assert out.stdout.strip() == "[]"
