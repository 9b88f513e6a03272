"""The ``hosted`` prompt profile against PLATFORM_API.md section 6.3, string for string.

Fixed observations go in; the messages, the structured-output choice and schema, and
the parsed actions are compared with what section 6.3 says the hosted runner builds.
The requests are then sent for real: to the loopback Ollama fake (free text, the 512
token floor, thinking off) and through LiteLLM to the fake's OpenAI endpoint (the
``json_schema`` response format).
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from fakes.ollama_server import FakeOllama

from pytest_mesocosm.agents import AgentContext, AgentReply, TaskInfo
from pytest_mesocosm.agents.hosted import (
    CLOSING,
    HostedProfile,
    action_schema,
    describe_space,
    output_mode,
    parse_free_text,
)
from pytest_mesocosm.agents.llm import LLMAgent
from pytest_mesocosm.agents.transport import Completion
from pytest_mesocosm.engine.config import AgentOptions

FREE_CLOSING = (
    "Respond with your action. You may include one or two sentences of reasoning first; the "
    "platform records your full reply. If the action space is discrete, include exactly one "
    "allowed value in your response. If the action space is JSON, end with valid JSON only."
)
JSON_CLOSING = (
    "Respond with a JSON object containing your chosen action in the required schema. You may "
    "include a brief reasoning field if the schema allows it; the platform records your full "
    "reply."
)
TOOL_CLOSING = (
    "Call the submit_action tool with your chosen action. You may reason briefly before "
    "calling the tool; the platform records your full reply."
)
MOVES = {"type": "discrete", "enum_values": ["up", "down", "left", "right"],
         "description": "Where to step."}
MAZE = TaskInfo(name="Maze", description="Top-level text, not sent.", action_space=MOVES,
                system_prompt="Be brief.", domain_description="A 5x5 maze with one exit.")
WORDLE = TaskInfo(name="Wordle", action_space={"type": "text",
                                               "description": "A 5-letter lowercase word."})


def ctx_for(task: TaskInfo, observation: Any, *, step: int = 0, **kw: Any) -> AgentContext:
    return AgentContext(task=task, episode_id="ep-1", seed=3, step=step,
                        observation=observation, **kw)


def hosted(model: str = "ollama/llama3.2", **options: Any) -> HostedProfile:
    return HostedProfile(AgentOptions(model=model, **options), model)


# -- the messages --------------------------------------------------------------------


def test_closing_sentences_are_the_hosted_ones() -> None:
    assert CLOSING == {"free": FREE_CLOSING, "json_schema": JSON_CLOSING, "tool": TOOL_CLOSING}


def test_two_messages_every_part_in_the_hosted_order() -> None:
    ctx = ctx_for(MAZE, {"pos": [1, 2], "note": "café ☕"}, step=2,
                  env_system_prompt="You are in a maze.")
    request = hosted().request(ctx)
    assert request.messages == [
        {"role": "system", "content": (
            "You are in a maze.\n\nBe brief.\n\n## Domain\nA 5x5 maze with one exit.\n\n"
            "## Action Space\none of ['up', 'down', 'left', 'right']\n\n" + FREE_CLOSING)},
        {"role": "user", "content": '[Step 3]\n{"pos": [1, 2], "note": "café ☕"}'},
    ]


def test_without_optional_parts_only_the_action_space_and_closing() -> None:
    request = hosted().request(ctx_for(WORDLE, "Guess a word.", content_type="text/plain"))
    assert request.messages == [
        {"role": "system",
         "content": "## Action Space\nA 5-letter lowercase word.\n\n" + FREE_CLOSING},
        {"role": "user", "content": "[Step 1]\nGuess a word."},
    ]


@pytest.mark.parametrize(("observation", "text"), [
    ([1, "é"], '[1, "é"]'), (42, "42"), (None, "None"), (True, "True"), (2.5, "2.5"),
])
def test_observation_values_as_the_hosted_runner_writes_them(observation: Any, text: str) -> None:
    request = hosted().request(ctx_for(WORDLE, observation))
    assert request.messages[1]["content"] == f"[Step 1]\n{text}"


@pytest.mark.parametrize(("space", "text"), [
    ({"type": "discrete", "enum_values": ["a", "it's"]}, "one of ['a', \"it's\"]"),
    ({"type": "text", "description": "A word."}, "A word."),
    ({"type": "image"}, "image"),
    ({"type": "composite", "fields": {"move": MOVES, "say": {"type": "text"}}},
     "composite(move: one of ['up', 'down', 'left', 'right'], say: text)"),
])
def test_action_space_description(space: dict[str, Any], text: str) -> None:
    assert describe_space(space) == text


def test_image_observation_is_a_text_part_and_an_image_part() -> None:
    ctx = ctx_for(WORDLE, "iVBORw0K", content_type="image/png")
    assert hosted("openai/gpt-4o").request(ctx).messages[1]["content"] == [
        {"type": "text", "text": "[Step 1]"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0K",
                                            "detail": "auto"}},
    ]
    maze = TaskInfo(name="Maze", action_space=MOVES)
    assert hosted("anthropic/claude-3-5-haiku").request(
        ctx_for(maze, "iVBORw0K", content_type="image/png")
    ).messages[1]["content"][1] == {
        "type": "image", "source": {"type": "base64", "media_type": "image/png",
                                    "data": "iVBORw0K"}}


def test_a_rejected_answer_is_re_asked_with_the_reason_in_the_same_step() -> None:
    ctx = ctx_for(WORDLE, {"turn": 1}, step=1, feedback="'xyz' is not a 5-letter word.")
    request = hosted().request(ctx)
    assert len(request.messages) == 2
    assert request.messages[1]["content"] == (
        '[Step 2]\n{"turn": 1}\n\nYour action was rejected: \'xyz\' is not a 5-letter word. '
        "Reply again."
    )


def test_ollama_gets_the_token_floor_and_thinking_off() -> None:
    request = hosted(max_tokens=64, temperature=0.3).request(ctx_for(WORDLE, {}))
    assert (request.max_tokens, request.temperature, request.think) == (512, 0.3, False)
    request = hosted("openai/gpt-4o", max_tokens=64).request(ctx_for(WORDLE, {}))
    assert (request.max_tokens, request.think) == (64, None)


# -- structured output ---------------------------------------------------------------


@pytest.mark.parametrize(("model", "kind", "mode"), [
    ("openai/gpt-4o-mini", "discrete", "json_schema"),
    ("gemini/gemini-2.0-flash", "continuous", "json_schema"),
    ("openai/gpt-4o-mini", "json", "json_schema"),
    ("anthropic/claude-3-5-haiku", "composite", "tool"),
    ("openai/gpt-4o-mini", "text", "free"),
    ("openai/gpt-4o-mini", "image", "free"),
    ("anthropic/claude-3-5-haiku", "multi_modal", "free"),
    ("ollama/llama3.2", "discrete", "free"),
    ("ollama_chat/llama3.2", "json", "free"),
    ("mistral/mistral-large", "discrete", "free"),
])
def test_structured_output_exactly_for_the_hosted_providers_and_spaces(
    model: str, kind: str, mode: str
) -> None:
    assert output_mode(model, {"type": kind}) == mode


@pytest.mark.parametrize(("space", "inner"), [
    (MOVES, {"type": "string", "enum": ["up", "down", "left", "right"]}),
    ({"type": "continuous", "bounds": {"low": -1, "high": 1}},
     {"type": "number", "minimum": -1, "maximum": 1}),
    ({"type": "json", "schema": {"type": "array"}}, {"type": "array"}),
    ({"type": "json", "schema_ref": '{"type": "integer"}'}, {"type": "integer"}),
    ({"type": "json"}, {"type": "object"}),
    ({"type": "composite", "fields": {"move": MOVES, "speed": {
        "type": "continuous", "bounds": {"low": 0, "high": 2}}}},
     {"type": "object", "properties": {
         "move": {"type": "string", "enum": ["up", "down", "left", "right"]},
         "speed": {"type": "number", "minimum": 0, "maximum": 2}},
      "required": ["move", "speed"]}),
])
def test_the_action_schema_is_wrapped_in_one_required_action(
    space: dict[str, Any], inner: dict[str, Any]
) -> None:
    assert action_schema(space) == {"type": "object", "properties": {"action": inner},
                                    "required": ["action"]}


def test_openai_request_sends_the_schema_and_its_closing() -> None:
    request = hosted("openai/gpt-4o-mini").request(ctx_for(MAZE, {"pos": 1}))
    assert request.schema == action_schema(MOVES) and request.tool is None
    assert request.messages[0]["content"].endswith("\n\n" + JSON_CLOSING)


def test_anthropic_request_forces_the_submit_action_tool() -> None:
    request = hosted("anthropic/claude-3-5-haiku").request(ctx_for(MAZE, {"pos": 1}))
    assert request.tool is not None and request.tool.name == "submit_action"
    assert request.tool.description == (
        "Submit your chosen action for this step. Call this exactly once per turn."
    )
    assert request.schema == action_schema(MOVES)
    assert request.messages[0]["content"].endswith("\n\n" + TOOL_CLOSING)


def test_structured_answers_are_read_from_the_action_key() -> None:
    ctx = ctx_for(MAZE, {"pos": 1})
    openai = hosted("openai/gpt-4o-mini")
    assert openai.read(Completion(text='{"action": "left"}'), ctx).action == "left"
    refused = openai.read(Completion(text="left"), ctx)
    assert refused.action is None and refused.error is not None
    claude = hosted("anthropic/claude-3-5-haiku")
    read = claude.read(Completion(text="Left is open.", tool_arguments='{"action": "left"}'), ctx)
    assert (read.action, read.reasoning) == ("left", "Left is open.")
    assert claude.read(Completion(text="left"), ctx).error == (
        "call the submit_action tool with your action"
    )


# -- the free-text parser ------------------------------------------------------------

SHOP = {"type": "json"}
CAR = {"type": "continuous", "bounds": {"low": -1, "high": 1}}
PARSES = [
    (WORDLE.action_space, "  crane \n", "crane"),
    (WORDLE.action_space, "<think>c or s?</think>\nI pick crane.", "I pick crane."),
    (WORDLE.action_space, "ACTION: crane", "ACTION: crane"),
    (MOVES, "LEFT", "left"),
    (MOVES, "I go down, then left.", "down"),
    (MOVES, "I go left, not down.", "down"),  # the first enum value found, in enum order
    (MOVES, "upward!", "upward!"),  # not a whole word: the text as is
    (MOVES, "<think>up is a wall</think>right", "right"),
    (SHOP, '{"qty": 3}', {"qty": 3}),
    (SHOP, '```json\n{"qty": 3}\n```', {"qty": 3}),
    (SHOP, 'I buy three: {"qty": 3}', {"qty": 3}),
    (SHOP, 'Options [1, 2]. Final: {"qty": [3]}', {"qty": [3]}),
    (SHOP, '{"qty": 3} is my answer', '{"qty": 3} is my answer'),
    (SHOP, "no json", "no json"),
    (CAR, "0.5", 0.5),
    (CAR, "I steer 0.25 left", 0.25),
    (CAR, "between -1 and 1: 0.3", "between -1 and 1: 0.3"),
    (CAR, "straight", "straight"),
]


@pytest.mark.parametrize(("space", "text", "action"), PARSES)
def test_free_text_parser(space: dict[str, Any], text: str, action: Any) -> None:
    assert parse_free_text(text, space) == action


def test_free_text_reply_keeps_the_think_block_as_reasoning() -> None:
    read = hosted().read(Completion(text="<think>up is a wall</think>right"),
                         ctx_for(MAZE, {"pos": 1}))
    assert (read.action, read.error, read.reasoning) == ("right", None, "up is a wall")


# -- sent for real -------------------------------------------------------------------


def act(agent: LLMAgent, ctx: AgentContext) -> AgentReply:
    async def go() -> AgentReply:
        try:
            return await agent.act(ctx)
        finally:
            await agent.aclose()

    return asyncio.run(go())


def test_ollama_body_through_the_fake() -> None:
    with FakeOllama(["<think>hmm</think> I will go LEFT"]) as fake:
        agent = LLMAgent(AgentOptions(model="ollama/llama3.2", api_base=fake.url,
                                      max_tokens=64))
        reply = act(agent, ctx_for(MAZE, {"pos": 1}))
        [body] = fake.chat_bodies()
    assert reply.action == "left" and reply.reasoning == "hmm"
    assert body["think"] is False and "format" not in body
    assert body["options"] == {"temperature": 0.0, "num_predict": 512}
    assert body["messages"] == reply.messages
    assert [m["role"] for m in body["messages"]] == ["system", "user"]


def test_openai_body_through_litellm_to_the_fake() -> None:
    with FakeOllama(['{"action": "down"}']) as fake:
        agent = LLMAgent(AgentOptions(model="openai/llama3.2", api_base=f"{fake.url}/v1"))
        reply = act(agent, ctx_for(MAZE, {"pos": 1}))
        [body] = fake.chat_bodies()
    assert reply.action == "down"
    assert body["response_format"] == {
        "type": "json_schema", "json_schema": {"name": "action", "schema": action_schema(MOVES)},
    }
    assert body["messages"][0]["content"].endswith(JSON_CLOSING)
    assert body["messages"][1]["content"] == '[Step 1]\n{"pos": 1}'


def test_google_gemini_ids_are_rewritten_as_the_hosted_runner_does() -> None:
    agent = LLMAgent(AgentOptions(model="google/gemini-2.0-flash"))
    assert agent.model == "gemini/gemini-2.0-flash"
