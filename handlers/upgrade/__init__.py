"""Upgrade and add-on requests: the modal (entry, form, views) and their way to Sales (sales)."""
