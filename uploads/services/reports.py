"""The after-action report of a batch, written where a person asks or into the file storage."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from .. import selectors
from ..models import UploadBatch


def batch_report_store(*, batch: UploadBatch, folder: Path | None = None,
                       skipped: Sequence[Mapping[str, Any]] = ()) -> list[str]:
    """Write the batch's after-action report (JSON and CSV); returns where each went.

    Into `folder` when a person names one, else into the file storage (`reports/`), which every
    machine of the deployment can read; never by path under the media folder. `skipped`: report
    rows for inputs that never became an upload (a FIFO, a symlink out of the folder), with why.
    """
    report = selectors.batch_report(batch=batch)
    if skipped:
        report["rows"] += list(skipped)
        report["skipped"] = len(skipped)
    documents = {
        f"batch-{batch.pk}.json": json.dumps(report, indent=2),
        f"batch-{batch.pk}.csv": selectors.batch_report_csv(batch=batch, extra_rows=skipped),
    }
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
        for filename, text in documents.items():
            (folder / filename).write_text(text)
        return [str(folder / filename) for filename in documents]
    return [default_storage.save(f"reports/{filename}", ContentFile(text.encode()))
            for filename, text in documents.items()]
