"""Fair, bounded PDF rendering in worker processes (API.md "Limits and availability").

WeasyPrint is CPU-bound and holds the GIL: in threads, PDFs rendered one at a time per server
process, and eight 500-line drafts of one business kept another business's one-line PDF
waiting for half a minute. Here every PDF is a job for a pool of worker processes, and the
serving process only schedules:

- **Per business, round-robin.** Jobs wait in one queue per business. When a worker is free,
  the next job comes from the waiting business with the fewest jobs rendering; among equals,
  from the one served longest ago.
- **A cap per business.** One business has at most `in_flight_per_business` jobs rendering
  (default: workers - 1). Round-robin alone is not enough: when one business's long jobs
  occupy every worker, another business's one-line PDF, first in line, still waits for one of
  them to end (seconds for 500 lines). With the cap, one business never holds every worker:
  a business with nothing rendering finds a free worker at once, or waits for at most one
  job of each other business, whose next jobs then queue behind its own.
- **Bounded.** At most `queue` jobs wait in all, and `business_queue` per business: one more
  raises PdfQueueFullError (503 with Retry-After) before any work is done. A job whose
  caller went away (a client that hung up) leaves the queue; one already rendering ends.

Workers start from a clean `forkserver` process (never a fork of the serving process, which
runs threads and database pools), load WeasyPrint and the fonts once, and get only the
document: plain data in, the PDF out. They import no database driver and open no connection.
A worker that dies (killed, out of memory) fails the jobs it was running with
PdfRenderUnavailableError (503); the pool replaces it for the next jobs.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import signal
import threading
import time
from collections import deque
from concurrent.futures import CancelledError, Future, ProcessPoolExecutor
from concurrent.futures import wait as wait_for_futures
from concurrent.futures.process import BrokenProcessPool
from contextlib import suppress
from dataclasses import dataclass, field
from itertools import count
from typing import Final, Protocol
from uuid import UUID

import anyio
import anyio.to_thread
import structlog

from fastfaktura.adapters.pdf.render import Renderable, RenderedPdf, render_job, warm_up
from fastfaktura.adapters.web.branding import NO_BRANDING, Branding
from fastfaktura.config import PdfPoolSettings
from fastfaktura.readmodels.invoice_view import InvoiceResponse

log = structlog.get_logger(__name__)
# How long starting the workers (loading WeasyPrint and the fonts) may take.
START_TIMEOUT_SECONDS: Final = 60.0


class PdfRenderUnavailableError(Exception):
    """No PDF can be rendered now; the client may retry after `retry_after` seconds (503)."""

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail)
        self.detail = detail
        self.retry_after = retry_after


class PdfQueueFullError(PdfRenderUnavailableError):
    """Too many PDFs wait already (in all, or for this business)."""


# In a worker process: the barrier its first job waits at (see PdfRenderPool.start).
_started_together: threading.Barrier | None = None


def _start_worker(started_together: threading.Barrier | None) -> None:
    global _started_together  # one per worker process, set once
    _started_together = started_together
    # Ctrl-C reaches the whole process group: the serving process stops the pool itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    warm_up()


def _ready() -> None:
    """The first job of each worker at start: it returns once every worker has warmed up.
    Waiting at the barrier keeps a worker from taking a second one, so each worker gets one."""
    if _started_together is not None:
        _started_together.wait(START_TIMEOUT_SECONDS)


class PdfRenderer(Protocol):
    """Renders a business's document (the pool, or InlinePdfRenderer)."""

    async def render(
        self,
        business_id: UUID,
        invoice: Renderable,
        *,
        issued: bool,
        branding: Branding = NO_BRANDING,
    ) -> RenderedPdf: ...


class InlinePdfRenderer:
    """Renders in a thread of this process, one PDF at a time, with no queue bound: for a
    policy run without the app's pool (tools, tests). Serving processes use PdfRenderPool."""

    def __init__(self) -> None:
        # Made on first use: a limiter belongs to the event loop that is running then.
        self._one_at_a_time: anyio.CapacityLimiter | None = None

    async def render(
        self,
        business_id: UUID,
        invoice: Renderable,
        *,
        issued: bool,
        branding: Branding = NO_BRANDING,
    ) -> RenderedPdf:
        if self._one_at_a_time is None:
            self._one_at_a_time = anyio.CapacityLimiter(1)
        return await anyio.to_thread.run_sync(
            render_job, invoice, issued, branding, limiter=self._one_at_a_time
        )


@dataclass(eq=False)
class _Job:
    business_id: UUID
    invoice: Renderable
    issued: bool
    result: asyncio.Future[RenderedPdf]
    branding: Branding = NO_BRANDING
    queued_at: float = field(default_factory=time.perf_counter)


