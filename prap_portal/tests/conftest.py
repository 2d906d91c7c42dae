"""The Chromium fixture for this package's browser tests."""

from browser_testing import browser  # noqa: F401 - fixture
