"""Tests of services.accounts."""
