"""Installs the product and a console script for every process."""

from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent


def requirements(name: str) -> list[str]:
    lines = (HERE / name).read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith(("#", "-r"))]


setup(
    packages=find_packages(
        include=[
            "cyclades*",
            "api*",
            "logic*",
            "dispatcher*",
            "eventd*",
            "ganeti_hooks*",
            "vncauthproxy*",
            "ui*",
            "bus*",
            "simganeti*",
            "netagent*",
        ]
    ),
    include_package_data=True,
    package_data={
        "ui": ["templates/**/*", "static/**/*"],
        "ganeti_hooks": ["*.sh"],
        "vncauthproxy": ["web/*.html", "web/*.js", "web/package*.json", "web/node_modules/@novnc/novnc/**/*"],
    },
    install_requires=requirements("requirements.txt"),
    extras_require={"test": requirements("requirements-test.txt")},
    entry_points={
        "console_scripts": [
            "cyclades-manage = cyclades.cli:manage",
            "cyclades-dispatcher = dispatcher.main:main",
            "cyclades-eventd = eventd.main:main",
            "cyclades-ganeti-hooks-install = ganeti_hooks.install:main",
            "cyclades-vncauthproxy = vncauthproxy.main:main",
            "cyclades-allinone = cyclades.allinone:main",
            "cyclades-enc = cyclades.enc:main",
        ]
    },
)
