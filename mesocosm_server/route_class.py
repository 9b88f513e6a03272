"""Routes that give their database connection back before the answer is serialized.

FastAPI ends a ``yield`` dependency's scope only after the response is validated and
serialized, and for a plain ``def`` route that validation takes another thread-pool
hop. A request's connection would then be held while it waits for a thread, so under
many concurrent requests the threads all wait for connections held by requests that
wait for threads, until the pool's timeout. Committing on the route's own thread, as
soon as it returns, releases the connection first; the dependency's exit then has
nothing left to do. A route that raises is rolled back by the dependency, as before.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from fastapi.routing import APIRoute
from sqlalchemy.orm import Session


def _commits_on_return(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(endpoint)
    def run(*args: Any, **kwargs: Any) -> Any:
        result = endpoint(*args, **kwargs)
        for value in kwargs.values():
            if isinstance(value, Session) and value.in_transaction():
                value.commit()
        return result

    return run


class SessionRoute(APIRoute):
    """An ``APIRoute`` whose plain ``def`` endpoints commit their session on return."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        if not inspect.iscoroutinefunction(endpoint):
            endpoint = _commits_on_return(endpoint)
        super().__init__(path, endpoint, **kwargs)
