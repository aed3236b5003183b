import pytest

from tests.upgrade.releases import Release, releases


@pytest.fixture(params=releases(), ids=str)
def release(request) -> Release:
    """Each earlier release whose backup is in releases/."""
    return request.param
