from pipetrail.cli.main import main

main()
