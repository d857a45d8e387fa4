"""Upload a folder of activity files to Strava: sweep, de-duplicate, post within the quota, report."""

from __future__ import annotations

import time
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import CommandError, CommandParser
from django.db.models import QuerySet
from django.utils import timezone

from accounts.management.athletes import athlete_from_option
from stravasync.commands import StoppableCommand, resumes_at
from stravasync.strava import quota
from uploads import selectors, services
from uploads.folders import Skipped, scan_folder, tidy_move, tidy_target
from uploads.models import Upload, UploadBatch

from .sweep import sweep_path


class Command(StoppableCommand):
    help = "Upload every activity file under PATH to Strava for one athlete, then tidy the folder."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path")
        parser.add_argument("--athlete", required=True, help="Strava id or username")
        parser.add_argument("--no-wait", action="store_true", help="queue the files and leave them to the cluster")
        parser.add_argument("--keep-in-place", action="store_true", help="do not move files into _junk/_failed/_uploaded")
        parser.add_argument("--dry-run", action="store_true", help="classify and report; no upload, no call")
        parser.add_argument("--local-only", action="store_true",
                            help="keep here only: the files fill the warehouse and nothing is sent to Strava")
        parser.add_argument("--report-dir", default=None,
                            help="a folder for the JSON and CSV reports (default: reports/ in the file storage)")

    def handle(self, *args: Any, **options: Any) -> None:
        root = Path(options["path"]).resolve()
        if not root.is_dir():
            raise CommandError(f"{root} is not a folder")
        athlete = athlete_from_option(options["athlete"], connected=not options["dry_run"])
        if options["dry_run"]:
            self._dry_run(root)
            return

        batch = services.batch_create(athlete=athlete, source=UploadBatch.Source.FOLDER, label=str(root),
                                      local_only=options["local_only"])
        self.skipped: list[Skipped] = []
        self.waits, self.started = 0, time.monotonic()
        self._ingest(root, batch)
        if not options["no_wait"]:
            self._wait(batch)
        if not options["keep_in_place"]:
            self._tidy(root, batch)
        self._summary(batch, Path(options["report_dir"]) if options["report_dir"] else None)

    # --- steps -----------------------------------------------------------------------------
    def _ingest(self, root: Path, batch: UploadBatch) -> None:
        files = list(scan_folder(root, self.skipped))
        try:
            with self.progress(total=len(files), desc="sweep", unit="file") as bar:
                for path in files:
                    if self.stopping:
                        break
                    name = str(path.relative_to(root))
                    try:
                        stream = open(path, "rb")
                    except OSError as exc:
                        self.skipped.append(Skipped(name, f"skipped: could not be read ({exc.strerror or exc})"))
                    else:
                        with stream:
                            services.upload_ingest(batch=batch, name=name, stream=stream, source_path=str(path),
                                                   refresh=False)
                    bar.update(1)
        finally:
            services.batch_refresh(batch_id=batch.pk)  # once for the folder: ingest stays linear
        counts = selectors.batch_counts(batch=batch)
        if self.skipped:
            counts["skipped"] = len(self.skipped)
        self.stdout.write(
            f"swept {len(files)} files into batch {batch.pk}: "
            + ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
        )

    def _wait(self, batch: UploadBatch) -> None:
        """Work the queue here until every file has settled (the cluster may help; claims are atomic)."""
        self._warehouse(batch)
        pending = Upload.objects.filter(batch=batch).exclude(status__in=Upload.FINAL)
        total = pending.count()
        if total == 0:
            self.stdout.write("nothing to upload: every file was junk, a duplicate, skipped or refused (see below)")
            return
        announced: datetime | None = None
        with self.progress(total=total, desc="upload", unit="file") as bar:
            settled = 0
            while not self.stopping:
                services.uploads_dispatch(inline=True)
                services.uploads_confirm()
                services.uploads_warehouse_dispatch(inline=True, batch_id=batch.pk)  # files read meanwhile
                left = pending.count()
                bar.update(total - left - settled)
                settled = total - left
                if left == 0:
                    break
                resume = self._quota_resumes(pending)
                if resume is not None and resume != announced:  # once per wait, not once per poll
                    announced = resume
                    self.waits += 1
                    bar.set_postfix_str(f"quota spent, resumes {timezone.localtime(resume):%H:%M:%S}")
                    self.stdout.write(f"quota spent; {resumes_at(resume)}: {left} file(s) waiting, "
                                      f"{settled} of {total} settled; Ctrl+C stops cleanly")
                elif resume is None and announced is not None:
                    announced = None
                    bar.set_postfix_str("")
                time.sleep(self._pause(resume))
        if self.stopping:
            self.stdout.write("stopped: unsettled files stay queued; the task cluster will finish them")

    def _warehouse(self, batch: UploadBatch) -> None:
        """Read the batch's activity files into the warehouse here, a chunk at a time (the cluster may help)."""
        total = services.uploads_warehouse_pending(batch_id=batch.pk)
        if not total:
            return
        with self.progress(total=total, desc="warehouse", unit="file") as bar:
            while not self.stopping:
                read = services.uploads_warehouse_dispatch(inline=True, batch_id=batch.pk)
                bar.update(read)
                if not read:
                    break
        left = services.uploads_warehouse_pending(batch_id=batch.pk)
        self.stdout.write(f"warehouse: {total - left} activity files read into your activities"
                          + (f", {left} left to the task cluster" if left else ""))

    def _quota_resumes(self, pending: QuerySet[Upload]) -> datetime | None:
        """When the next file may be posted, if files wait for it a noticeable while (a probe's half second is not)."""
        if not pending.filter(status=Upload.Status.QUEUED).exists():
            return None  # only confirmations left: they are reads, and take no upload permit
        moment = quota.next_permit_at(kind=quota.Kind.WRITE, priority=quota.Priority.UPLOAD)
        return moment if moment is not None and quota.seconds_until(moment) >= 1 else None

    def _pause(self, resume: datetime | None) -> float:
        if resume is not None:
            return min(5.0, max(0.2, quota.seconds_until(resume)))
        return max(0.2, min(1.0, settings.UPLOADS_CONFIRM_DELAY / 3))

    def _tidy(self, root: Path, batch: UploadBatch) -> None:
        statuses: dict[str, list[str]] = defaultdict(list)
        for source, status in Upload.objects.filter(batch=batch).values_list("source_path", "status"):
            if source:
                statuses[source].append(status)
        moved: dict[str, int] = defaultdict(int)
        for source, states in statuses.items():
            target = tidy_target(states)
            path = Path(source)
            if target and path.exists():
                tidy_move(root, path, target)
                moved[target] += 1
        if moved:
            self.stdout.write("tidied: " + ", ".join(f"{n} into {d}/" for d, n in sorted(moved.items())))

    def _summary(self, batch: UploadBatch, report_dir: Path | None) -> None:
        report = selectors.batch_report(batch=batch)
        stored = services.batch_report_store(batch=batch, folder=report_dir,
                                             skipped=[s.report_row() for s in self.skipped])
        waited = f", {self.waits} wait(s) for the quota" if self.waits else ""
        self.stdout.write(f"batch {batch.pk}: {report['files']} files, {report['api_calls']} API calls in "
                          f"{time.monotonic() - self.started:.0f} s{waited}")
        for status, n in sorted(report["totals"].items()):
            self.stdout.write(f"  {status:11} {n}")
        for row in report["rows"]:
            if row["status"] in ("failed",):
                self.stdout.write(f"  failed: {row['file']}: {row['reason']}")
        if self.skipped:
            self.stdout.write(f"  {'skipped':11} {len(self.skipped)}")
        for item in self.skipped:
            self.stdout.write(f"  skipped: {item.name}: {item.reason.removeprefix('skipped: ')}")
        where = "" if report_dir else " (in the file storage)"
        self.stdout.write(f"report: {' and '.join(stored)}{where}")

    def _dry_run(self, root: Path) -> None:
        rows = sweep_path(root)
        totals: dict[str, int] = defaultdict(int)
        for row in rows:
            self.stdout.write(f"{row['verdict']:9} {row['file']}  {row.get('reason') or ''}")
            totals[row["verdict"]] += 1
        self.stdout.write("dry run, no call made: " + ", ".join(f"{n} {v}" for v, n in sorted(totals.items())))

