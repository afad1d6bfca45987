"""Workflow Builder steps' rules: a plan's usage as a step's figures, and a call's or SMS's cost from a
step's inputs. No Slack here: `handlers/workflow/` reads the inputs and writes the outputs."""
