from wtforms import SelectField
from wtforms.validators import InputRequired

from crm.core.forms import Form


class MakeReportForm(Form):
    """Choices come from the view: the months that have ended, the subjects the user may see."""

    month = SelectField("月份", validators=[InputRequired("请选择月份。")])
    subject = SelectField("报告", validators=[InputRequired("请选择报告。")])


class BatchForm(Form):
    # On the same page as MakeReportForm's month: an id of its own.
    month = SelectField("月份", id="batch-month", validators=[InputRequired("请选择月份。")])
