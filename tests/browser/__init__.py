"""Playwright journeys in the system Chromium against a real server."""
