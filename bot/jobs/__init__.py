"""Background jobs: the Redis-backed scheduler (`bot.jobs.scheduler`). The gateway process runs
them (`bot.gateway.runtime.run_background`); the action server and command-line tools schedule them."""
from bot.jobs.scheduler import Job, JobScheduler, RunReport

__all__ = ["Job", "JobScheduler", "RunReport"]
