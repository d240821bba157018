"""A small object store whose every request is authenticated and authorized by iamconsole.

RPC style like Alibaba's APIs (version 2026-12-01, path `/`, the action in `x-acs-action` or
`Action`), so the official SDKs call it unchanged. Run it with `python -m examples.objectstore`.
"""
