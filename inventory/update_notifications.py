"""Mails caused by update events."""
