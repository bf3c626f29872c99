"""Durable jobs: the ``jobs`` table is the truth; runners execute what it holds.

A job is claimed under a lease, so that a runner that dies leaves it to the next one once the
lease runs out. A job's finished steps are rows too: a resumed job skips them, so no step is
done twice (the step that was cut off is done again, and must therefore be idempotent).
"""

from pledge.jobs.runner import Handler, Runner, run_claimed
from pledge.jobs.service import Job, Jobs, JobState, Retry, StepRecord

__all__ = ["Handler", "Job", "JobState", "Jobs", "Retry", "Runner", "StepRecord", "run_claimed"]
