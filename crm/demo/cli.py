"""`flask demo load`: fill an empty database with the demo."""

import time

import click
from flask import current_app
from flask.cli import AppGroup
from flask_migrate import upgrade
from sqlalchemy import func, select, text

from crm import clock
from crm.accounts.models import Account
from crm.audit.services import acting_as
from crm.demo import generator
from crm.extensions import db
from crm.review import stored_tables

demo_cli = AppGroup("demo", help="演示数据。")

LABELS = {
    "accounts": "工作人员账号",
    "instructors": "指导员",
    "organizations": "两新组织",
    "branches.two_new": "两新组织党组织",
    "branches.agency": "机关企事业单位党组织",
    "assignments": "联系指导关系",
    "handovers": "改派",
    "pairings": "结对共建",
    "visits": "走访记录",
    "problems": "问题",
    "problems.resolved": "其中已解决",
    "members": "党员",
    "meetings": "三会记录",
    "goal_cards": "书记履职目标卡",
    "vanguard_entries": "先锋储绩记录",
    "pairing_activities": "结对共建活动",
    "visits_sent_back": "退回修改的走访",
    "spot_checks": "抽查",
    "alert_notes": "预警处理记录",
    "rating_links": "年度考核评议链接",
    "ratings": "服务对象评议",
    "assessment_scores": "组织评价评分",
    "assessment_results": "已确认的考核等次",
    "assessment_appeals": "考核申诉",
}


@demo_cli.command("load")
@click.option("--reset", is_flag=True, help="先清空数据库（不可恢复）。")
@click.option("--if-empty", is_flag=True, help="数据库已有数据时跳过，不报错。")
def load(reset: bool, if_empty: bool) -> None:
    """Fill the database with the demo; refuses a database that holds data unless --reset."""
    if reset:
        _reset()
    elif _has_data():
        if if_empty:
            click.echo("数据库已有数据，跳过演示数据。")
            return
        raise click.ClickException("数据库已有数据。如要清空后重新载入，请加 --reset。")
    started = time.perf_counter()
    with acting_as("cli:demo"):
        counts = generator.load(
            current_app.config["DEMO_SEED"], current_app.config["DEMO_PASSWORD"], clock.today()
        )
        db.session.commit()
    stored_tables.store_overview_days(clock.today())  # so the first reviewer does not wait
    for key, label in LABELS.items():
        click.echo(f"  {label}：{counts[key]:,}")
    click.echo(f"演示数据已载入，用时 {time.perf_counter() - started:.1f} 秒。")


def _has_data() -> bool:
    return db.session.execute(select(func.count()).select_from(Account)).scalar_one() > 0


def _reset() -> None:
    """Drop every table and migrate again: faster than deleting, and the audit log's
    append-only guard is about rows, not the schema."""
    db.drop_all()
    with db.engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    upgrade()
