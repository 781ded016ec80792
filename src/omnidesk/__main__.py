"""``python -m omnidesk``."""

from omnidesk.cli import main

main()
