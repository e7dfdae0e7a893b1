"""The worker process: RQ jobs that execute runs node by node, under a lease.

`python worker.py` starts it; `execution.execute_run` is the job every run is queued as.
"""
