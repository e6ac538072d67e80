import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _signup_allowance_reset():
    """Each test starts with the test client's address allowed its hourly sign-ups."""
    cache.delete("signup-attempts:127.0.0.1")
    yield
    cache.delete("signup-attempts:127.0.0.1")
