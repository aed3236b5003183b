from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from crm.core.forms import Form


def reason_field() -> TextAreaField:
    """The reason of a correction: needed once the record has settled, which the rule decides."""
    return TextAreaField(
        "更正原因",
        validators=[Length(max=200, message="最多 200 个字。")],
        description="已确认、已评定、上月或别人录入的记录，更正须说明原因，并留下版本。",
    )


class WithdrawForm(Form):
    # Shown on the correction page beside the correction's own 更正原因: an id of its own.
    reason = TextAreaField(
        "撤回原因",
        id="withdraw-reason",
        validators=[DataRequired("请说明撤回原因。"), Length(max=200, message="最多 200 个字。")],
        description="撤回的记录保留并注明，不再计入任何统计。",
    )
