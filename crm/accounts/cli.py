"""`flask accounts ...`: accounts for a real deployment, which has no default password."""

import click
from flask.cli import AppGroup

from crm.accounts import services
from crm.accounts.models import Role
from crm.audit.services import acting_as
from crm.extensions import db

accounts_cli = AppGroup("accounts", help="管理账号。")


@accounts_cli.command("create")
@click.argument("username")
@click.option("--name", required=True, help="姓名")
@click.option(
    "--role",
    "roles",
    multiple=True,
    required=True,
    type=click.Choice([role.value for role in Role]),
    help="角色，可重复",
)
@click.password_option(help="密码（不给出时交互输入）")
def create(username: str, name: str, roles: tuple[str, ...], password: str) -> None:
    """Create an account, asking for its password."""
    with acting_as("cli:accounts"):
        try:
            services.create_account(username, name, password, [Role(r) for r in roles])
        except services.AccountError as error:
            raise click.ClickException(str(error)) from error
        db.session.commit()
    click.echo(f"已创建账号 {username}。")
