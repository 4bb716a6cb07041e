"""Tests of services.sanctions."""
