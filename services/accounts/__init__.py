"""User accounts, sign-in, passwords and backups (menu: System)."""
