"""What every capability's rules share: the errors they raise for a person to read."""