@dataclass(frozen=True)
class PoolLoad:
    """What the pool is doing: jobs rendering and waiting, in all and per business."""

    rendering: int
    waiting: int
    rendering_by_business: dict[UUID, int]
    waiting_by_business: dict[UUID, int]


class PdfRenderPool:
    """Started in the app's lifespan (`start`, then `close`); `render` from its event loop."""

    def __init__(self, settings: PdfPoolSettings) -> None:
        self.settings = settings
        self._executor: ProcessPoolExecutor | None = None
        self._starting: asyncio.Future[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False
        self._waiting: dict[UUID, deque[_Job]] = {}
        self._waiting_count = 0
        self._rendering: dict[UUID, int] = {}
        self._rendering_count = 0
        # Round-robin: when each business last got a worker (absent: not since it was idle).
        self._served_at: dict[UUID, int] = {}
        self._turns = count()

    # -- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        """Start the workers in the background: each loads WeasyPrint and the fonts before its
        first job. The service does not wait for them (starting a few processes takes seconds
        on a busy machine); a PDF asked for meanwhile waits until they are ready."""
        self._loop = asyncio.get_running_loop()
        self._starting = asyncio.ensure_future(self._start_workers())

    async def _start_workers(self) -> None:
        started = time.perf_counter()
        executor = await anyio.to_thread.run_sync(self._new_executor, True)
        if self._closed:
            await anyio.to_thread.run_sync(executor.shutdown)
            return
        self._executor = executor
        log.info(
            "pdf pool started",
            workers=self.settings.workers,
            seconds=round(time.perf_counter() - started, 3),
        )

    def _new_executor(self, wait_until_ready: bool = False) -> ProcessPoolExecutor:
        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
        if context.get_start_method() == "forkserver":
            # The fork server imports the renderer once; each worker is a fork of it.
            context.set_forkserver_preload(["fastfaktura.adapters.pdf.pool"])
        workers = self.settings.workers
        barrier = context.Barrier(workers) if wait_until_ready else None
        executor = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=context,
            initializer=_start_worker,
            initargs=(barrier,),
        )
        if wait_until_ready:
            # Workers start on demand: as many jobs at once as workers start them all.
            started = [executor.submit(_ready) for _ in range(workers)]
            done, _ = wait_for_futures(started, timeout=START_TIMEOUT_SECONDS)
            for future in done:
                future.result()
        return executor

    async def close(self) -> None:
        """Refuse new jobs, fail those still waiting, and stop the workers once the jobs they
        are running have ended."""
        self._closed = True
        if self._starting is not None and not self._starting.done():
            # Its workers are stopped as soon as they are up.
            with suppress(Exception):
                await self._starting
        for jobs in self._waiting.values():
            for job in jobs:
                if not job.result.done():
                    job.result.set_exception(self._unavailable("the service is stopping"))
        self._waiting.clear()
        self._waiting_count = 0
        executor, self._executor = self._executor, None
        if executor is not None:
            await anyio.to_thread.run_sync(executor.shutdown)
            log.info("pdf pool stopped")

    # -- rendering ----------------------------------------------------------------------------

    async def render(
        self,
        business_id: UUID,
        invoice: Renderable,
        *,
        issued: bool,
        branding: Branding = NO_BRANDING,
    ) -> RenderedPdf:
        """The PDF of `invoice` of `business_id` (as issued, or a draft; or a credit note),
        rendered by a worker when its turn comes.

        Raises PdfQueueFullError at once when it would have to wait and the queue (or this
        business's share of it) is full."""
        if self._starting is not None and not self._starting.done():
            try:
                await asyncio.shield(self._starting)
            except Exception as exc:
                log.error("pdf pool failed to start", error=str(exc))
                raise self._unavailable("PDF rendering could not start") from exc
        if self._closed or self._executor is None or self._loop is None:
            raise self._unavailable("PDF rendering is not running")
        job = _Job(business_id, invoice, issued, self._loop.create_future(), branding)
        self._waiting.setdefault(business_id, deque()).append(job)
        self._waiting_count += 1
        self._dispatch()
        business_waiting = len(self._waiting.get(business_id, ()))
        if job in self._waiting.get(business_id, ()) and (
            self._waiting_count > self.settings.queue
            or business_waiting > self.settings.business_queue
        ):
            self._withdraw(job)
            log.warning(
                "pdf queue full",
                business_id=str(business_id),
                waiting=self._waiting_count,
                business_waiting=business_waiting - 1,
            )
            raise PdfQueueFullError(
                "Too many PDFs are waiting to be rendered; retry later.",
                self.settings.retry_after_seconds,
            )
        try:
            rendered = await job.result
        except asyncio.CancelledError:
            self._withdraw(job)
            raise
        invoice_pdf = isinstance(invoice, InvoiceResponse)
        log.info(
            "invoice pdf rendered" if invoice_pdf else "credit note pdf rendered",
            business_id=str(business_id),
            **{"invoice_id" if invoice_pdf else "credit_note_id": str(invoice.id)},
            lines=len(invoice.lines),
            draft=not issued,
            bytes=len(rendered.content),
            seconds=round(rendered.seconds, 3),
            waited=round(time.perf_counter() - job.queued_at - rendered.seconds, 3),
            refused_urls=len(rendered.refused_urls),
        )
        return rendered

    def worker_pids(self) -> list[int]:
        """The worker processes' ids (for an operator, or a test that kills one)."""
        # ProcessPoolExecutor keeps its processes by pid; it has no public accessor.
        processes = getattr(self._executor, "_processes", None) or {}
        return sorted(processes)

    def load(self) -> PoolLoad:
        return PoolLoad(
            rendering=self._rendering_count,
            waiting=self._waiting_count,
            rendering_by_business=dict(self._rendering),
            waiting_by_business={b: len(jobs) for b, jobs in self._waiting.items()},
        )

    def _withdraw(self, job: _Job) -> None:
        """The caller went away: a job still waiting leaves the queue (one rendering ends)."""
        jobs = self._waiting.get(job.business_id)
        if jobs is not None and job in jobs:
            jobs.remove(job)
            self._waiting_count -= 1
            if not jobs:
                del self._waiting[job.business_id]
                self._forget_if_idle(job.business_id)

    def _next_business(self) -> UUID | None:
        """The waiting business under its cap with the fewest jobs rendering; among equals,
        the one served longest ago (never, since it was last idle: first)."""
        cap = self.settings.in_flight_per_business
        eligible = [b for b in self._waiting if self._rendering.get(b, 0) < cap]
        if not eligible:
            return None
        return min(eligible, key=lambda b: (self._rendering.get(b, 0), self._served_at.get(b, -1)))

    def _dispatch(self) -> None:
        while self._rendering_count < self.settings.workers:
            business_id = self._next_business()
            if business_id is None:
                return
            jobs = self._waiting[business_id]
            job = jobs.popleft()
            self._waiting_count -= 1
            if not jobs:
                del self._waiting[business_id]
            self._served_at[business_id] = next(self._turns)
            self._rendering[business_id] = self._rendering.get(business_id, 0) + 1
            self._rendering_count += 1
            self._submit(job)

    def _submit(self, job: _Job) -> None:
        assert self._executor is not None
        assert self._loop is not None
        loop = self._loop
        try:
            future = self._executor.submit(render_job, job.invoice, job.issued, job.branding)
        except (BrokenProcessPool, RuntimeError):
            # A worker died since the last job: replace the pool and try once more.
            self._replace_executor(self._executor)
            assert self._executor is not None
            future = self._executor.submit(render_job, job.invoice, job.issued, job.branding)
        executor = self._executor

        def finished(done: Future[RenderedPdf]) -> None:
            # A closed event loop (RuntimeError): nobody waits for the job any more.
            with suppress(RuntimeError):
                loop.call_soon_threadsafe(self._finished, job, done, executor)

        future.add_done_callback(finished)

    def _finished(
        self, job: _Job, done: Future[RenderedPdf], executor: ProcessPoolExecutor
    ) -> None:
        business_id = job.business_id
        self._rendering_count -= 1
        self._rendering[business_id] -= 1
        if not self._rendering[business_id]:
            del self._rendering[business_id]
        self._forget_if_idle(business_id)
        try:
            outcome: RenderedPdf | BaseException = done.result()
        except (BrokenProcessPool, CancelledError):
            log.error("pdf worker died", business_id=str(business_id))
            if not self._closed:
                self._replace_executor(executor)
            outcome = self._unavailable("PDF rendering was interrupted; retry.")
        except Exception as exc:  # the renderer's own error: the caller gets it
            outcome = exc
        if not job.result.done():
            if isinstance(outcome, BaseException):
                job.result.set_exception(outcome)
            else:
                job.result.set_result(outcome)
        if not self._closed:
            self._dispatch()

    def _replace_executor(self, broken: ProcessPoolExecutor) -> None:
        """Replace `broken` (once: the jobs that died with it all come here)."""
        if self._executor is not broken:
            return
        self._executor = self._new_executor()
        broken.shutdown(wait=False, cancel_futures=True)

    def _forget_if_idle(self, business_id: UUID) -> None:
        if business_id not in self._waiting and business_id not in self._rendering:
            self._served_at.pop(business_id, None)

    def _unavailable(self, detail: str) -> PdfRenderUnavailableError:
        return PdfRenderUnavailableError(detail, self.settings.retry_after_seconds)
