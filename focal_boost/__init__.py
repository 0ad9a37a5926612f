"""focal_boost: focal loss as a first-class objective for gradient-boosted trees."""

__version__ = "0.1.0.dev0"
