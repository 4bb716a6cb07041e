"""Tests of services.devdata."""
