"""Link unfurls: a vendor dashboard link posted in a linked workspace shows its feature's status card, or
the plan summary."""
