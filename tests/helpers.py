"""Small shared helpers for engine tests (the tiny G is made in bench/synthetic.py, which bench shares)."""
from synthetic import tiny_generator  # noqa: F401
