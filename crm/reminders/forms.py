from wtforms import BooleanField, SelectMultipleField

from crm.core.forms import Form, NumberField, checkbox_list, optional_text, options
from crm.reminders.models import Channel


def _channels(label: str) -> SelectMultipleField:
    return SelectMultipleField(
        label,
        choices=options((c.value, c.label) for c in Channel),
        coerce=lambda value: value if isinstance(value, Channel) else Channel(value),
        **checkbox_list(),
    )


class ChoiceForm(Form):
    channels = _channels("通过以下方式提醒我")
    wecom_userid = optional_text(
        "企业微信账号（UserID）", 64, description="在企业微信“我的”页可查看；不清楚请问管理员。"
    )
    mobile = optional_text("接收短信的手机号码", 20, description="指导员不填则用登记的手机号码。")
    email = optional_text("电子邮箱", 120)
    daily = BooleanField("接收晨间提醒（指导员，工作日 8:00）")
    weekly = BooleanField("接收每周提醒（督导员，每周第一个工作日 8:30）")


class SettingsForm(Form):
    channels = _channels("全单位使用的提醒渠道")
    daily = BooleanField("发送指导员晨间提醒")
    weekly = BooleanField("发送督导员每周提醒")
    stuck_days = NumberField("问题多少天未推进算作“长期未推进”")
