"""Intent recognition for the bot, e-mail and voice routing: :mod:`.classifier`."""
