"""Ids shared by the tests (test data, not fixtures)."""

ADMIN_USER_ID = "100"  # the user named in ADMIN_IDS of the test settings
