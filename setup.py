"""Packaging: everything else is in pyproject.toml. This file only ships the repository's
``systemd/`` directory (the unit and the sysusers file) as the package data ``edge_agent/systemd/``,
so the files ``install-service`` writes have a single source."""

from setuptools import find_packages, setup

setup(
    packages=[
        *find_packages(include=["edge_agent*", "drivers*", "packet_forwarder*"]),
        "edge_agent.systemd",
    ],
    package_dir={"edge_agent.systemd": "systemd"},
    package_data={
        "edge_agent.systemd": ["edge-agent.service", "edge-agent.sysusers"],
        # the published JSON Schemas (edge_agent.schemas; the same files as docs/schemas/)
        "edge_agent.schemas": ["data/*.json"],
    },
)
