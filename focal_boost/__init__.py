"""focal_boost: focal loss as a first-class objective for gradient-boosted trees.

Public names:

* :class:`FocalLoss` -- the loss, its gradient and Hessian with respect to the
  raw margin, the initial score, the link and the posterior correction.
"""

from focal_boost.loss import FocalLoss

__version__ = "0.1.0.dev0"

__all__ = ["FocalLoss", "__version__"]
