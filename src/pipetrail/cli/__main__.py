from pipetrail.cli.main import entry

entry()
