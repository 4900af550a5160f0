"""Background jobs: the Redis-backed scheduler (`bot.jobs.scheduler`) and its runner loop."""
from bot.jobs.scheduler import Job, JobScheduler, RunReport

__all__ = ["Job", "JobScheduler", "RunReport"]
