"""The chat bot (greeting from context, article answers, hand-off with transcript and
intents, deflection report).

Not wired into the application yet: it is waiting for the intent classifier
(``omnidesk.nlu``); until then no handler or router of this package is installed.
"""
