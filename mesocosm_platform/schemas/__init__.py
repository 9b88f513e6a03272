"""The bench platform API's request and response models, shared by client and server.

Shapes follow the hosted service (PLATFORM_API.md sections 2-8) key for key, so a
client written for it reads ours. Click-free and server-free: plain pydantic.
"""

from __future__ import annotations

from mesocosm_platform.schemas.catalogue import (
    Activity,
    ActivityItem,
    AdminStatus,
    RecentFailure,
    Technique,
)
from mesocosm_platform.schemas.devenvs import (
    DeveloperEnvironment,
    DeveloperEnvironmentCreate,
    DeveloperEnvironmentDetail,
    DomainUsage,
    EnvPoll,
    EnvUsage,
)
from mesocosm_platform.schemas.domains import (
    BindingVow,
    Domain,
    DomainCreate,
    DomainUpdate,
    Endpoint,
    ScoringConfig,
)
from mesocosm_platform.schemas.identity import (
    CsrfAnswer,
    Detail,
    ErrorDetail,
    GuestToken,
    JwtAnswer,
    LoginRequest,
    Me,
    MeContext,
    Service,
)
from mesocosm_platform.schemas.runs import (
    AgentConfig,
    Episode,
    ExportDocument,
    GalleryRun,
    LeaderboardRow,
    LeaderboardsAnswer,
    Run,
    RunConfig,
    RunCreate,
    RunListItem,
    RunsStatus,
    TestEpisodeRequest,
    TraceEvent,
    VisibilityChange,
)
from mesocosm_platform.schemas.teams import (
    JoinCode,
    Team,
    TeamCreate,
    TeamJoin,
    TeamJoined,
    TeamLeaderboardRow,
    TeamTransfer,
)

__all__ = [
    "Activity",
    "ActivityItem",
    "AdminStatus",
    "AgentConfig",
    "BindingVow",
    "CsrfAnswer",
    "Detail",
    "DeveloperEnvironment",
    "DeveloperEnvironmentCreate",
    "DeveloperEnvironmentDetail",
    "Domain",
    "DomainCreate",
    "DomainUpdate",
    "DomainUsage",
    "Endpoint",
    "EnvPoll",
    "EnvUsage",
    "Episode",
    "ErrorDetail",
    "ExportDocument",
    "GalleryRun",
    "GuestToken",
    "JoinCode",
    "JwtAnswer",
    "LeaderboardRow",
    "LeaderboardsAnswer",
    "LoginRequest",
    "Me",
    "MeContext",
    "RecentFailure",
    "Run",
    "RunConfig",
    "RunCreate",
    "RunListItem",
    "RunsStatus",
    "ScoringConfig",
    "Service",
    "Team",
    "TeamCreate",
    "TeamJoin",
    "TeamJoined",
    "TeamLeaderboardRow",
    "TeamTransfer",
    "Technique",
    "TestEpisodeRequest",
    "TraceEvent",
    "VisibilityChange",
]
