"""Sample data for demonstrations and trials: ``omnidesk demo``."""

from omnidesk.demo.seed import DemoLogins, DemoRefused, seed

__all__ = ["DemoLogins", "DemoRefused", "seed"]
