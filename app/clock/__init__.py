"""The clock process: timers, the sweeper, schedule reconciling and retention, on one loop.

`loop.PERIODIC_JOBS` lists what it runs and how often; `python worker.py --scheduler` starts it.
"""
