"""omnidesk — one service platform behind every channel."""

__version__ = "0.1.0"
