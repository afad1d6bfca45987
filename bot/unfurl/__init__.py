"""Link unfurls: which part of My Plan a vendor dashboard link points at."""
