"""Rate Table: /rates and /plan rates, the Home's Rate Table tab, and rate change announcements."""
