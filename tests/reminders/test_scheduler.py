"""The scheduler runs exactly two jobs; settings come from the environment."""

from __future__ import annotations

import time
from datetime import date, timedelta
from pathlib import Path

import pytest
import time_machine
from apscheduler.jobstores.memory import MemoryJobStore
from sqlalchemy.orm import Session, sessionmaker

from bot.channels.testsink import WebhookSink
from bot.channels.webhook import WebhookChannel
from bot.config import ConfigError
from bot.push_settings import PushSettings
from bot.scheduler import SEND_JOB, SWEEP_JOB, start_from_env, start_scheduler, stop_scheduler
from handlers.reminders import ReminderPolicy
from storage import OutboxRepository, Repositories
from tests.reminders.reminder_kit import add_milestone, add_site, at

MONDAY = date(2026, 3, 2)


class TestScheduler:
    def test_two_jobs_sweep_and_send_a_due_reminder(self, sessions: sessionmaker[Session]) -> None:
        with sessions.begin() as session:
            repos = Repositories(session)
            add_milestone(repos, add_site(repos, "甲"), MONDAY, reminders=[("on_day", MONDAY)])
        with WebhookSink() as sink, time_machine.travel(at(MONDAY, 10), tick=True):
            scheduler = start_scheduler(
                sessions, channels={"api": WebhookChannel(sink.url, timeout=2)}, policy=ReminderPolicy(),
                rates={"api": 50}, sweep_seconds=0.2, send_seconds=0.1, worker_id="test",
            )
            try:
                jobs = scheduler.get_jobs()
                assert sorted(job.id for job in jobs) == sorted([SWEEP_JOB, SEND_JOB])
                assert all(job.max_instances == 1 and job.coalesce for job in jobs)
                assert isinstance(scheduler._jobstores["default"], MemoryJobStore)
                deadline = time.monotonic() + 10
                while sink.count_accepted() < 1 and time.monotonic() < deadline:
                    time.sleep(0.05)
            finally:
                stop_scheduler(scheduler)
            assert not scheduler.running
        assert sink.count_accepted() == 1
        with sessions() as session:
            assert OutboxRepository(session).count_by_status() == {"sent": 1}

    def test_start_from_env_without_a_webhook_has_no_push_channel(
        self, sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.delenv("QINGSHEN_WEBHOOK_URL", raising=False)
        scheduler = start_from_env(sessions, settings=PushSettings(sweep_seconds=3600, send_seconds=3600))
        try:
            assert len(scheduler.get_jobs()) == 2
        finally:
            stop_scheduler(scheduler)


class TestPushSettings:
    def test_defaults(self) -> None:
        settings = PushSettings.from_env({})
        assert settings.webhook_url is None and settings.channels() == {}
        assert (settings.default_rate, settings.sweep_seconds, settings.send_seconds) == (20.0, 60.0, 1.0)
        assert settings.lease == timedelta(minutes=5)
        assert ":" in settings.worker_id

    def test_values(self) -> None:
        settings = PushSettings.from_env({
            "QINGSHEN_WEBHOOK_URL": "http://127.0.0.1:9/hook",
            "QINGSHEN_SEND_RATE": "15, telegram=30 ,wecom=2.5",
            "QINGSHEN_SWEEP_SECONDS": "30",
            "QINGSHEN_SEND_SECONDS": "0.5",
            "QINGSHEN_SEND_LEASE_SECONDS": "60",
            "QINGSHEN_WEBHOOK_TIMEOUT": "5",
            "QINGSHEN_WORKER_ID": "box-1",
        })
        assert settings.default_rate == 15 and settings.rates == {"telegram": 30, "wecom": 2.5}
        assert settings.rate_of("telegram") == 30 and settings.rate_of("api") == 15
        assert (settings.sweep_seconds, settings.send_seconds, settings.lease_seconds) == (30, 0.5, 60)
        assert settings.worker_id == "box-1"
        channel = settings.channels()["api"]
        assert isinstance(channel, WebhookChannel) and channel.url == "http://127.0.0.1:9/hook"

    @pytest.mark.parametrize(
        ("name", "value"),
        [
            ("QINGSHEN_SEND_RATE", "fast"),
            ("QINGSHEN_SEND_RATE", "0"),
            ("QINGSHEN_SEND_RATE", "telegram=nan"),
            ("QINGSHEN_SWEEP_SECONDS", "-1"),
            ("QINGSHEN_SEND_LEASE_SECONDS", "10"),  # not more than twice the 10 s webhook timeout
            ("QINGSHEN_WEBHOOK_URL", "ftp://x"),
        ],
    )
    def test_bad_values_name_the_variable(self, name: str, value: str) -> None:
        with pytest.raises(ConfigError) as caught:
            PushSettings.from_env({name: value})
        assert name in str(caught.value)


class TestWorker:
    def test_refuses_an_unmigrated_database(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        from bot.worker import main

        monkeypatch.setenv("QINGSHEN_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.sqlite3'}")
        assert main([]) == 2
        assert "qingshen migrate" in capsys.readouterr().err
