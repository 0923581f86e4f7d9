"""The node agent: renders and loads the nftables rules of a node's NICs (no Django; runs on Ganeti nodes)."""
