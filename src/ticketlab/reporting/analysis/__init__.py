"""Numbers computed from a run's metrics: per-pixel and per-channel maps of image inputs (images.py)
and the statistics of the ticket effect (ticket_stats.py)."""
