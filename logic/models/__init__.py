"""The data model, one module per area. Import models from here."""

from logic.models.backends import Backend
from logic.models.events import ClusterHeartbeat
from logic.models.identity import Domain, LoginThrottle, Membership, Project, Token, User
from logic.models.images import Image
from logic.models.networks import Network
from logic.models.neutron import BackendNetwork, FloatingIP, IPAllocation, Port, SecurityGroup, SecurityGroupRule, Subnet
from logic.models.quotas import Commission, QuotaHolding
from logic.models.servers import Flavor, Keypair, Server, ServerAction, ServerMetadata, ServerNIC, ServerTag

__all__ = [
    "Backend",
    "BackendNetwork",
    "Commission",
    "ClusterHeartbeat",
    "Domain",
    "Flavor",
    "FloatingIP",
    "IPAllocation",
    "Image",
    "Keypair",
    "LoginThrottle",
    "Membership",
    "Network",
    "Port",
    "Project",
    "QuotaHolding",
    "SecurityGroup",
    "SecurityGroupRule",
    "Server",
    "ServerAction",
    "ServerMetadata",
    "ServerTag",
    "ServerNIC",
    "Subnet",
    "Token",
    "User",
]
