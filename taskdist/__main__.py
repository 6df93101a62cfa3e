"""`python -m taskdist`."""

from taskdist.cli import main

main()
