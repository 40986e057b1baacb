"""Shared by every test: nothing outside 127.0.0.1 (see tests/loopback_only)."""

from tests.loopback_only.sitecustomize import install

install()
