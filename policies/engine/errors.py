class PolicyError(ValueError):
    """A policy document is malformed; `path` names the element (e.g. Statement[1].Action[0])."""

    def __init__(self, message: str, path: str = "") -> None:
        self.path = path
        self.detail = message
        super().__init__(f"{path}: {message}" if path else message)
