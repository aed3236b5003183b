"""Chinese names as people order and type them: by pinyin, not by character code.

pypinyin is imported where a name is read (its dictionary takes 0.3-0.5 s to load), so the
commands and workers that never sort a name do not wait for it.
"""


def pinyin_order(name: str) -> tuple[tuple[str, ...], str]:
    """A sort key: 陶 < 熊 < 黄 by code, but 黄 (huang) < 陶 (tao) < 熊 (xiong) as a reader
    expects. Syllables with their tone number, then the name itself so equal readings stay apart."""
    from pypinyin import Style, lazy_pinyin

    return tuple(lazy_pinyin(name, style=Style.TONE3, neutral_tone_with_five=True)), name


def initials(name: str) -> str:
    """张伟 → zw: how reviewers type a name they half remember."""
    from pypinyin import Style, lazy_pinyin

    return "".join(lazy_pinyin(name, style=Style.FIRST_LETTER)).lower()
