"""`flask reminders preview` and `flask reminders send`."""

from datetime import date

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from crm import clock
from crm.accounts.models import Account
from crm.core.commands import BadInputError, parse_day
from crm.extensions import db
from crm.reminders import channels, digests, outbox, schedule

reminders_cli = AppGroup("reminders", help="提醒：指导员晨间提醒、督导员每周提醒。")


def _day_and_user(day_text: str | None, username: str | None) -> tuple[date, list[int] | None]:
    day = parse_day(day_text) if day_text else clock.today()
    if username is None:
        return day, None
    account_id = db.session.scalar(select(Account.id).where(Account.username == username))
    if account_id is None:
        raise BadInputError(f"没有用户名为“{username}”的账号。")
    return day, [account_id]


@reminders_cli.command("preview")
@click.option("--date", "day_text", help="哪一天，YYYY-MM-DD（默认今天）。")
@click.option("--user", "username", help="只看这个账号（用户名）的提醒。")
def preview(day_text: str | None, username: str | None) -> None:
    """Print what would be sent that day, and to whom, without sending anything."""
    day, account_ids = _day_and_user(day_text, username)
    names = {}
    count = 0
    for when, digest in schedule.due_on(day, account_ids):
        if digest.account_id not in names:
            names[digest.account_id] = db.session.get(Account, digest.account_id)
        account = names[digest.account_id]
        click.echo(f"=== {when:%H:%M} 发给 {account.name}（{account.username}）===")
        click.echo(digests.as_text(digest))
        click.echo("")
        count += 1
    for note in schedule.notes(day):
        click.echo(note)
    click.echo(f"{day:%Y-%m-%d} 共 {count} 条提醒（预览，未发送）。")


@reminders_cli.command("send")
@click.option("--date", "day_text", help="哪一天的提醒，YYYY-MM-DD（默认今天）。")
def send(day_text: str | None) -> None:
    """What the scheduler runs: queue the day's digests in the outbox (once, however many
    times it runs), then send what is due by the channels configured."""
    day, _ = _day_and_user(day_text, None)
    queued = outbox.queue(day)
    senders = channels.configured(current_app.config)
    if not senders:
        click.echo(
            f"已记入发件箱 {queued} 条；未配置任何发送渠道（企业微信、短信、邮件），暂不发送。"
        )
        return
    done = outbox.deliver(senders)
    click.echo(
        f"已记入发件箱 {queued} 条；发出 {done['sent']} 条，稍后重试 "
        f"{done['retried'] + done['paused']} 条，放弃 {done['given_up']} 条。"
    )
