import pytest

from crm.organizations.creditcode import CreditCodeError, normalize, validate

# Published codes of real companies (华为技术有限公司, 腾讯科技（深圳）有限公司), checked by their
# registration authority, not by our code.
REAL_CODES = ["914403001922038216", "9144030071526726XG"]


@pytest.mark.parametrize("code", REAL_CODES)
def test_real_codes_are_valid(code):
    assert validate(code) == code


def test_typing_habits_are_forgiven():
    typed = " ９１４４０３００１９２２０３８２１６ "  # full-width digits, spaces around
    assert validate(typed) == "914403001922038216"
    assert validate("9144030071526726xg") == "9144030071526726XG"
    assert normalize("9144 0300 7152 6726 XG") == "9144030071526726XG"


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("91440300192203821", "应为 18 位，现为 17 位"),
        ("9144030019220382160", "应为 18 位，现为 19 位"),
        ("", "应为 18 位，现为 0 位"),
    ],
)
def test_wrong_length_says_how_long(code, message):
    with pytest.raises(CreditCodeError, match=message):
        validate(code)


@pytest.mark.parametrize("letter", ["I", "O", "Z", "S", "V"])
def test_letters_outside_the_alphabet_are_named_with_their_position(letter):
    code = "9144030071526726X" + letter
    with pytest.raises(CreditCodeError, match=f"第 18 位“{letter}”不是统一社会信用代码使用的字符"):
        validate(code)


def test_punctuation_is_outside_the_alphabet():
    with pytest.raises(CreditCodeError, match="第 5 位“-”"):
        validate("9144-3001922038216")


def test_wrong_check_character_is_refused():
    with pytest.raises(CreditCodeError, match="校验位不符"):
        validate("914403001922038217")  # the last digit of 华为's code changed


def test_each_fault_has_its_own_message():
    messages = set()
    for bad in ("9144030019220382", "91440300192203821I", "914403001922038217"):
        with pytest.raises(CreditCodeError) as caught:
            validate(bad)
        messages.add(str(caught.value).split("，")[0][:6])
    assert len(messages) == 3
