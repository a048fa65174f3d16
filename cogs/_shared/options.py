"""Slash commands and their options, declared once each.

discord.py wants an option's shown name and its description in two decorators
(``rename`` and ``describe``), each text localised through a catalog key. Writing both by hand
names every option three times per command and lets the two drift apart. Here one
``Option`` carries the English name, the description and their catalog keys, and
``@options(param=OPTION, ...)`` applies both decorators from it.

Catalog keys: ``opt.<key>.name`` and ``opt.<key>.description``; an option that shares its
name with others but says something else (a "character" that must be one's own) gives the
name's key apart with ``name_key``. An option whose values the member picks from a list
names its ``autocomplete`` callback here too, so the rule travels with the option to every
command that uses it. ``@command(name, description, key=...)`` does the same for the command
itself (``cmd.<key>.name``, ``cmd.<key>.description``).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

import discord
from discord import app_commands
from discord.app_commands import locale_str

from cogs._shared.autocomplete import answers_while_storage_fails

__all__ = ["Autocomplete", "Autocompleted", "Option", "command", "group", "options", "subcommand"]

T = TypeVar("T")

# (interaction, what the member has typed so far) -> up to 25 suggestions.
Autocomplete = Callable[
    [discord.Interaction[Any], str], Coroutine[Any, Any, list[app_commands.Choice[str]]]
]

# What a member typed or picked in an option with suggestions (a character, a picture).
# Discord caps a suggestion's value at 100 characters, so the option takes no more either.
Autocompleted = app_commands.Range[str, 1, 100]


@dataclass(frozen=True, slots=True)
class Option:
    """One option: ``name`` as Discord shows it (lowercase, no spaces), ``description``."""

    name: str
    description: str
    key: str
    name_key: str | None = None
    autocomplete: Autocomplete | None = None

    @property
    def shown_name(self) -> locale_str:
        return locale_str(self.name, key=f"opt.{self.name_key or self.key}.name")

    @property
    def shown_description(self) -> locale_str:
        return locale_str(self.description, key=f"opt.{self.key}.description")


def options(**declared: Option) -> Callable[[T], T]:
    """Name, describe and autocomplete a command's options, keyed by its parameter names."""

    def apply(command: T) -> T:
        described = app_commands.describe(
            **{param: option.shown_description for param, option in declared.items()}
        )(command)
        suggested = {
            param: answers_while_storage_fails(option.autocomplete)
            for param, option in declared.items()
            if option.autocomplete is not None
        }
        if suggested:
            described = app_commands.autocomplete(**suggested)(described)
        return app_commands.rename(
            **{param: option.shown_name for param, option in declared.items()}
        )(described)

    return apply


def command(name: str, description: str, *, key: str) -> Callable[[Any], Any]:
    """``app_commands.command`` with its name and description localised by catalog key."""
    return app_commands.command(
        name=locale_str(name, key=f"cmd.{key}.name"),
        description=locale_str(description, key=f"cmd.{key}.description"),
    )


def subcommand(
    parent: app_commands.Group, name: str, description: str, *, key: str
) -> Callable[[Any], Any]:
    """A command of a subcommand group, localised like ``command``."""
    return parent.command(
        name=locale_str(name, key=f"cmd.{key}.name"),
        description=locale_str(description, key=f"cmd.{key}.description"),
    )


def group(name: str, description: str, *, key: str) -> app_commands.Group:
    """A subcommand group inside a ``GroupCog``, localised like ``command``."""
    return app_commands.Group(
        name=locale_str(name, key=f"cmd.{key}.name"),
        description=locale_str(description, key=f"cmd.{key}.description"),
    )
