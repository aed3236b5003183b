from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length, ValidationError

from crm.core.forms import Form


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
