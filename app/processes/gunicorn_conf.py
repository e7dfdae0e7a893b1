"""Gunicorn settings for the web process: `gunicorn -c python:app.processes.gunicorn_conf … wsgi:app`.

Why preload: the master imports the app once and forks the workers, so they share its ~60 MB of
loaded modules copy-on-write instead of each importing its own copy (see `app.processes.prefork`). The
master opens no connection while creating the app; `post_fork` still drops any pool or client a
worker inherited, so no database or Redis socket is ever shared between processes. Workers,
threads and the bind address stay on the command line, where each launcher sets them.

Why gunicorn's gthread workers and not another server: on trigger requests (measured for issue
19), sync workers (4 or 8 processes), uWSGI and Waitress spent more CPU per request and served
fewer, gevent stalled (the SQLite write gate's file lock blocks its event loop); Granian spent about 15 % less of the web's CPU but loads the app in every worker (no
preload), 57 MB more memory for two workers. README's "Scaling out" has the figures.
"""

preload_app = True
# Gunicorn would believe X-Forwarded-Proto (and -Ssl, -Protocol) from loopback by default, so a local
# client could claim https. TRUSTED_PROXIES (app.security_headers, werkzeug's ProxyFix) is the one
# switch for forwarded headers: gunicorn reads none of them.
secure_scheme_headers: dict = {}


def pre_fork(server, worker):
    from app.processes.prefork import before_fork

    before_fork()


def post_fork(server, worker):
    from app.processes.prefork import after_fork

    after_fork(worker.app.wsgi())


def pre_request(worker, req):
    """Say `Connection: close` up front for a body too large for the app to read away after its 413.

    A length that is not plain ASCII digits ("²" passed `isdigit()` and then broke `int()`) cannot
    be drained either, so it closes too.
    """
    from app.digits import ascii_whole
    from app.errors import DRAIN_MAX_BYTES

    length = next((value for name, value in req.headers if name == "CONTENT-LENGTH"), "")
    size = ascii_whole(length, 10**18)
    if length and (size is None or size > DRAIN_MAX_BYTES):
        req.must_close = True
