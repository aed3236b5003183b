from wtforms import PasswordField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, ValidationError

from crm.accounts.models import Role
from crm.core.forms import Form, checkbox_list, options
from crm.http import whole_number


class LoginForm(Form):
    username = StringField("用户名", validators=[DataRequired("请输入用户名。"), Length(max=64)])
    password = PasswordField("密码", validators=[DataRequired("请输入密码。"), Length(max=128)])


class SetPasswordForm(Form):
    password = PasswordField("新密码", validators=[DataRequired("请输入新密码。"), Length(max=128)])
    confirm = PasswordField("再输一次", validators=[DataRequired("请再输一次。")])

    def validate_confirm(self, field) -> None:
        if field.data != self.password.data:
            raise ValidationError("两次输入的密码不一致。")


class ChangePasswordForm(SetPasswordForm):
    current = PasswordField(
        "当前密码", validators=[DataRequired("请输入当前密码。"), Length(max=128)]
    )


class CodeForm(Form):
    code = StringField(
        "动态口令",
        validators=[DataRequired("请输入手机验证器上的 6 位数字。"), Length(max=12)],
        description="打开手机上的验证器（如微信小程序“腾讯身份验证器”、Google Authenticator），输入显示的 6 位数字。",
    )


class RolesForm(Form):
    # Any value is read (and a privileged role refused with why, by the service); the page
    # offers only the roles it may grant.
    roles = SelectMultipleField(
        "角色", choices=options(Role.choices()), validate_choice=False, **checkbox_list()
    )
    scope_district_id = SelectField("审阅范围", coerce=whole_number, default=0)
