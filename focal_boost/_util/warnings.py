"""Warnings attributed to the user's line: the first caller outside this package."""

from __future__ import annotations

import pathlib
import sys
import warnings

_PACKAGE = str(pathlib.Path(__file__).resolve().parent.parent)  # focal_boost/, not focal_boost/_util/


class RawProbabilityWarning(UserWarning):
    """A booster's own ``predict_proba`` will return the raw sigmoid or softmax of a focal margin.

    Those are not the class probabilities: focal loss pulls them towards 1/2
    and ``alpha`` shifts them. Silence it where that is understood:
    ``warnings.filterwarnings("ignore", category=RawProbabilityWarning)``.
    """


def warn(message: str, category: type[Warning] = UserWarning) -> None:
    """``warnings.warn`` with the stack level of the first frame outside ``focal_boost``."""
    level = 2  # 1 is this function, 2 its caller
    frame = sys._getframe(1)
    while frame is not None and str(pathlib.Path(frame.f_code.co_filename).resolve()).startswith(_PACKAGE):
        frame = frame.f_back
        level += 1
    warnings.warn(message, category, stacklevel=level)
