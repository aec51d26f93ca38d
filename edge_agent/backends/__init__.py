"""Network-server backends behind one ``Backend`` interface (``base``), chosen by ``type``
through a lazy registry (``registry``, like ``drivers.transport``).

Adding a backend type: one package under ``edge_agent/backends/`` with a ``Backend`` subclass,
and one line in ``registry._REGISTRY``.
"""
