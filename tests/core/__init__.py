"""Tests of services.core."""
