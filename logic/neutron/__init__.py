"""Neutron rules: networks, subnets, IP allocation, ports, security groups and floating IPs.

Views in :mod:`api.network` parse and render; everything that decides lives here.
"""
