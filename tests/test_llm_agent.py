"""The LLM agent through real HTTP to a loopback Ollama stand-in, and through LiteLLM.

Ollama ids use the agent's direct /api/chat transport; ``openai/...`` ids go through
LiteLLM, here to the fake's OpenAI-compatible /v1 endpoint or to LiteLLM's own
``mock_response``. Only the model is faked: prompts, retries, parsing and HTTP are real.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fakes.ollama_server import FakeOllama, count_tokens
from support import closed_port_url, free_port

from pytest_mesocosm.agents import AgentContext, AgentReply, TaskInfo, Turn
from pytest_mesocosm.agents.llm import LLMAgent
from pytest_mesocosm.agents.ollama import ollama_base_url
from pytest_mesocosm.agents.transport import RetryPolicy
from pytest_mesocosm.engine.config import AgentOptions
from pytest_mesocosm.errors import AgentConfigError, ModelError

FAST = RetryPolicy(base=0.01, cap=0.05)
MOVES = {"type": "discrete", "enum_values": ["up", "down", "left", "right"],
         "description": "Where to step."}
WORDLE = TaskInfo(
    name="Wordle",
    description="6 tries to guess a 5-letter word.",
    action_space={"type": "text", "description": "A 5-letter lowercase word."},
    observation_space={"type": "json", "description": "Feedback on the last guess."},
    system_prompt="Think about letter frequency.",
)
MAZE = TaskInfo(name="Maze", description="Reach the exit.", action_space=MOVES)


@pytest.fixture
def fake() -> Iterator[FakeOllama]:
    with FakeOllama(["I will open with common letters.\nACTION: crane"]) as server:
        yield server


def ctx_for(task: TaskInfo, observation: Any = None, *, step: int = 0,
            history: list[Turn] | None = None, **kw: Any) -> AgentContext:
    return AgentContext(
        task=task, episode_id="ep-1", seed=7, step=step,
        observation={"feedback": None, "guesses_remaining": 6} if observation is None
        else observation,
        history=history or [], **kw,
    )


def agent_for(url: str, model: str = "ollama/llama3.2", **options: Any) -> LLMAgent:
    """An agent with the chat profile (the hosted one is pinned in test_hosted_profile)."""
    kwargs = options.pop("agent_kwargs", {})
    options.setdefault("prompt_style", "chat")
    return LLMAgent(AgentOptions(model=model, api_base=url, **options), retry=FAST, **kwargs)


def act(agent: LLMAgent, ctx: AgentContext) -> AgentReply:
    async def go() -> AgentReply:
        try:
            return await agent.act(ctx)
        finally:
            await agent.aclose()

    return asyncio.run(go())


# -- through the direct Ollama transport ---------------------------------------------


def test_prompt_received_and_reply_parsed(fake: FakeOllama) -> None:
    agent = agent_for(fake.url, temperature=0.3, max_tokens=64)
    reply = act(agent, ctx_for(WORDLE, env_system_prompt="You are a Wordle solver."))

    assert reply.action == "crane" and reply.parse_error is None
    assert reply.reasoning == "I will open with common letters."
    [body] = fake.chat_bodies()
    assert body["model"] == "llama3.2" and body["stream"] is False
    assert body["options"] == {"temperature": 0.3, "num_predict": 64}
    assert "format" not in body  # a text space gets no schema
    system, user = body["messages"]
    assert system["role"] == "system"
    text = system["content"]
    for part in ("You are a Wordle solver.", "Think about letter frequency.",
                 "6 tries to guess a 5-letter word.", "A 5-letter lowercase word.",
                 "Feedback on the last guess.", "ACTION: <action>"):
        assert part in text
    assert text.index("You are a Wordle solver.") < text.index("Think about letter frequency.")
    assert user == {"role": "user", "content": '{"feedback": null, "guesses_remaining": 6}'}
    assert reply.messages == body["messages"]
    # the fake counts tokens the way Ollama reports them: prompt_eval_count / eval_count
    assert reply.prompt_tokens > 20
    assert reply.completion_tokens == count_tokens(reply.raw_text)
    assert reply.cost == 0.0 and reply.latency > 0


def test_text_observation_is_sent_as_is(fake: FakeOllama) -> None:
    act(agent_for(fake.url), ctx_for(WORDLE, "Guess a word.", content_type="text/plain"))
    assert fake.chat_bodies()[0]["messages"][-1]["content"] == "Guess a word."


def five_step_history() -> list[Turn]:
    return [Turn(observation={"turn": i}, raw_text=f"ACTION: word{i}", action=f"word{i}",
                 reward=0.0) for i in range(5)]


@pytest.mark.parametrize(
    ("history", "expected_user_turns"),
    [(None, [0, 1, 2, 3, 4, 5]), (0, [5]), (2, [3, 4, 5])],
)
def test_history_window(fake: FakeOllama, history: int | None,
                        expected_user_turns: list[int]) -> None:
    ctx = ctx_for(WORDLE, {"turn": 5}, step=5, history=five_step_history())
    act(agent_for(fake.url, history=history), ctx)

    messages = fake.chat_bodies()[0]["messages"]
    users = [m["content"] for m in messages if m["role"] == "user"]
    assert users == [f'{{"turn": {i}}}' for i in expected_user_turns]
    assistants = [m["content"] for m in messages if m["role"] == "assistant"]
    assert assistants == [f"ACTION: word{i}" for i in expected_user_turns[:-1]]
    assert [m["role"] for m in messages[1:]] == ["user", "assistant"] * (len(users) - 1) + ["user"]


def test_rejected_answer_is_followed_by_the_reason(fake: FakeOllama) -> None:
    history = [
        *five_step_history()[:1],
        Turn(observation={"turn": 1}, raw_text="<think>long</think>ACTION: xyz", action="xyz",
             feedback="'xyz' is not a 5-letter word."),
    ]
    ctx = ctx_for(WORDLE, {"turn": 1}, step=1, history=history,
                  feedback="'xyz' is not a 5-letter word.")
    act(agent_for(fake.url, history=0), ctx)

    messages = fake.chat_bodies()[0]["messages"]
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
    assert messages[1]["content"] == '{"turn": 1}'
    assert messages[2]["content"] == "ACTION: xyz"  # reasoning is not replayed to the model
    assert messages[3]["content"] == (
        "Your action was rejected: 'xyz' is not a 5-letter word. Reply again."
    )


def test_unparseable_reply_is_a_parse_error_not_an_exception() -> None:
    with FakeOllama(["I am not sure which way to go."]) as fake:
        reply = act(agent_for(fake.url, structured_output="off"), ctx_for(MAZE, {"pos": 1}))
    assert reply.action is None
    assert reply.parse_error is not None and "up, down, left, right" in reply.parse_error
    assert reply.raw_text == "I am not sure which way to go."


@pytest.mark.parametrize(("mode", "sent"), [("auto", True), ("on", True), ("off", False)])
def test_structured_output_for_a_discrete_space(mode: str, sent: bool) -> None:
    with FakeOllama(['{"action": "left"}']) as fake:
        reply = act(agent_for(fake.url, structured_output=mode), ctx_for(MAZE, {"pos": 1}))
        body = fake.chat_bodies()[0]
    assert reply.action == "left"
    if sent:
        assert body["format"]["properties"]["action"]["enum"] == ["up", "down", "left", "right"]
        assert '{"action": "<one of the allowed actions>"}' in body["messages"][0]["content"]
    else:
        assert "format" not in body
        assert "ACTION: <one of the allowed actions>" in body["messages"][0]["content"]


def test_structured_output_for_json_and_continuous_spaces() -> None:
    order = {"type": "object", "properties": {"qty": {"type": "integer"}}, "required": ["qty"]}
    tasks = [
        TaskInfo(name="Shop", action_space={"type": "json", "schema": order}),
        TaskInfo(name="Car", action_space={"type": "continuous",
                                           "bounds": {"low": -1, "high": 1}}),
    ]
    with FakeOllama(['{"qty": 3}', '{"action": 0.5}']) as fake:
        replies = [act(agent_for(fake.url, structured_output="on"), ctx_for(t)) for t in tasks]
        formats = [b["format"] for b in fake.chat_bodies()]
    assert [r.action for r in replies] == [{"qty": 3}, 0.5]
    assert formats[0] == order
    assert formats[1]["properties"]["action"] == {"type": "number", "minimum": -1, "maximum": 1}


def test_think_reply_keeps_reasoning() -> None:
    with FakeOllama(["<think>Up is a wall. Left is open.</think>\nACTION: left"]) as fake:
        reply = act(agent_for(fake.url, structured_output="off"), ctx_for(MAZE, {"pos": 1}))
    assert reply.action == "left"
    assert reply.reasoning == "Up is a wall. Left is open."


def test_retries_after_500_then_succeeds() -> None:
    with FakeOllama(["ACTION: crane"], fail_first=2, fail_status=500) as fake:
        reply = act(agent_for(fake.url, retries=3), ctx_for(WORDLE))
        assert fake.generation_calls == 3
    assert reply.action == "crane"


def test_retry_after_429_honours_retry_after() -> None:
    with FakeOllama(["ACTION: crane"], fail_first=1, fail_status=429, retry_after=0.4) as fake:
        started = time.monotonic()
        reply = act(agent_for(fake.url, retries=2), ctx_for(WORDLE))
        elapsed = time.monotonic() - started
        assert fake.generation_calls == 2
    assert reply.action == "crane"
    assert elapsed >= 0.4  # our own backoff here would have been <= 0.05 s


def test_gives_up_after_the_retry_budget() -> None:
    with FakeOllama(["ACTION: crane"], fail_first=10, fail_status=500) as fake:
        with pytest.raises(ModelError, match=r"Ollama answered 500.*gave up after 3 attempts"):
            act(agent_for(fake.url, retries=2), ctx_for(WORDLE))
        assert fake.generation_calls == 3


def test_unreachable_server_gives_up_naming_ollama_serve() -> None:
    url = closed_port_url()
    with pytest.raises(ModelError, match=rf"not answering at {url}: start it with `ollama serve`"):
        act(agent_for(url, retries=1), ctx_for(WORDLE))


def test_model_missing_at_call_time_is_not_retried() -> None:
    with FakeOllama(["ACTION: crane"], models=["qwen3"]) as fake:
        with pytest.raises(ModelError, match=r"run `ollama pull llama3\.2`"):
            act(agent_for(fake.url, retries=3), ctx_for(WORDLE))
        assert fake.generation_calls == 1


def test_a_server_that_is_not_ollama_is_named(fake: FakeOllama) -> None:
    with pytest.raises(ModelError) as err:
        act(agent_for(fake.url + "/proxy"), ctx_for(WORDLE))
    assert str(err.value) == (
        f"{fake.url}/proxy/api/chat answered 404: is {fake.url}/proxy an Ollama server?"
    )


def test_slow_model_times_out_per_call() -> None:
    with (
        FakeOllama(["ACTION: crane"], latency=0.5) as fake,
        pytest.raises(ModelError, match=r"did not answer within 0\.1 s"),
    ):
        act(agent_for(fake.url, retries=0, timeout=0.1), ctx_for(WORDLE))


def test_one_session_serves_concurrent_episodes(fake: FakeOllama) -> None:
    agent = agent_for(fake.url)

    async def play() -> list[AgentReply]:
        try:
            return await asyncio.gather(*(agent.act(ctx_for(WORDLE)) for _ in range(8)))
        finally:
            await agent.aclose()

    replies = asyncio.run(play())
    assert [r.action for r in replies] == ["crane"] * 8
    assert fake.generation_calls == 8


def preflight(agent: LLMAgent) -> None:
    async def go() -> None:
        try:
            await agent.preflight()
        finally:
            await agent.aclose()

    asyncio.run(go())


def test_preflight_passes_with_the_model_pulled(fake: FakeOllama) -> None:
    preflight(agent_for(fake.url, model="ollama_chat/llama3.2:latest"))
    assert [r.path for r in fake.requests] == ["/api/tags"]


def test_preflight_server_down() -> None:
    url = closed_port_url()
    with pytest.raises(ModelError) as err:
        preflight(agent_for(url))
    assert str(err.value) == f"Ollama is not answering at {url}: start it with `ollama serve`"


def test_preflight_model_not_pulled() -> None:
    with FakeOllama(models=["qwen3:8b"]) as fake, pytest.raises(ModelError) as err:
        preflight(agent_for(fake.url))
    assert str(err.value) == "model llama3.2 is not pulled: run `ollama pull llama3.2`"


@pytest.mark.parametrize(
    ("api_base", "ollama_host", "expected"),
    [
        (None, None, "http://localhost:11434"),
        (None, "127.0.0.1:11435", "http://127.0.0.1:11435"),
        (None, "0.0.0.0", "http://127.0.0.1:11434"),
        (None, "gpu-box", "http://gpu-box:11434"),
        (None, "https://ollama.example.com", "https://ollama.example.com"),
        (None, "[::1]:9000", "http://[::1]:9000"),
        ("http://10.0.0.5:11434/", "0.0.0.0", "http://10.0.0.5:11434"),
        ("http://localhost:11434/v1", None, "http://localhost:11434"),
    ],
)
def test_ollama_address(monkeypatch: pytest.MonkeyPatch, api_base: str | None,
                        ollama_host: str | None, expected: str) -> None:
    if ollama_host is None:
        monkeypatch.delenv("OLLAMA_HOST", raising=False)
    else:
        monkeypatch.setenv("OLLAMA_HOST", ollama_host)
    assert ollama_base_url(api_base) == expected


def test_bad_ollama_host_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OLLAMA_HOST", "localhost:port")
    with pytest.raises(AgentConfigError, match="OLLAMA_HOST='http://localhost:port' is not"):
        LLMAgent(AgentOptions(model="ollama/llama3.2"))


# -- through LiteLLM -------------------------------------------------------------------


def test_litellm_mock_response_parses_and_prices() -> None:
    agent = LLMAgent(
        AgentOptions(model="openai/gpt-4o-mini", prompt_style="chat", structured_output="off"),
        completion_kwargs={"mock_response": "Left is open.\n**Action:** Left"},
    )
    reply = act(agent, ctx_for(MAZE, {"pos": 1}))
    assert reply.action == "left"
    assert reply.reasoning == "Left is open."
    assert reply.prompt_tokens > 0 and reply.completion_tokens > 0
    assert reply.cost > 0  # gpt-4o-mini has a price in LiteLLM's local cost map


def test_litellm_to_ollama_openai_endpoint(fake: FakeOllama) -> None:
    reply = act(agent_for(fake.url + "/v1", model="openai/llama3.2"), ctx_for(WORDLE))
    assert reply.action == "crane"
    [request] = [r for r in fake.requests if r.path == "/v1/chat/completions"]
    messages = request.body["messages"]
    assert [m["role"] for m in messages] == ["system", "user"]
    assert "Think about letter frequency." in messages[0]["content"]
    assert reply.prompt_tokens > 20
    assert reply.completion_tokens == count_tokens(reply.raw_text)
    assert reply.cost == 0.0
    assert not [r for r in fake.requests if r.path == "/api/show"]


def test_litellm_retries_after_500_and_429() -> None:
    for status, retry_after in ((500, None), (429, 0.3)):
        with FakeOllama(["ACTION: crane"], fail_first=2, fail_status=status,
                        retry_after=retry_after) as fake:
            started = time.monotonic()
            agent = agent_for(fake.url + "/v1", model="openai/llama3.2", retries=2)
            reply = act(agent, ctx_for(WORDLE))
            assert reply.action == "crane"
            assert fake.generation_calls == 3
            if retry_after:
                assert time.monotonic() - started >= 2 * retry_after


def test_litellm_gives_up_with_a_model_error() -> None:
    with FakeOllama(["ACTION: crane"], fail_first=5, fail_status=500) as fake:
        agent = agent_for(fake.url + "/v1", model="openai/llama3.2", retries=1)
        with pytest.raises(ModelError, match=r"openai/llama3\.2: .*gave up after 2 attempts"):
            act(agent, ctx_for(WORDLE))
        assert fake.generation_calls == 2


@pytest.mark.parametrize(("mode", "sent"), [("on", True), ("off", False), ("auto", False)])
def test_litellm_structured_output(mode: str, sent: bool) -> None:
    # LiteLLM's model table does not list openai/llama3.2 as schema-capable: "auto" sends none
    with FakeOllama(['{"action": "down"}']) as fake:
        agent = agent_for(fake.url + "/v1", model="openai/llama3.2", structured_output=mode)
        reply = act(agent, ctx_for(MAZE, {"pos": 1}))
        body = fake.chat_bodies()[0]
    assert reply.action == "down"
    if sent:
        schema = body["response_format"]["json_schema"]["schema"]
        assert schema["properties"]["action"]["enum"] == ["up", "down", "left", "right"]
    else:
        assert "response_format" not in body


def test_litellm_preflight_names_the_missing_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(ModelError, match="set OPENAI_API_KEY to use openai/gpt-4o-mini"):
        preflight(LLMAgent(AgentOptions(model="openai/gpt-4o-mini", prompt_style="chat")))
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    preflight(LLMAgent(AgentOptions(model="openai/gpt-4o-mini", prompt_style="chat")))


def test_litellm_unknown_provider_is_a_config_error() -> None:
    with pytest.raises(AgentConfigError, match="LiteLLM does not know the provider of model"):
        LLMAgent(AgentOptions(model="nosuchprovider/model-x"))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"history": -1}, "history=-1: use a number of steps >= 0, or none for the whole episode"),
        ({"structured_output": "maybe"}, "structured_output='maybe': use auto, on or off"),
        ({"max_tokens": 0}, "max_tokens=0: use a positive number"),
        ({"timeout": 0}, "timeout=0: use a positive number of seconds"),
        ({"temperature": 3.0}, "temperature=3.0: use a value from 0 to 2"),
        ({"prompt_style": "plain"}, "prompt_style='plain': use hosted or chat"),
        ({"prompt_style": "hosted", "history": 2}, "history=2: the hosted prompt style is "
         "stateless (one turn a step); use prompt style chat to send earlier turns"),
    ],
)
def test_bad_options_are_one_line_config_errors(options: dict[str, Any], message: str) -> None:
    with pytest.raises(AgentConfigError) as err:
        LLMAgent(AgentOptions(model="ollama/llama3.2", **options))
    assert str(err.value) == message


# -- the fake itself: what the end-to-end tests and benches rely on ---------------------


def post(url: str, body: dict[str, Any]) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_fake_streams_ndjson_and_serves_generate_and_show() -> None:
    def echo(messages: list[dict[str, Any]]) -> str:
        return f"you said {messages[-1]['content']}"

    with FakeOllama(echo, models=["llama3.2"]) as fake:
        status, raw = post(fake.url + "/api/chat", {
            "model": "llama3.2", "messages": [{"role": "user", "content": "hi there"}]})
        chunks = [json.loads(line) for line in raw.decode().splitlines()]
        assert status == 200 and len(chunks) > 2
        assert "".join(c["message"]["content"] for c in chunks) == "you said hi there"
        assert [c["done"] for c in chunks] == [False] * (len(chunks) - 1) + [True]
        assert chunks[-1]["eval_count"] == count_tokens("you said hi there")

        status, raw = post(fake.url + "/api/generate",
                           {"model": "llama3.2", "prompt": "ping", "stream": False})
        assert status == 200 and json.loads(raw)["response"] == "you said ping"

        assert post(fake.url + "/api/show", {"model": "llama3.2"})[0] == 200
        assert post(fake.url + "/api/show", {"model": "mistral"})[0] == 404
        assert [r.path for r in fake.requests] == [
            "/api/chat", "/api/generate", "/api/show", "/api/show"]


def test_fake_runs_as_a_process_with_latency_and_replies() -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, str(Path(__file__).parent / "fakes" / "ollama_server.py"),
         "--port", str(port), "--latency", "0.2", "--reply", "crane", "--reply", "slate"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                urllib.request.urlopen(url + "/api/tags", timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline and proc.poll() is None
                time.sleep(0.05)
        started = time.monotonic()
        replies = [
            json.loads(post(url + "/api/chat", {
                "model": "llama3.2", "stream": False,
                "messages": [{"role": "user", "content": "go"}]})[1])["message"]["content"]
            for _ in range(3)
        ]
        assert replies == ["crane", "slate", "crane"]
        assert time.monotonic() - started >= 0.6
        with urllib.request.urlopen(url + "/_fake/requests", timeout=5) as response:
            assert json.load(response)["counts"]["/api/chat"] == 3
    finally:
        proc.terminate()
        proc.wait(5)
