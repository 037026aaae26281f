"""Mails caused by delivery events."""
