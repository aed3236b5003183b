from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from crm.core.forms import Form


class LoginForm(Form):
    username = StringField("用户名", validators=[DataRequired("请输入用户名。"), Length(max=64)])
    password = PasswordField("密码", validators=[DataRequired("请输入密码。"), Length(max=128)])
