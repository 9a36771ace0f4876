"""Balise: a folder of markdown statements becomes a French status site, feeds and posts."""

__version__ = "0.1.0"
