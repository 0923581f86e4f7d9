"""The HTTP APIs: identity (Keystone), compute (Nova), image (Glance), network (Neutron).

Views here are thin: parse, authorize, call ``logic``, render.
"""
