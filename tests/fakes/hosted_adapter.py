"""A hosted-platform-style adapter written as a plain FastAPI app (no import of our SDK).

This is what an environment built on the hosted platform's SDK looks like on the wire,
so the harness is tested against the contract itself rather than against our own server.

The game: guess a number in ``[low, high]``; the seed picks the bounds and the secret.
An episode's ``scenario_params`` switch on wire quirks the client must cope with:

- ``loose``: reset answers the bare observation, booleans come as "true"/"1"/"0",
  the reward as a numeric string and the step observation as a bare value;
- ``system_prompt``: reset and step carry this episode system prompt;
- ``die_on_step``: the process exits (``os._exit``) on that step, as a crashing env would;
- ``crash_on_step``: the env raises on that step (a 500 with ``detail``);
- ``sleep``: seconds each step waits before answering.

Broken variants for the conformance checker (``broken_envs/``) call :func:`main` with
:class:`Flaws` switched on.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import time
from dataclasses import dataclass
from typing import Any

import uvicorn
from fastapi import FastAPI, HTTPException
from fastapi.responses import Response
from pydantic import BaseModel

MAX_GUESSES = 7


@dataclass
class Flaws:
    """Contract violations to switch on, one per broken env."""

    ignore_seed: bool = False  # randomness not derived from the seed
    nan_reward: bool = False  # reward NaN, written as a raw JSON NaN token
    reward_out_of_range: bool = False  # reward 5.0 where the vow says [0, 1]
    step_raises: bool = False  # every step is a 500
    wrong_shape: bool = False  # step answers {"obs", "r"} instead of the contract
    unknown_episode_ok: bool = False  # step on an unknown episode answers 200
    loose: bool = False  # every episode answers the "loose" bodies (see the module docstring)
    hidden_bounds: bool = False  # the first observation is the same for every seed


class ResetRequest(BaseModel):
    episode_id: str
    seed: int | None = None
    scenario_params: dict[str, Any] = {}


class StepRequest(BaseModel):
    episode_id: str
    action: Any = None


class EpisodeRequest(BaseModel):
    episode_id: str


class RenderRequest(BaseModel):
    episode_id: str
    mode: str = "text"


class Game:
    """One episode's hidden state."""

    def __init__(self, seed: int | None, params: dict[str, Any], flaws: Flaws) -> None:
        rng = random.Random() if flaws.ignore_seed or seed is None else random.Random(seed)
        self.low = rng.randint(0, 50)
        self.high = self.low + rng.randint(10, 50)
        self.secret = rng.randint(self.low, self.high)
        self.steps = 0
        self.params = params
        self.loose = bool(params.get("loose") or flaws.loose)

    def first_observation(self) -> dict[str, Any]:
        return {"low": self.low, "high": self.high, "guesses_left": MAX_GUESSES, "hint": None}

    def guess(self, action: Any) -> tuple[dict[str, Any], float, bool]:
        try:
            value = int(action)
        except (TypeError, ValueError):
            detail = f"action must be an integer in [{self.low}, {self.high}], got {action!r}"
            raise HTTPException(422, detail=detail) from None
        self.steps += 1
        won = value == self.secret
        hint = "correct" if won else ("higher" if value < self.secret else "lower")
        obs = {"low": self.low, "high": self.high,
               "guesses_left": MAX_GUESSES - self.steps, "hint": hint}
        return obs, 1.0 if won else 0.0, won


def _json(body: Any) -> Response:
    """Serialise with Python's json (which writes NaN) instead of Starlette's strict encoder."""
    return Response(json.dumps(body), media_type="application/json")


def build_app(flaws: Flaws | None = None) -> FastAPI:
    flaws = flaws or Flaws()
    app = FastAPI()
    games: dict[str, Game] = {}

    @app.get("/health")
    def health() -> dict[str, Any]:
        return {"status": "ok", "env": "GuessEnv", "episodes": len(games)}

    @app.post("/reset")
    def reset(req: ResetRequest) -> Response:
        game = games[req.episode_id] = Game(req.seed, req.scenario_params, flaws)
        obs = {"guesses_left": MAX_GUESSES} if flaws.hidden_bounds else game.first_observation()
        if game.loose:
            return _json(obs)
        return _json({"data": obs, "content_type": "application/json",
                      "system_prompt": req.scenario_params.get("system_prompt")})

    @app.post("/step")
    def step(req: StepRequest) -> Response:
        game = games.get(req.episode_id)
        if game is None:
            if flaws.unknown_episode_ok:
                return _json({"observation": None, "reward": 0.0, "terminated": True,
                              "truncated": False, "info": {}})
            raise HTTPException(404, detail=f"unknown episode_id {req.episode_id!r}")
        params = game.params
        if params.get("sleep"):
            time.sleep(float(params["sleep"]))
        if params.get("die_on_step") == game.steps + 1:
            os._exit(3)
        if flaws.step_raises or params.get("crash_on_step") == game.steps + 1:
            raise HTTPException(500, detail="ZeroDivisionError: division by zero")
        obs, reward, won = game.guess(req.action)
        if flaws.nan_reward:
            reward = float("nan")
        if flaws.reward_out_of_range:
            reward = 5.0
        terminated = won or game.steps >= MAX_GUESSES
        info = {"won": "1.0" if won else "0.0", "steps": game.steps}
        if flaws.wrong_shape:
            return _json({"obs": obs, "r": reward, "done": terminated})
        if game.loose:
            return _json({"observation": obs, "reward": str(reward),
                          "terminated": "1" if terminated else "false",
                          "truncated": "0", "info": info})
        return _json({"observation": {"data": obs, "content_type": "application/json"},
                      "reward": reward, "terminated": terminated, "truncated": False,
                      "info": info, "system_prompt": params.get("system_prompt")})

    @app.post("/close")
    def close(req: EpisodeRequest) -> dict[str, Any]:
        games.pop(req.episode_id, None)
        return {}

    @app.post("/render")
    def render(req: RenderRequest) -> dict[str, Any]:
        game = games.get(req.episode_id)
        if game is None:
            raise HTTPException(404, detail=f"unknown episode_id {req.episode_id!r}")
        return {"data": f"guess in [{game.low}, {game.high}], {game.steps} used",
                "content_type": "text/plain"}

    return app


def main(flaws: Flaws | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="0.0.0.0")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    uvicorn.run(build_app(flaws), host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
