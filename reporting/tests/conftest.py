import pytest


@pytest.fixture(autouse=True)
def _plain_static_files_and_fast_hashing(settings: pytest.FixtureRequest) -> None:
    # Pages link their stylesheet through the manifest storage, which needs
    # collectstatic; tests render pages without it.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    # The shared users get real passwords; hashing them slowly tests nothing here.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
