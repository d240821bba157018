"""docs/api-actions.md stays true: implemented there ⇔ registered here."""

import re
from pathlib import Path

from openapi.registry import registered

TABLE = Path(__file__).resolve().parents[2] / "docs" / "api-actions.md"


def test_action_table_matches_the_registry():
    rows = re.findall(r"^\| `(\w+)` \| ([^|]+) \|$", TABLE.read_text(), flags=re.M)
    implemented = {action for action, status in rows if status.strip() == "implemented"}
    assert implemented == {action for _, action in registered()}
    assert len(rows) == 89  # 69 RAM + 4 STS + 16 IMS (identity providers, user SSO settings)
