"""Command-line tasks: reference data, demo data, first admin, key rotation."""
import secrets
import string
from datetime import timedelta
from pathlib import Path

import click
from flask import current_app, url_for

from .core.clock import utcnow
from .core.context import Actor
from .extensions import db


def register(app):
    group = click.Group("lms", help="Platform tasks.")
    for command in (seed_reference, seed_demo, publish_demo, create_admin, rotate_keys, worker):
        group.add_command(command)
    from .hours.cli import register as register_hours
    register_hours(group)
    app.cli.add_command(group)


@click.command("seed-reference")
def seed_reference():
    """Load regions, qualification types and hours rules (missing rows only)."""
    from .catalogue.seed import seed_reference_data
    seed_reference_data()
    click.echo("reference data ready")


@click.command("create-admin")
@click.argument("username")
def create_admin(username):
    """Create a platform admin and print a one-time activation link (on LMS_PUBLIC_URL)."""
    from .accounts.services import create_account
    from .core.errors import RuleViolation
    from .core.roles import ADMIN
    try:
        _, raw = create_account(ADMIN, username, username, utcnow(), Actor(None, "cli"),
                                token_lifetime=timedelta(hours=current_app.config["LMS_TOKEN_LIFETIME_HOURS"]))
    except RuleViolation as refusal:  # username_taken | username_like_document
        raise click.ClickException(f"username refused: {refusal.code}") from None
    click.echo(f"activation link: {_public_link('accounts.open_link')}#{raw}")


def _public_link(endpoint: str) -> str:
    """A page's full address at the platform's public URL (LMS_PUBLIC_URL): a command has no request
    whose host it could use. One-time links carry the token in the fragment, never sent to the server."""
    with current_app.test_request_context(base_url=current_app.config["LMS_PUBLIC_URL"]):
        return url_for(endpoint, _external=True)


def _demo_password() -> str:
    alphabet = string.ascii_letters + string.digits
    while True:
        core = "".join(secrets.choice(alphabet) for _ in range(10))
        if any(c.isupper() for c in core) and any(c.islower() for c in core) and any(c.isdigit() for c in core):
            return core + "#"


@click.command("publish-demo")
def publish_demo():
    """Publish demo courses whose videos the worker has transcoded."""
    from .demo import publish_demo_courses
    publish_demo_courses(utcnow())


@click.command("seed-demo")
def seed_demo():
    """Create demo accounts with fresh random passwords, print them once and keep them in instance/."""
    from .demo import build_demo
    logins_file = Path(current_app.instance_path) / "demo-logins.txt"
    if logins_file.exists():
        click.echo(logins_file.read_text(encoding="utf-8"))
        return
    logins = build_demo(_demo_password, utcnow())
    lines = ["Demo logins (random passwords made for this installation):"]
    lines += [f"  {role:<10} {login:<22} {password}" for role, login, password in logins]
    text = "\n".join(lines) + "\n"
    logins_file.parent.mkdir(parents=True, exist_ok=True)
    logins_file.write_text(text, encoding="utf-8")
    logins_file.chmod(0o600)
    click.echo(text)


@click.command("rotate-keys")
@click.option("--batch-size", default=500, show_default=True, help="Rows read and committed at a time.")
def rotate_keys(batch_size):
    """Re-encrypt every encrypted column and media file with the active key (see core/rotation.py)."""
    from .core.crypto import cipher
    from .core.rotation import rotate_everything
    from .files.storage import media_root
    report = rotate_everything(db.session, cipher(), db.Model.registry, media_root() / "uploads", batch_size)
    click.echo(f"re-encrypted {report.values} values and {report.files} files with key {cipher().active_kid}")
    if report.unreadable_files:
        click.echo(f"warning: {report.unreadable_files} files under uploads/ are not sealed", err=True)


@click.command("worker")
@click.option("--once", is_flag=True, help="Process the jobs waiting now, then stop.")
def worker(once):
    """Run background jobs (video transcoding, face-check housekeeping) until stopped."""
    import logging

    from .player import jobs
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if once:
        _housekeeping(utcnow())
        while jobs.run_once():
            pass
        return
    jobs.run_forever(housekeeping=_housekeeping)


def _housekeeping(now):
    """Unanswered face checks become missed (voiding their time, ending their test attempt); test
    attempts left open past their deadline end; frames past retention are deleted."""
    from .proctor import services as proctor
    from .quiz import attempts
    proctor.sweep_overdue(now)
    attempts.sweep_expired(now)
    proctor.purge_old_frames(now, int(current_app.config["LMS_FACE_EVIDENCE_DAYS"]))
