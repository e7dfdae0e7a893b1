"""Command-line tools: `flask --app wsgi create-user | create-api-key | import-flow | reset-link | bootstrap-demo |
unlock-logins`.

Commands that produce something a script needs (a key, a flow id) print it alone on the last
line, so `… | tail -1` captures it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from app.auth import find_workspace_by_name
from app.extensions import db
from app.models import ALL_SCOPES, Role
from app.services.versions import publishing
from app.services.workspaces.accounts import create_or_update_user
from app.services.workspaces.api_keys import KeyRequestError, checked_key_settings, create_api_key
from app.services.workspaces.passwords import MIN_PASSWORD_LENGTH, new_password_problem
from app.services.versions.presenters import trigger_dict

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")


def _workspace_or_fail(name: str):
    workspace = find_workspace_by_name(name)
    if workspace is None:
        raise click.ClickException(f"No workspace named {name!r}. Create it with create-user --workspace.")
    return workspace


@click.command("create-user")
@click.argument("email")
@click.option("--password", required=True, help=f"at least {MIN_PASSWORD_LENGTH} characters")
@click.option("--workspace", "workspace_name", required=True, help="created if it does not exist")
@click.option("--role", type=click.Choice([r.value for r in Role]), default="owner", show_default=True)
@with_appcontext
def create_user(email: str, password: str, workspace_name: str, role: str):
    """Create a user (or reset their password) as a member of WORKSPACE."""
    if not EMAIL.match(email):
        raise click.BadParameter(f"{email!r} is not an email address", param_hint="EMAIL")
    problem = new_password_problem(password, password)
    if problem:
        raise click.BadParameter(problem, param_hint="--password")
    if not workspace_name.strip():
        raise click.BadParameter("must not be empty", param_hint="--workspace")
    user, created = create_or_update_user(email, password, workspace_name.strip(), Role(role))
    db.session.commit()
    click.echo(f"{'Created' if created else 'Updated'} user {user.email}, {role} of workspace {workspace_name!r}.")


@click.command("create-api-key")
@click.option("--workspace", "workspace_name", required=True)
@click.option("--name", "label", required=True, help="a label to recognise the key by")
@click.option("--scope", "scopes", multiple=True, type=click.Choice(ALL_SCOPES),
              help="what the key may do (repeatable); default: every scope")
@click.option("--flow", "flow_ids", multiple=True, help="limit the key to this flow id (repeatable)")
@with_appcontext
def create_key(workspace_name: str, label: str, scopes: tuple[str, ...], flow_ids: tuple[str, ...]):
    """Create a workspace API key and print it (alone on the last line); it is shown only once."""
    workspace = _workspace_or_fail(workspace_name)
    try:
        name, scope_list, flows = checked_key_settings(workspace, label, list(scopes) or None,
                                                       list(flow_ids) or None)
    except KeyRequestError as exc:
        raise click.ClickException(str(exc)) from None
    _, token = create_api_key(workspace, name, scope_list, flows)
    db.session.commit()
    limits = f"scopes: {', '.join(scope_list)}" + (f"; flows: {', '.join(flows)}" if flows else "; every flow")
    click.echo(f"API key {label!r} for workspace {workspace.name!r} ({limits}).")
    click.echo("Shown only now, store it safely:")
    click.echo(token)


@click.command("import-flow")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--workspace", "workspace_name", required=True)
@with_appcontext
def import_flow(file: Path, workspace_name: str):
    """Import and publish a flow document; print its trigger URLs and secrets, then its id."""
    workspace = _workspace_or_fail(workspace_name)
    try:
        document = json.loads(file.read_text())
    except (ValueError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"{file} is not valid JSON: {exc}") from None
    try:
        result = publishing.create_flow(workspace, document, None)
    except publishing.InvalidFlow as exc:
        lines = [f"  {p.get('node_id') or '-'}: {p['message']}" for p in exc.problems]
        raise click.ClickException("the flow was not imported:\n" + "\n".join(lines)) from None
    db.session.commit()
    echo_triggers(result)
    click.echo(result.flow.id)


@click.command("reset-link")
@click.argument("email")
@with_appcontext
def reset_link(email: str):
    """Print a single-use link that sets a new password for EMAIL (alone on the last line)."""
    from app.models import User
    from app.services.workspaces.password_resets import make_link
    from app.urls import public_url

    user = db.session.execute(db.select(User).where(User.email == email.strip().lower())).scalar_one_or_none()
    if user is None:
        raise click.ClickException(f"No account has the email {email!r}.")
    reset, token = make_link(user, None)
    db.session.commit()
    click.echo(f"Password reset link for {user.email}; it works once, until {reset.expires_at:%Y-%m-%d %H:%M} UTC:")
    click.echo(public_url("join.reset", token=token))


@click.command("bootstrap-demo")
@with_appcontext
def bootstrap_demo_command():
    """Create the demo workspace, user and example flows if missing, and say how to log in."""
    from app.demo import bootstrap_demo

    for line in bootstrap_demo(current_app._get_current_object()):
        click.echo(line)


@click.command("unlock-logins")
@click.argument("email", required=False)
@with_appcontext
def unlock_logins(email: str | None):
    """End the login lockout of EMAIL (or, without it, of every account and address)."""
    from app.services.workspaces import login_throttle

    if email:
        found = login_throttle.unlock(email)
        click.echo(f"Logging in to {email.strip().lower()} is " + ("unlocked." if found else "not locked; nothing to do."))
    else:
        click.echo(f"Every login lockout and failure count is cleared ({login_throttle.clear_all()} entries).")


COMMANDS = (create_user, create_key, import_flow, reset_link, bootstrap_demo_command, unlock_logins)


def register_cli(app: Flask) -> None:
    """Add the commands to `flask --app wsgi …`."""
    for command in COMMANDS:
        app.cli.add_command(command)


def echo_triggers(result: publishing.PublishResult) -> None:
    click.echo(f"Published flow {result.flow.name!r} version {result.version.number}.")
    for trigger in result.flow.triggers:
        info = trigger_dict(trigger)
        if info["url"]:
            click.echo(f"  trigger {info['node_id']} ({info['type']}): {info['url']}")
        secret = result.secrets.get(trigger.node_id)
        if secret:
            click.echo(f"    secret (shown only now): {secret}")
