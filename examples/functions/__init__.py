"""A function platform in miniature: run a command as a role, with no key in its environment.

Registered with iamconsole as a service (`manage.py createservice fc.example`), the runner
assumes a role whose trust policy names it under `Principal.Service`, serves the role's
temporary credentials on a loopback credentials URI and keeps them fresh while the command runs.
The command finds them through the official SDKs' default credential chain.
"""
