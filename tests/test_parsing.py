"""Action parsing against a corpus of replies the way real models write them.

Each row: (id, action space, reply, expected action or ``Err("substring")``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from pytest_mesocosm.agents.parsing import parse_action

TEXT = {"type": "text", "description": "A 5-letter lowercase word."}
MOVES = {"type": "discrete", "enum_values": ["up", "down", "left", "right"]}
TURNS = {"type": "discrete", "enum_values": ["left", "turn left", "up", "up-left"]}
CARDS = {"type": "discrete", "enum_values": ["HIT", "STAND", "DOUBLE"]}
THROTTLE = {"type": "continuous", "bounds": {"low": -1.0, "high": 1.0}}
STEER = {"type": "continuous", "bounds": {"low": 0, "high": 10, "shape": [2]}}
GRID = {"type": "continuous", "bounds": {"low": 0, "high": 9, "shape": [2, 2]}}
ORDER = {
    "type": "json",
    "schema": {
        "type": "object",
        "properties": {
            "side": {"enum": ["buy", "sell"]},
            "qty": {"type": "integer", "minimum": 1},
            "legs": {"type": "array", "items": {"type": "object"}},
        },
        "required": ["side", "qty"],
    },
}
ANY_JSON = {"type": "json"}
WORD_JSON = {"type": "json", "schema": {"type": "string"}}


@dataclass
class Err:
    """Expected: no action, and an error containing ``text``."""

    text: str


CORPUS: list[tuple[str, dict[str, Any], str, Any]] = [
    # -- text --------------------------------------------------------------------
    ("bare word", TEXT, "crane", "crane"),
    ("action line", TEXT, "Let me start with common letters.\nACTION: crane", "crane"),
    ("lowercase marker", TEXT, "action: slate", "slate"),
    ("bold marker", TEXT, "I'll try vowels.\n\n**Action:** adieu", "adieu"),
    ("bold whole line", TEXT, "**ACTION: AUDIO**", "AUDIO"),
    ("marker, trailing period", TEXT, "My guess.\nAction: crane.", "crane"),
    ("quoted", TEXT, 'ACTION: "crane"', "crane"),
    ("backticks", TEXT, "Action: `stare`", "stare"),
    ("copied template brackets", TEXT, "ACTION: <crane>", "crane"),
    ("fenced", TEXT, "```\ncrane\n```", "crane"),
    ("last of several markers", TEXT,
     "ACTION: crane\nWait, C was grey last time.\nACTION: slate", "slate"),
    ("marker on its own line", TEXT, "ACTION:\n\n  trace  \n", "trace"),
    ("chatty no marker", TEXT, "Good start! Green E means...\n\nraise", "raise"),
    ("think block", TEXT,
     "<think>\nE is green in position 5, try ending in E.\n</think>\nACTION: crane", "crane"),
    ("stray closing think", TEXT,
     "Okay the feedback says...\n</think>\n\nACTION: slate", "slate"),
    ("final action", TEXT, "Thinking done.\nFinal Action: moist", "moist"),
    ("bullet marker", TEXT, "- Reasoning: vowels\n- Action: adieu", "adieu"),
    ("empty", TEXT, "", Err("empty reply")),
    ("whitespace only", TEXT, "  \n\t ", Err("empty reply")),
    ("unclosed think", TEXT, "<think>Let me consider the letters R, A, I", Err("<think>")),
    ("only reasoning", TEXT, "<think>hmm</think>\n   ", Err("no action")),
    ("empty marker", TEXT, "ACTION:", Err("ACTION: line is empty")),
    ("structured text", TEXT, '{"action": "crane"}', "crane"),
    # -- discrete -----------------------------------------------------------------
    ("exact", MOVES, "left", "left"),
    ("wrong case", MOVES, "LEFT", "left"),
    ("marker wrong case", MOVES, "ACTION: Right", "right"),
    ("bold marker period", MOVES, "**Action:** Down.", "down"),
    ("prose mention", MOVES, "The wall is above me, so I should move down.", "down"),
    ("last mention wins", MOVES, "Up is blocked and left is a dead end, so right it is.",
     "right"),
    ("exact line beats later mention", MOVES,
     "up\n\nI picked it because down leads to the trap.", "up"),
    ("not inside a word", MOVES, "I will go upward... no: downstairs is wrong; left", "left"),
    ("longest at same place", TURNS, "I'll turn left", "turn left"),
    ("hyphenated value", TURNS, "Best is up-left.", "up-left"),
    ("marker then prose", MOVES, "ACTION: move right", "right"),
    ("quoted value", CARDS, "I'd say 'stand'.", "STAND"),
    ("enum spelled as declared", CARDS, "action: double", "DOUBLE"),
    ("fenced json", MOVES, '```json\n{"action": "left"}\n```', "left"),
    ("structured", CARDS, '{"action": "HIT"}', "HIT"),
    ("think with mentions", MOVES,
     "<think>left? up? maybe down</think>\nACTION: right", "right"),
    ("not allowed", MOVES, "ACTION: jump", Err("'jump' is not an allowed action")),
    ("none mentioned", MOVES, "I am not sure what to do here.\nLet me think more.",
     Err("answer one of: up, down, left, right")),
    # -- continuous ---------------------------------------------------------------
    ("number", THROTTLE, "0.25", 0.25),
    ("marker number", THROTTLE, "Accelerate gently.\nACTION: 0.4", 0.4),
    ("negative", THROTTLE, "Brake: ACTION: -0.75", -0.75),
    ("with units", THROTTLE, "I'll set the throttle to 0.5 m/s", 0.5),
    ("trailing period", THROTTLE, "Bounds are -1 to 1 so I pick .3.", 0.3),
    ("structured number", THROTTLE, '{"action": -0.1}', -0.1),
    ("out of bounds", THROTTLE, "ACTION: 1.5", Err("1.5 is outside the bounds [-1, 1]")),
    ("no number", THROTTLE, "full speed ahead!", Err("expected a number, found no number")),
    ("vector json", STEER, "ACTION: [3, 7.5]", [3.0, 7.5]),
    ("vector last two", STEER, "Angle 12 is too much; use 4 and 6", [4.0, 6.0]),
    ("vector too short", STEER, "ACTION: 5", Err("expected 2 numbers")),
    ("matrix", GRID, "ACTION: [[1, 2], [3, 4]]", [[1.0, 2.0], [3.0, 4.0]]),
    ("nan", THROTTLE, "ACTION: NaN", Err("no number")),
    # -- json ---------------------------------------------------------------------
    ("bare object", ORDER, '{"side": "buy", "qty": 3}', {"side": "buy", "qty": 3}),
    ("prose around", ORDER,
     'The price dipped, so I buy.\n{"side": "buy", "qty": 2}\nThat keeps risk low.',
     {"side": "buy", "qty": 2}),
    ("fenced", ORDER, 'Here is my order:\n```json\n{"side": "sell", "qty": 1}\n```',
     {"side": "sell", "qty": 1}),
    ("nested", ORDER, 'ACTION: {"side": "buy", "qty": 1, "legs": [{"p": "{x}"}]}',
     {"side": "buy", "qty": 1, "legs": [{"p": "{x}"}]}),
    ("last of two", ORDER,
     'First idea {"side": "buy", "qty": 9} but no:\n{"side": "sell", "qty": 4}',
     {"side": "sell", "qty": 4}),
    ("broken last, earlier ok", ORDER,
     '{"side": "buy", "qty": 1} ... or maybe {side: sell}', {"side": "buy", "qty": 1}),
    ("wrapped in action", ORDER, '{"action": {"side": "buy", "qty": 5}}',
     {"side": "buy", "qty": 5}),
    ("multi-line after marker", ORDER, 'ACTION: {\n  "side": "sell",\n  "qty": 2\n}',
     {"side": "sell", "qty": 2}),
    ("schema violation", ORDER, '{"side": "hold", "qty": 1}',
     Err("does not match the schema at side: 'hold' is not one of ['buy', 'sell']")),
    ("missing field", ORDER, '{"side": "buy"}', Err("'qty' is a required property")),
    ("not json", ORDER, "I would buy three shares.", Err("no JSON object or array")),
    ("does not parse", ORDER, "{'side': 'buy', 'qty': 1}", Err("does not parse")),
    ("array no schema", ANY_JSON, "Moves: [1, 2, 3]", [1, 2, 3]),
    ("scalar by schema", WORD_JSON, 'ACTION: "crane"', "crane"),
]


@pytest.mark.parametrize(
    ("space", "reply", "expected"),
    [pytest.param(space, reply, expected, id=name) for name, space, reply, expected in CORPUS],
)
def test_corpus(space: dict[str, Any], reply: str, expected: Any) -> None:
    parsed = parse_action(reply, space)
    if isinstance(expected, Err):
        assert parsed.action is None
        assert parsed.error is not None and expected.text in parsed.error, parsed.error
    else:
        assert parsed.error is None, parsed.error
        assert parsed.action == expected


def test_corpus_is_large_and_ids_unique() -> None:
    assert len(CORPUS) >= 40
    ids = [(row[0], row[1]["type"]) for row in CORPUS]
    assert len(set(ids)) == len(ids)


def test_reasoning_is_kept_from_think_and_prose() -> None:
    parsed = parse_action("<think>E is green.</think>\nTry a word ending in E.\nACTION: slate",
                          TEXT)
    assert parsed.action == "slate"
    assert parsed.reasoning == "E is green.\n\nTry a word ending in E."


def test_no_reasoning_for_a_bare_answer() -> None:
    assert parse_action("crane", TEXT).reasoning is None
