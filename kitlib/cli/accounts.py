"""Accounts: ``user add`` and ``token create``."""

from __future__ import annotations

import sys
from typing import Any

import click

from kitlib.cli.context import database, run, settings_of


@click.group()
def user() -> None:
    """Manage user accounts."""


@user.command("add")
@click.argument("email")
@click.option("--role", type=click.Choice(["staff", "member"]), default="member", show_default=True)
@click.option("--name", default="", help="Display name.")
@click.option("--organisation", default="", help="Member organisation.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.pass_context
def user_add(ctx: click.Context, email: str, role: str, name: str, organisation: str,
             password_stdin: bool) -> None:
    """Create a user (or update the role and password of an existing one)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(password) < 8:
        raise click.UsageError("the password needs at least 8 characters")

    async def save() -> str:
        from kitlib.access.credentials import hash_password
        from kitlib.models import Role, User
        from kitlib.services.resources import audit
        from kitlib.services.validation import one_line

        address = one_line("email", email, max_length=254).lower()
        if "@" not in address:
            raise click.UsageError(f"{email!r} is not an email address")
        async with database(settings_of(ctx)):
            existing = await User.get_or_none(email=address)
            values: dict[str, Any] = {"role": Role(role),
                                      "password_hash": hash_password(password)}
            if name:
                values["name"] = name
            if organisation:
                values["organisation"] = organisation
            if existing is None:
                created = await User.create(email=address, **values)
                await audit(None, "user.create", "user", created.id, email=address, role=role)
                return f"created {role} {address}"
            await existing.update_from_dict(values).save()
            await audit(None, "user.update", "user", existing.id, email=address, role=role)
            return f"updated {role} {address}"

    click.echo(run(save()))


@click.group()
def token() -> None:
    """Manage API tokens."""


@token.command("create")
@click.argument("email")
@click.option("--name", default="", help="A label to recognise the token by.")
@click.pass_context
def token_create(ctx: click.Context, email: str, name: str) -> None:
    """Create an API token for EMAIL and print it once (it is stored hashed)."""

    async def create() -> str:
        from kitlib.access.credentials import create_token
        from kitlib.models import User

        async with database(settings_of(ctx)):
            owner = await User.get_or_none(email=email.strip().lower())
            if owner is None:
                raise click.UsageError(f"no user with the email {email!r}")
            from kitlib.services.resources import audit

            secret = await create_token(owner, name)
            # Who ran the command is the shell's business; the log says whose token it is.
            await audit(None, "token.create", "user", owner.id, name=name, prefix=secret[:10])
            return secret

    click.echo(run(create()))
