#!/usr/bin/env python3
"""Balise's entry point: `python publish.py COMMAND --repo DIR` (see README)."""

from balise.cli import main

if __name__ == "__main__":
    main()
