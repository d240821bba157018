"""The policy language and evaluator: pure Python, no Django, no I/O.

`parse_policy` validates a JSON document into frozen objects; `CompiledPolicySet` indexes the
statements of one principal and decides requests: explicit Deny > Allow > implicit deny.
"""

from policies.engine.document import ParsedPolicy, PolicyKind, Statement, parse_policy
from policies.engine.errors import PolicyError
from policies.engine.evaluator import CompiledPolicySet, Decision, Effect, SourcedStatement

__all__ = [
    "CompiledPolicySet",
    "Decision",
    "Effect",
    "ParsedPolicy",
    "PolicyError",
    "PolicyKind",
    "SourcedStatement",
    "Statement",
    "parse_policy",
]
