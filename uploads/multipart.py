"""Browser uploads whose file names Django's parser would drop or choke on still arrive, as rows.

Django's MultiPartParser drops a file part whose name sanitizes to nothing ("..", a NUL byte
alone) without reading its body, so the next part is parsed from the middle of the dropped
file's bytes: a 400 for the whole request. It refuses any part whose headers pass 1 KiB (a
long name), and its temporary files take the name's extension into their own name. So, for
multipart requests, such names are swapped for short placeholders the parser accepts, and the
names as sent are kept on the request: ``sent_name(request, uploaded)`` gives them back, and
ingest then refuses or shortens them with a reason, file by file.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest, HttpResponse, QueryDict, multipartparser
from django.utils.datastructures import ImmutableList, MultiValueDict

# Room for a file name of a few thousand characters in a part's headers (Django's is 1 KiB);
# still a bound, so headers cannot grow without limit.
HEADER_ROOM = 64 * 1024
multipartparser.MAX_TOTAL_HEADER_SIZE = HEADER_ROOM  # type: ignore[attr-defined]  # not in django-stubs
PLAIN_NAME_MAX = 200  # longer names travel as placeholders (temporary files have a name limit)


class _Parser(multipartparser.MultiPartParser):
    def __init__(self, *args: Any, names: dict[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._names, self._token = names, secrets.token_hex(6)

    def sanitize_file_name(self, file_name: str) -> str | None:
        clean = super().sanitize_file_name(file_name)
        if clean and "\x00" not in file_name and len(clean) <= PLAIN_NAME_MAX:
            return clean
        placeholder = f"unnamed-{self._token}-{len(self._names) + 1}"
        self._names[placeholder] = file_name
        return placeholder


class UploadNamesMiddleware:
    """Parse multipart bodies with the lenient parser above (put it before CsrfViewMiddleware)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method == "POST" and request.content_type == "multipart/form-data":
            names: dict[str, str] = {}
            request.upload_names = names  # type: ignore[attr-defined]

            def parse_file_upload(meta: Mapping[str, Any], post_data: Any) -> tuple[QueryDict, MultiValueDict[str, UploadedFile]]:
                request.upload_handlers = ImmutableList(
                    request.upload_handlers, warning="You cannot alter upload handlers after the upload has been processed."
                )
                parser = _Parser(meta, post_data, request.upload_handlers, request.encoding, names=names)
                return parser.parse()

            request.parse_file_upload = parse_file_upload  # type: ignore[method-assign,assignment]
        return self.get_response(request)


def sent_name(request: HttpRequest, uploaded: UploadedFile) -> str:
    """The name the client sent for an uploaded file (before any placeholder)."""
    names: dict[str, str] = getattr(request, "upload_names", {})
    name = uploaded.name or ""
    return names.get(name, name)
