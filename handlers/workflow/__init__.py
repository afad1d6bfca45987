"""Workflow Builder custom steps: plan usage, rate lookup, cost estimate and upgrade request."""
