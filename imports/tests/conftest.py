from __future__ import annotations

from collections.abc import Callable

import pytest

from imports import services
from imports.models import ImportBatch
from participants.models import User

from .bundles import upload


@pytest.fixture
def validate(importer: User) -> Callable[..., ImportBatch]:
    """Validate a bundle's bytes as ``importer``; options default to create only."""

    def run(
        content: bytes,
        *,
        update_by_nino: bool = False,
        update_by_email: bool = False,
        create_new: bool = True,
        name: str = "bundle.zip",
    ) -> ImportBatch:
        batch = services.batch_create(
            uploaded_by=importer,
            upload=upload(content, name),
            update_by_nino=update_by_nino,
            update_by_email=update_by_email,
            create_new=create_new,
        )
        return services.batch_validate(batch=batch)

    return run


@pytest.fixture
def commit(importer: User) -> Callable[[ImportBatch], ImportBatch]:
    def run(batch: ImportBatch) -> ImportBatch:
        return services.batch_commit(batch=services.batch_claim_commit(batch=batch, user=importer))

    return run


@pytest.fixture(autouse=True)
def _media_in_tmp(settings: object, tmp_path_factory: pytest.TempPathFactory) -> None:
    settings.MEDIA_ROOT = tmp_path_factory.mktemp("media")
