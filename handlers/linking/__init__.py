"""/plan link CODE: a workspace admin links the workspace to a service account."""
