"""Plan Monitoring rules: usage maths shared by every view and by alerting."""
