"""The Celery app: Redis broker, late acks, explicit queues, beat schedule, worker heartbeat.

Settings come from Django settings under the CELERY_ namespace (config/settings.py). Tasks have
explicit permanent names ("<app>.<task>") and take ids only; see tenants/tasks.py for the
tenant-aware base class.
"""

from __future__ import annotations

import os
import socket
import time

from celery import Celery, bootsteps
from celery.signals import worker_ready
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("assay")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = (Queue("default"), Queue("integrations"), Queue("email"))
app.conf.beat_schedule = {
    # Filled in by later work (sweeper, reconciliation, retention, reminders); the heartbeat
    # proves beat itself is alive.
    "beat-heartbeat": {"task": "tenants.beat_heartbeat", "schedule": 30.0},
    "integrations-sweep": {"task": "integrations.sweep", "schedule": 60.0},
    # Lever: replay stage changes no webhook announced (integrations/providers/lever/reconcile.py).
    "integrations-reconcile-lever": {"task": "integrations.reconcile_lever", "schedule": 600.0},
    # Candidate experience: expire invitations and close timed attempts past their deadline;
    # one reminder per invitation INVITATION_REMINDER_DAYS before it expires.
    "assessments-expire-invitations": {"task": "assessments.expire_invitations",
                                       "schedule": 300.0},
    "assessments-send-reminders": {"task": "assessments.send_reminders", "schedule": 3600.0},
}
app.autodiscover_tasks()

HEARTBEAT_INTERVAL = 10.0


class WorkerHeartbeat(bootsteps.StartStopStep):
    """Write a heartbeat from inside every worker every few seconds, independent of beat."""

    requires = {"celery.worker.components:Timer"}

    def start(self, worker):
        self._tref = worker.timer.call_repeatedly(HEARTBEAT_INTERVAL, beat_worker, (), priority=10)

    def stop(self, worker):
        if getattr(self, "_tref", None):
            self._tref.cancel()


def beat_worker() -> None:
    """Record that a worker is alive; /readyz reads the age of this value."""
    from django.conf import settings

    from config.redis import redis_client

    redis_client().set(settings.WORKER_HEARTBEAT_KEY, f"{time.time():.3f} {socket.gethostname()}")


app.steps["worker"].add(WorkerHeartbeat)


@worker_ready.connect
def _on_ready(**_kwargs) -> None:
    beat_worker()
