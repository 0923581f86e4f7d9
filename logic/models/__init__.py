"""The data model, one module per area. Import models from here."""

from logic.models.backends import Backend
from logic.models.compute import Aggregate, ComputeNode, ServerGroup, ServerGroupMember
from logic.models.events import ClusterHeartbeat
from logic.models.identity import Domain, LoginThrottle, Membership, Project, Token, User
from logic.models.images import Image, ImageFetchGrant, ImageMember
from logic.models.networks import Network
from logic.models.neutron import BackendNetwork, FloatingIP, IPAllocation, Port, SecurityGroup, SecurityGroupRule, Subnet
from logic.models.operators import NodeTag, ServerStateRecord, ServerSuspension
from logic.models.quotas import Commission, QuotaHolding
from logic.models.servers import Flavor, Keypair, Server, ServerAction, ServerMetadata, ServerNIC, ServerTag
from logic.models.volumes import Volume, VolumeSnapshot, VolumeType

__all__ = [
    "Aggregate",
    "Backend",
    "BackendNetwork",
    "Commission",
    "ComputeNode",
    "ClusterHeartbeat",
    "Domain",
    "Flavor",
    "FloatingIP",
    "IPAllocation",
    "Image",
    "ImageFetchGrant",
    "ImageMember",
    "Keypair",
    "LoginThrottle",
    "Membership",
    "Network",
    "NodeTag",
    "Port",
    "Project",
    "QuotaHolding",
    "SecurityGroup",
    "SecurityGroupRule",
    "Server",
    "ServerAction",
    "ServerGroup",
    "ServerGroupMember",
    "ServerMetadata",
    "ServerTag",
    "ServerStateRecord",
    "ServerSuspension",
    "ServerNIC",
    "Subnet",
    "Token",
    "User",
    "Volume",
    "VolumeSnapshot",
    "VolumeType",
]
