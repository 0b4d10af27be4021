"""gunicorn's settings for the portal (docs/deploy.md): `gunicorn -c zone_portal/gunicorn.conf.py`.

Command-line flags override these (deploy/serve_prod.py passes --bind and --workers). Every value
can be set from the environment, so a systemd unit or a container changes them without a new file.
"""

import os

wsgi_app = "zone_portal.wsgi:application"
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")

# Processes: about one per core plus a few, as pages wait on PostgreSQL part of the time. 4 is this
# project's 2-core reference machine (bench/LOAD_RESULTS.md).
workers = int(os.environ.get("WEB_CONCURRENCY", "4"))
# sync: one request per process at a time. bench/LOAD_RESULTS.md compares it with gthread on the
# load test; gthread (GUNICORN_WORKER_CLASS=gthread, GUNICORN_THREADS=4) keeps a slow download
# from holding a whole process, at the price of a database connection per thread.
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "sync")
threads = int(os.environ.get("GUNICORN_THREADS", "1"))

# The largest Excel export or import runs within a request (bigger ones go to the task worker).
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
# SIGTERM lets requests in flight finish for this long.
graceful_timeout = 20
# nginx keeps connections to the app open between requests.
keepalive = 5
# A worker is replaced after this many requests, so a slow leak cannot grow without end.
max_requests = 2000
max_requests_jitter = 200
# The workers' heartbeat files on tmpfs: a slow disk cannot make the master think they hung.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None

# nginx logs every request; set GUNICORN_ACCESS_LOG=- to have gunicorn log them too.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
errorlog = "-"
# X-Forwarded-* are believed only from here (the local nginx); Django reads X-Forwarded-Proto
# itself (SECURE_PROXY_SSL_HEADER).
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
proc_name = "zone_portal"


def post_fork(server, worker):
    """A worker ends with its master. A master killed outright (SIGKILL, the OOM killer) otherwise
    leaves its workers behind, still taking connections on the shared port (--reuse-port) beside
    the restarted master's until each notices, and dropping the one in hand when it does. Linux
    only (prctl's parent-death signal); SIGTERM lets the request in hand finish."""
    import ctypes
    import signal

    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
    except OSError:
        return
    pr_set_pdeathsig = 1
    libc.prctl(pr_set_pdeathsig, signal.SIGTERM)
    if os.getppid() != server.pid:  # the master died before the signal was asked for
        os.kill(os.getpid(), signal.SIGTERM)
