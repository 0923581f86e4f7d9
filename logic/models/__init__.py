"""The data model, one module per area. Import models from here."""

from logic.models.backends import Backend
from logic.models.events import ClusterHeartbeat
from logic.models.identity import Domain, LoginThrottle, Membership, Project, Token, User
from logic.models.images import Image, ImageFetchGrant, ImageMember
from logic.models.networks import Network
from logic.models.operators import NodeTag, ServerStateRecord, ServerSuspension
from logic.models.quotas import Commission, QuotaHolding
from logic.models.servers import Flavor, Keypair, Server, ServerAction, ServerMetadata, ServerNIC, ServerTag
from logic.models.volumes import Volume, VolumeType

__all__ = [
    "Backend",
    "Commission",
    "ClusterHeartbeat",
    "Domain",
    "Flavor",
    "Image",
    "ImageFetchGrant",
    "ImageMember",
    "Keypair",
    "LoginThrottle",
    "Membership",
    "Network",
    "NodeTag",
    "Project",
    "QuotaHolding",
    "Server",
    "ServerAction",
    "ServerMetadata",
    "ServerTag",
    "ServerStateRecord",
    "ServerSuspension",
    "ServerNIC",
    "Token",
    "User",
    "Volume",
    "VolumeType",
]
