"""The records Pipetrail keeps: pure data and validation, no I/O."""
