"""Company Information: /plan company, its Home tab, the edit modal (form) and the change notice."""
