"""Anomaly mode: remember where each node was created, and name it when its backward fails."""

from __future__ import annotations

import warnings

from autograd_lab._grad_mode import _GradModeContext

_enabled = False
_check_nan = True


def is_anomaly_enabled() -> bool:
    return _enabled


def is_anomaly_check_nan_enabled() -> bool:
    return _check_nan


def _set(mode: bool, check_nan: bool) -> tuple[bool, bool]:
    global _enabled, _check_nan
    previous = (_enabled, _check_nan)
    _enabled, _check_nan = mode, check_nan
    return previous


class set_detect_anomaly(_GradModeContext):  # noqa: N801
    """Turn anomaly detection on or off now; as a context manager, restore it on exit."""

    def __init__(self, mode: bool, check_nan: bool = True) -> None:
        self.mode = mode
        self.check_nan = check_nan
        self._previous_anomaly = _set(mode, check_nan)

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc: object) -> None:
        _set(*self._previous_anomaly)

    def clone(self) -> set_detect_anomaly:
        return set_detect_anomaly(self.mode, self.check_nan)


class detect_anomaly(_GradModeContext):  # noqa: N801
    """Inside, a failing backward names the forward line that created the failing node."""

    def __init__(self, check_nan: bool = True) -> None:
        self.check_nan = check_nan
        warnings.warn("Anomaly Detection has been enabled. This mode will increase the runtime "
                      "and should only be enabled for debugging.", UserWarning, stacklevel=2)

    def __enter__(self) -> None:
        self._previous_anomaly = _set(True, self.check_nan)

    def __exit__(self, *exc: object) -> None:
        _set(*self._previous_anomaly)

    def clone(self) -> detect_anomaly:
        return detect_anomaly(self.check_nan)
