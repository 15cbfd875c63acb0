"""arena: a self-hostable, blind, pairwise model-comparison arena."""

__version__ = "0.1.0"
