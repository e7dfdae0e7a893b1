"""Start and supervise processes: `make run`'s stack, the worker family's forks, gunicorn's settings.
"""
