"""End-to-end tests in Debian's Chromium, driven by Playwright (a package, so that its
conftest does not shadow tests/conftest.py)."""
