"""One router per resource; ``app.py`` mounts them.

Every router documents the error answers it can give with the one error shape, so a
client (and the schema checks) know a 422 may carry a message as well as a list.
"""

from __future__ import annotations

from typing import Any

from mesocosm_platform.schemas import ErrorDetail

ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorDetail} for code in (400, 401, 403, 404, 409, 422, 429)
}
