"""Tests of services.year."""
