"""Mails caused by stock events."""
