"""`flask accounts ...`: accounts for a real deployment, which has no default password."""

import click
from flask.cli import AppGroup

from crm.accounts import services
from crm.accounts.models import Role
from crm.audit import services as audit
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


def _account(username: str):
    account = services.find_by_username(username)
    if account is None:
        raise click.ClickException(f"没有用户名为 {username} 的账号。")
    return account


ROLE_CHOICE = click.Choice([role.value for role in Role])


@accounts_cli.command("grant")
@click.argument("username")
@click.argument("role", type=ROLE_CHOICE)
def grant(username: str, role: str) -> None:
    """Give an account a role: the only way to grant admin, security admin or auditor, so that
    none of the three can make themselves another (三权分立). Audited."""
    with acting_as("cli:accounts"):
        account = _account(username)
        try:
            services.set_roles(account, {*account.roles, Role(role)}, account.scope_district_id)
        except services.AccountError as error:
            raise click.ClickException(str(error)) from error
        db.session.commit()
    click.echo(f"已授予 {username} {Role(role).label}角色。")


@accounts_cli.command("revoke")
@click.argument("username")
@click.argument("role", type=ROLE_CHOICE)
def revoke(username: str, role: str) -> None:
    """Take a role from an account; audited."""
    with acting_as("cli:accounts"):
        account = _account(username)
        if Role(role) not in account.roles:
            raise click.ClickException(f"{username} 没有{Role(role).label}角色。")
        try:
            services.set_roles(account, account.roles - {Role(role)}, account.scope_district_id)
        except services.AccountError as error:
            raise click.ClickException(str(error)) from error
        db.session.commit()
    click.echo(f"已收回 {username} 的{Role(role).label}角色。")


@accounts_cli.command("set-password")
@click.argument("username")
@click.password_option(help="临时密码（不给出时交互输入）")
def set_password(username: str, password: str) -> None:
    """Set a temporary password (any account, a privileged one included): its owner chooses
    their own at the next sign-in. Audited."""
    with acting_as("cli:accounts"):
        account = _account(username)
        try:
            services.set_password(account, password, temporary=True)
        except services.AccountError as error:
            raise click.ClickException(str(error)) from error
        audit.record(
            "account.password_set",
            object_type="account",
            object_id=account.id,
            summary=f"命令行为 {account} 设置临时密码",
        )
        db.session.commit()
    click.echo(f"已为 {username} 设置临时密码：下次登录时须修改。")


@accounts_cli.command("reset-second-factor")
@click.argument("username")
def reset_second_factor(username: str) -> None:
    """A lost phone: the account enrols its second factor again at its next sign-in. Audited."""
    with acting_as("cli:accounts"):
        account = _account(username)
        services.reset_second_factor(account)
        audit.record(
            "account.second_factor",
            object_type="account",
            object_id=account.id,
            summary=f"命令行重置 {account} 的动态口令",
        )
        db.session.commit()
    click.echo(f"已重置 {username} 的动态口令。")


@accounts_cli.command("seal-secrets")
def seal_secrets() -> None:
    """Encrypt the second-factor secrets stored before they were sealed (each is sealed at its
    next use anyway). Audited."""
    with acting_as("cli:accounts"):
        count = services.seal_secrets()
        db.session.commit()
    click.echo(f"已加密 {count} 个动态口令密钥。")
