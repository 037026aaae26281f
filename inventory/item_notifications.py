"""Mails caused by item events."""
