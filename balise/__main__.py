"""`python -m balise`: the same program as `publish.py`."""

from balise.cli import main

main()
