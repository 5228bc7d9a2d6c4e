"""Launchers: local (pinned worker processes), ray (Ray core tasks with retries), submitit (SLURM job arrays).

All of them run `tasks.run_task` on (config, seed group) tasks that write into the same
content-addressed store as `ticketlab run`. Ray and submitit are optional extras, imported only
by their own backend.
"""
