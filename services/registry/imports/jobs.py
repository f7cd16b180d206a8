"""Background imports of uploaded files. An upload is spooled to disk, recorded as a job
and imported by one worker thread, one job at a time (concurrent bulk writers would only
contend for the same store). The job row carries status, progress and counts after every
batch; every rejected row is kept for the downloadable report.

A job the process did not finish (stopped, crashed) is marked failed at the next start:
its committed batches stay, and uploading the file again completes it, because imports
are idempotent."""

from __future__ import annotations

import logging
import os
import queue
import shutil
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO, Literal, cast

from sqlalchemy import Table, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from services.registry.imports.importer import (
    DEFAULT_BATCH_SIZE,
    ImportReport,
    Kind,
    RowError,
    run_import,
)
from services.registry.imports.readers import guess_format
from services.registry.models import ImportJob, ImportJobError
from shared.auth import Principal
from shared.outbox import Outbox

log = logging.getLogger(__name__)

HOST = socket.gethostname()[:80]
JOBS = cast(Table, ImportJob.__table__)
JOB_ERRORS = cast(Table, ImportJobError.__table__)
UNFINISHED = ("queued", "running")
STALE_AFTER = timedelta(minutes=10)  # a worker touches its jobs every batch (seconds)
SETTLE_EVERY_S = 300
SettleAt = Literal["start", "periodic", "stop"]
INTERRUPTED = (
    "服务重启，导入中断；已写入的批次保留，重新上传该文件即可完成（导入幂等）",
    "interrupted by a restart; committed batches stay, upload the file again to finish",
)
STOPPED = (
    "服务停止，导入中断；已写入的批次保留，重新上传该文件即可完成（导入幂等）",
    "stopped with the service; committed batches stay, upload the file again to finish",
)


class _Stopped(Exception):
    pass


class ImportJobs:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        outbox: Outbox,
        spool: Path,
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> None:
        self.sessions = sessions
        self.outbox = outbox
        self.spool = spool
        self.batch_size = batch_size
        self._queue: queue.Queue[str] = queue.Queue()

    def submit(self, kind: Kind, filename: str, upload: BinaryIO, principal: Principal) -> str:
        """Spool ``upload`` and queue its import; returns the job id."""
        job_id = str(uuid.uuid4())
        self.spool.mkdir(parents=True, exist_ok=True)
        path = self._file(job_id)
        with path.open("wb") as out:
            shutil.copyfileobj(upload, out, 1 << 20)
        now = datetime.now(UTC)
        with self.sessions() as session, session.begin():
            session.execute(
                insert(JOBS).values(
                    id=job_id,
                    kind=kind,
                    filename=filename[:200],
                    status="queued",
                    submitted_by=principal.subject[:100],
                    worker=_this_worker(),
                    scope=principal.region_prefix,
                    bytes_total=path.stat().st_size,
                    bytes_read=0,
                    rows=0,
                    created=0,
                    updated=0,
                    unchanged=0,
                    rejected=0,
                    submitted_at=now,
                    heartbeat_at=now,
                )
            )
        self._queue.put(job_id)
        return job_id

    def run(self, stop: threading.Event) -> None:
        """The worker: runs queued jobs until ``stop``; a running job stops at its next
        batch. Now and then, and at its start and stop, it settles the jobs no worker
        will finish."""
        self._settle("start")
        settled = time.monotonic()
        while not stop.is_set():
            if time.monotonic() - settled > SETTLE_EVERY_S:
                self._settle("periodic")
                settled = time.monotonic()
            try:
                job_id = self._queue.get(timeout=0.2)
            except queue.Empty:
                continue
            try:
                self._run(job_id, stop)
            except Exception:
                log.exception("import job %s failed", job_id)
        self._settle("stop")

    def _run(self, job_id: str, stop: threading.Event) -> None:
        with self.sessions() as session:
            job = session.execute(select(JOBS).where(JOBS.c.id == job_id)).one()
        fmt = guess_format(job.filename)  # checked when the job was submitted
        path = self._file(job_id)
        self._set(job_id, status="running", started_at=datetime.now(UTC))
        rejected: list[RowError] = []
        try:
            with path.open("rb") as f:

                def in_batch(session: Session, report: ImportReport) -> None:
                    _record(session, job_id, report, f.tell(), rejected)

                def after_batch(_report: ImportReport) -> None:
                    if stop.is_set():
                        raise _Stopped

                report = run_import(
                    self.sessions,
                    self.outbox,
                    job.kind,
                    f,
                    fmt,
                    batch_size=self.batch_size,
                    on_error=rejected.append,
                    progress=after_batch,
                    record=in_batch,
                    scope=job.scope,
                )
            with self.sessions() as session, session.begin():
                _record(session, job_id, report, job.bytes_total, rejected)
            if report.unreadable is not None:
                self._fail(job_id, (report.unreadable.reason_zh, report.unreadable.reason_en))
            else:
                self._set(job_id, status="done", finished_at=datetime.now(UTC))
        except _Stopped:
            pass  # settled (STOPPED) by the worker on its way out
        except Exception as exc:
            # The details (statements, values) go to the log, not to the job's readers.
            log.exception("import job %s failed", job_id)
            what = type(exc).__name__
            self._fail(job_id, (f"导入失败（{what}），请联系管理员", f"import failed ({what})"))
        finally:
            path.unlink(missing_ok=True)

    def _set(self, job_id: str, **values: object) -> None:
        with self.sessions() as session, session.begin():
            session.execute(update(JOBS).where(JOBS.c.id == job_id).values(**values))

    def _fail(self, job_id: str, why: tuple[str, str]) -> None:
        self._set(
            job_id,
            status="failed",
            failure_zh=why[0],
            failure_en=why[1],
            finished_at=datetime.now(UTC),
        )

    def _settle(self, when: SettleAt) -> None:
        """Fail the unfinished jobs that no worker will finish, saying what to do:
        - at the stop, this process's own;
        - otherwise those of this host's processes that are gone, and those of any
          host whose worker has not touched them for STALE_AFTER (a host that never
          came back); at the start also this process's own, as a container's new
          process may carry its predecessor's pid."""
        try:
            for job_id in self._unfinished_without_worker(when):
                self._fail(job_id, STOPPED if when == "stop" else INTERRUPTED)
                self._file(job_id).unlink(missing_ok=True)
        except Exception:  # the store may be down; jobs still run once it is back
            log.exception("could not settle unfinished import jobs")

    def _unfinished_without_worker(self, when: SettleAt) -> list[str]:
        me = _this_worker()
        stale = datetime.now(UTC) - STALE_AFTER
        with self.sessions() as session:
            rows = session.execute(
                select(JOBS.c.id, JOBS.c.worker, JOBS.c.heartbeat_at < stale).where(
                    JOBS.c.status.in_(UNFINISHED)
                )
            ).all()
        if when == "stop":
            return [job_id for job_id, worker, _ in rows if worker == me]
        return [
            job_id
            for job_id, worker, is_stale in rows
            if (worker == me and when == "start")
            or (worker != me and worker.startswith(f"{HOST}:") and not _alive(worker))
            or (worker != me and is_stale)
        ]

    def _file(self, job_id: str) -> Path:
        return self.spool / f"{job_id}.upload"


