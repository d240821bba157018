"""Fixtures (support.py holds the helpers): a stand-in iamconsole on 127.0.0.1, a port that
never answers, a port that refuses."""

from support import closed_port, iam, silent_port

__all__ = ["closed_port", "iam", "silent_port"]
