"""Walking and deleting folders of the file storage through its API (listdir, delete): never by path.

The storage may be a bucket on another machine, so a purge or a sweep of orphans goes through
the same calls as every other stored file. Folders themselves are not deleted: a bucket has none,
and an empty local folder holds nothing of anyone's.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.core.files.storage import Storage


def storage_files(storage: Storage, folder: str) -> Iterator[str]:
    """The names of every file under `folder`, at any depth; nothing when the folder is absent."""
    try:
        folders, files = storage.listdir(folder)
    except (OSError, ValueError):  # absent (a bucket answers an empty listing instead)
        return
    base = folder.rstrip("/")
    for name in sorted(files):
        yield f"{base}/{name}" if base else name
    for sub in sorted(folders):
        yield from storage_files(storage, f"{base}/{sub}" if base else sub)


def storage_folder_delete(storage: Storage, folder: str) -> int:
    """Delete every file under `folder`; returns how many there were."""
    names = list(storage_files(storage, folder))
    for name in names:
        storage.delete(name)
    return len(names)
