"""The bench API's routes as methods, and the member login exchange of the login server.

Paths and bodies are those of PLATFORM_API.md section 4; answers are returned as the
JSON the server sent (dicts and lists), so the CLI prints exactly what the platform said.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from mesocosm_platform.client import DEFAULT_TIMEOUT_S, HttpClient
from mesocosm_platform.errors import ApiError
from pytest_mesocosm.errors import PlatformError


def _id(value: str) -> str:
    """A path segment: ids come from users, so ``/`` or ``?`` must not change the route."""
    return quote(str(value), safe="")


class BenchApi(HttpClient):
    """bench-api at ``base_url`` (e.g. ``https://api.swecc.org/bench``)."""

    # identity
    def guest_session(self) -> dict[str, Any]:
        return self.call("POST", "/v1/auth/guest")

    def me(self) -> dict[str, Any]:
        return self.call("GET", "/v1/me")

    # teams
    def create_team(self, name: str) -> dict[str, Any]:
        return self.call("POST", "/v1/teams", json={"name": name})

    def join_team(self, code: str) -> dict[str, Any]:
        return self.call("POST", "/v1/teams/join", json={"code": code.strip().upper()})

    def list_teams(self) -> list[dict[str, Any]]:
        return self.call("GET", "/v1/teams")

    def get_team(self, team_id: str) -> dict[str, Any]:
        return self.call("GET", f"/v1/teams/{_id(team_id)}")

    def team_runs(self, team_id: str) -> list[dict[str, Any]]:
        return self.call("GET", f"/v1/teams/{_id(team_id)}/runs")

    def regenerate_join_code(self, team_id: str) -> dict[str, Any]:
        return self.call("POST", f"/v1/teams/{_id(team_id)}/join-code/regenerate")

    def remove_member(self, team_id: str, user_id: int) -> Any:
        return self.call("DELETE", f"/v1/teams/{_id(team_id)}/members/{int(user_id)}")

    def transfer_team(self, team_id: str, user_id: int) -> Any:
        return self.call("POST", f"/v1/teams/{_id(team_id)}/transfer",
                         json={"new_owner_user_id": int(user_id)})

    def leave_team(self, team_id: str) -> Any:
        return self.call("DELETE", f"/v1/teams/{_id(team_id)}/members/me")

    def delete_team(self, team_id: str) -> Any:
        return self.call("DELETE", f"/v1/teams/{_id(team_id)}")

    # developer environments
    def submit_env(self, body: dict[str, Any]) -> dict[str, Any]:
        return self.call("POST", "/v1/developer/environments", json=body)

    def list_envs(self, params: dict[str, str]) -> list[dict[str, Any]]:
        return self.call("GET", "/v1/developer/environments", params=params)

    def poll_env(self, env_id: str) -> dict[str, Any]:
        return self.call("GET", f"/v1/developer/environments/{_id(env_id)}/poll")

    def delete_env(self, env_id: str) -> Any:
        return self.call("DELETE", f"/v1/developer/environments/{_id(env_id)}")

    # domains
    def get_domain(self, domain_id: str) -> dict[str, Any]:
        return self.call("GET", f"/v1/domains/{_id(domain_id)}")

    def create_domain(self, body: dict[str, Any]) -> dict[str, Any]:
        return self.call("POST", "/v1/domains", json=body)

    def update_domain(self, domain_id: str, body: dict[str, Any]) -> dict[str, Any]:
        return self.call("PATCH", f"/v1/domains/{_id(domain_id)}", json=body)

    def domain_action(self, domain_id: str, action: str) -> dict[str, Any]:
        """``publish``, ``unpublish`` or ``archive``."""
        return self.call("POST", f"/v1/domains/{_id(domain_id)}/{action}")

    # runs
    def create_run(self, body: dict[str, Any]) -> dict[str, Any]:
        return self.call("POST", "/v1/runs", json=body)

    def get_run(self, run_id: str) -> dict[str, Any]:
        return self.call("GET", f"/v1/runs/{_id(run_id)}")

    def run_episodes(self, run_id: str) -> list[dict[str, Any]]:
        return self.call("GET", f"/v1/runs/{_id(run_id)}/episodes")

    def run_traces(self, run_id: str) -> dict[str, list[dict[str, Any]]]:
        return self.call("GET", f"/v1/runs/{_id(run_id)}/traces")

    def export_run(self, run_id: str) -> dict[str, Any]:
        return self.call("GET", f"/v1/runs/{_id(run_id)}/export")

    def cancel_run(self, run_id: str) -> dict[str, Any]:
        return self.call("POST", f"/v1/runs/{_id(run_id)}/cancel")

    def test_episode(self, body: dict[str, Any]) -> dict[str, Any]:
        return self.call("POST", "/v1/test/episode", json=body)


class LoginFailed(PlatformError):
    """The login server refused the username and password, or gave no token."""


def member_login(
    server_url: str, username: str, password: str, *, timeout: float = DEFAULT_TIMEOUT_S
) -> str:
    """The login server's cookie exchange (csrf, login, jwt); returns the member JWT.

    Refusals become :class:`LoginFailed` with the hosted CLI's wording.
    """
    with HttpClient(server_url, timeout=timeout) as http:
        try:
            csrf = http.send("GET", "/auth/csrf/").headers.get("X-CSRFToken")
            headers = {"X-CSRFToken": csrf} if csrf else {}
            http.send("POST", "/auth/login/", json={"username": username.strip(),
                                                   "password": password}, headers=headers)
            answer = http.call("GET", "/auth/jwt/")
        except ApiError as exc:
            raise LoginFailed(_login_refusal(exc), status=exc.status, detail=exc.detail) from exc
    token = answer.get("token") if isinstance(answer, dict) else None
    if not isinstance(token, str) or not token:
        raise LoginFailed(f"{http.url('/auth/jwt/')} answered without a token; is "
                          f"{server_url} a login server? Pass --server-url")
    return token


def _login_refusal(exc: ApiError) -> str:
    detail = exc.detail if isinstance(exc.detail, str) else None
    if exc.status in (400, 401):
        return "Invalid username or password"
    if exc.status == 403:
        return f"Account access denied: {detail}" if detail else "Account access denied."
    return f"Authentication failed (HTTP {exc.status}): {detail or str(exc)}"
