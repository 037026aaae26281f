from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.scopes import SCOPES
from accounts.services import api_token_create


class Command(BaseCommand):
    help = "Create an API token; the key is printed once, alone on the last line."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True, help="who uses it, e.g. admin-arge")
        parser.add_argument(
            "--scopes",
            required=True,
            help=f"comma list of: all, {', '.join(SCOPES)}",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            issued = api_token_create(name=options["name"], scopes=options["scopes"])
        except ValidationError as error:
            messages = "; ".join(f"{k}: {' '.join(v)}" for k, v in error.message_dict.items())
            raise CommandError(messages) from None
        self.stdout.write(
            f"Token {issued.token.name!r} with scopes {', '.join(issued.token.scopes)}. "
            "Store the key now; it is not shown again:"
        )
        self.stdout.write(issued.key)
