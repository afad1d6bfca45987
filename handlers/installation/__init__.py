"""Installs and uninstalls: the installer's welcome, and forgetting a workspace's installation."""
