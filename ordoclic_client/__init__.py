"""A typed client of Ordoclic's integrator API. No Django imports: it could be published alone.

from ordoclic_client import OrdoclicClient, PartnerCredentials, build_http_client

client = OrdoclicClient(
    http=build_http_client(base_url="http://127.0.0.1:8765"),
    credentials=PartnerCredentials.from_key_file(partner_id=..., private_key_path=...),
)
match client.drug_search(rpps="10100001238", text="doliprane"):
    case Ok(page): ...
"""

from ordoclic_client.auth import PartnerCredentials, TokenCache
from ordoclic_client.breaker import Breaker, BreakerSnapshot, BreakerState, RedisBreaker
from ordoclic_client.client import USER_AGENT, OrdoclicClient, __version__, build_http_client
from ordoclic_client.models import AuthIdentity, AuthResponse, Entity, Professional
from ordoclic_client.results import FieldError, Ok, Rejected, Result, Unavailable

__all__ = [
    "USER_AGENT",
    "AuthIdentity",
    "AuthResponse",
    "Breaker",
    "BreakerSnapshot",
    "BreakerState",
    "Entity",
    "FieldError",
    "Ok",
    "OrdoclicClient",
    "PartnerCredentials",
    "Professional",
    "RedisBreaker",
    "Rejected",
    "Result",
    "TokenCache",
    "Unavailable",
    "__version__",
    "build_http_client",
]
