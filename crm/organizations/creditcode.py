"""统一社会信用代码 (GB 32100-2015): normalising and verifying the check character."""

import unicodedata

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # 31 characters: no I, O, Z, S, V
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
LENGTH = 18


class CreditCodeError(ValueError):
    """The code is malformed; the message says how, in Chinese."""


def normalize(raw: str) -> str:
    """Upper-case, half-width, without spaces: how people type it is not how it is stored."""
    return "".join(unicodedata.normalize("NFKC", raw).split()).upper()


def check_character(first17: str) -> str:
    """The 18th character that the first 17 call for."""
    total = sum(
        ALPHABET.index(char) * weight for char, weight in zip(first17, WEIGHTS, strict=True)
    )
    return ALPHABET[(31 - total % 31) % 31]


def validate(raw: str) -> str:
    """Return the normalised code; raise CreditCodeError for a wrong length, a character
    outside the code's alphabet or a wrong check character."""
    code = normalize(raw)
    if len(code) != LENGTH:
        raise CreditCodeError(f"统一社会信用代码应为 18 位，现为 {len(code)} 位。")
    for position, char in enumerate(code, start=1):
        if char not in ALPHABET:
            raise CreditCodeError(
                f"第 {position} 位“{char}”不是统一社会信用代码使用的字符"
                "（只用数字和除 I、O、Z、S、V 外的大写字母）。"
            )
    if check_character(code[:17]) != code[17]:
        raise CreditCodeError("校验位不符，代码可能有录入错误，请逐位核对。")
    return code
