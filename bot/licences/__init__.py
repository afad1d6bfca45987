"""Licence hygiene: unassigned licences, licences held by inactive staff, and what they cost a month."""
