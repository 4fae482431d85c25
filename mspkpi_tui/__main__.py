from mspkpi_tui.cli import main

main()
