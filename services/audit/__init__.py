"""The append-only, hash-chained audit trail: recording events, the access check that
records refusals, and reading the trail (lists, histories, chain verification)."""
