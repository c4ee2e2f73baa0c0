"""Shared by the gate-node link tests: a node's lines and a link brought into sync."""

from __future__ import annotations

from gatectl.sources.nodes.link import NodeLink
from gatectl.sources.nodes.protocol import Hello, NodeEdge, TimeReply, encode

MS = 1_000_000
NODE = "E6614104035B2A2B"
BOOT = 0x0A1B2C3D


def hello(boot: int = BOOT, node: str = NODE, protocol: int = 1, channels: int = 2) -> bytes:
    return encode(Hello(protocol, node, boot, channels, 512, "0.1.0"))


def edge(seq: int, t_us: int, channel: int = 0, broken: bool = True, boot: int = BOOT) -> bytes:
    return encode(NodeEdge(boot, seq, channel, broken, t_us))


def synced(link: NodeLink, now: int = 0, boot: int = BOOT) -> int:
    """Eight exchanges with a node whose clock reads host µs + 1 s (0.1 ms each way); the host time after them."""
    link.receive(hello(boot), now)
    while link.sync.exchanges < link.settings.min_samples:
        for line in link.due(now):
            if line.startswith(b"SYNC"):
                request = int(line.split(b"*")[0].split()[1])
                link.receive(encode(TimeReply(boot, request, now // 1000 + 1_000_100, now // 1000 + 1_000_100)), now + 200_000)
        now += 100 * MS
    return now


def sent(link: NodeLink, now: int) -> list[str]:
    return [parse_kind(line) for line in link.due(now)]


def parse_kind(line: bytes) -> str:
    return line.split(b"*")[0].decode()
