"""The tests marked `slow` (10 s or more) first: begun last, one of them would keep one worker
busy while the other waits for it at the end of the run."""

from collections.abc import Iterator

import pytest


@pytest.hookimpl(wrapper=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> Iterator[None]:
    yield  # once every plugin has ordered and chosen the tests
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
