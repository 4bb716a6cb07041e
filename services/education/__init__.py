"""Publicity and education (menu section 宣传教育): study sessions with their roll calls,
leaflets with their receipts."""
