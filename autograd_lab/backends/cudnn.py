"""torch.backends.cudnn: tutorials set ``deterministic`` and ``benchmark``; without a GPU they change nothing."""

deterministic = False
benchmark = False
enabled = True


def is_available() -> bool:
    return False
