from wtforms import Field

from crm.core.forms import Form, NumberField


def _percent(label: str) -> Field:
    return NumberField(label, description="%")


class SchemeForm(Form):
    daily_weight = _percent("日常工作（按记录计算）")
    rating_weight = _percent("服务对象评议（党组织书记评议）")
    committee_weight = _percent("组织评价（考核委员会评分）")
    visits_weight = _percent("实地走访按期率")
    problems_weight = _percent("问题按期解决率")
    meetings_cards_weight = _percent("三会两卡")
    pairings_weight = _percent("结对共建活动")
    corrections_weight = _percent("退回走访按时修改率")
    excellent_min = NumberField("优秀：总分不低于")
    competent_min = NumberField("称职：总分不低于")
    basic_min = NumberField("基本称职：总分不低于", description="低于此分为不称职。")
    excellent_quota = _percent("优秀比例上限")

    def values(self) -> dict[str, int | None]:
        return {name: field.data for name, field in self._fields.items() if name != "csrf_token"}
