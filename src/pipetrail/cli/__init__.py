"""The ``pipetrail`` command: thin; every verb calls the functions in ``pipetrail.actions``."""
