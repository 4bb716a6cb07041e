"""Tests of services.education."""
