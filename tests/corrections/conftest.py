from tests.cards.conftest import branch  # noqa: F401  (the cards' branch: zdy001, 钟华, 甲乙丙丁)