def _record(
    session: Session, job_id: str, report: ImportReport, bytes_read: int, rejected: list[RowError]
) -> None:
    """The job's counts and progress, the rows rejected since the last call, and the
    heartbeat of this worker's unfinished jobs, in ``session``'s transaction (the
    batch's: see ``run_import``'s ``record``)."""
    if rejected:
        session.execute(
            insert(JOB_ERRORS),
            [
                {
                    "job_id": job_id,
                    "row": e.row,
                    "field": e.field[:200],
                    "reason_zh": e.reason_zh[:500],
                    "reason_en": e.reason_en[:500],
                }
                for e in rejected
            ],
        )
        rejected.clear()
    session.execute(
        update(JOBS).where(JOBS.c.id == job_id).values(bytes_read=bytes_read, **_counts(report))
    )
    session.execute(
        update(JOBS)
        .where(JOBS.c.worker == _this_worker(), JOBS.c.status.in_(UNFINISHED))
        .values(heartbeat_at=datetime.now(UTC))
    )


def _this_worker() -> str:
    return f"{HOST}:{os.getpid()}"


def _alive(worker: str) -> bool:
    """Whether the process ``host:pid`` of this host still runs."""
    try:
        os.kill(int(worker.rsplit(":", 1)[1]), 0)
    except (ProcessLookupError, ValueError):
        return False
    except PermissionError:
        return True  # it exists, under another user
    return True


def _counts(report: ImportReport) -> dict[str, int]:
    return {k: v for k, v in report.summary().items() if k != "kind"}


def job_errors(session: Session, job_id: str, chunk: int = 10_000) -> Iterator[RowError]:
    """Every rejected row of a job, in file order, read a chunk at a time."""
    e = JOB_ERRORS.c
    after = 0
    while True:
        rows = session.execute(
            select(e.id, e.row, e.field, e.reason_zh, e.reason_en)
            .where(e.job_id == job_id, e.id > after)
            .order_by(e.id)
            .limit(chunk)
        ).all()
        if not rows:
            return
        for _, row, field, zh, en in rows:
            yield RowError(row, field, zh, en)
        after = rows[-1][0]
