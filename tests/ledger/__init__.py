"""Tests of services.ledger."""
