"""The README's `make run` works on a clean clone: a new virtualenv, the demo data,
a server that answers in Chinese and lets the printed admin log in."""

import http.cookiejar
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
START_TIMEOUT = 600  # a cold pip install on a slow mirror


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
@pytest.mark.skipif(
    os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="the README's zero-setup path is SQLite; this runs once, in the SQLite pass",
)
@pytest.mark.skipif(
    shutil.which("git") is None or not (ROOT / ".git").exists(), reason="needs a git checkout"
)
def test_make_run_from_a_clean_clone(tmp_path):
    clone = tmp_path / "zone-portal"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if key
        not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE", "VIRTUAL_ENV", "PYTHONPATH", "MAKEFLAGS", "MFLAGS"}
    }
    server = subprocess.Popen(
        ["make", "run", f"PORT={port}"],
        cwd=clone,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    output: list[str] = []
    reader = threading.Thread(target=lambda: output.extend(server.stdout), daemon=True)
    reader.start()
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            assert server.poll() is None, "make run stopped:\n" + "".join(output)
            assert time.monotonic() < deadline, "no server after make run:\n" + "".join(output)
            try:
                urllib.request.urlopen(f"{base}/admin/login/", timeout=2)
                break
            except OSError:
                time.sleep(1)

        printed = "".join(output)
        match = re.search(r"^\s*admin\s+(\S+)\s", printed, re.MULTILINE)
        assert match, "make run printed no admin password:\n" + printed
        assert f"http://127.0.0.1:{port}/" in printed

        jar = http.cookiejar.CookieJar()
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        login_page = browser.open(f"{base}/admin/login/").read().decode()
        assert "开发区项目服务平台" in login_page
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login_page).group(1)
        form = urllib.parse.urlencode(
            {"csrfmiddlewaretoken": token, "username": "admin", "password": match.group(1), "next": "/admin/"}
        ).encode()
        index = (
            browser.open(
                urllib.request.Request(
                    f"{base}/admin/login/", data=form, headers={"Referer": f"{base}/admin/login/"}
                )
            )
            .read()
            .decode()
        )
        assert "注销" in index or "退出" in index, index[:2000]

        projects = browser.open(f"{base}/admin/projects/project/").read().decode()
        assert "中兴新业港" in projects
        parks = browser.open(f"{base}/admin/reference/park/").read().decode()
        assert parks.count("园") >= 6 and "健康食品产业园" in parks
        # The same session opens the staff workspace, in Chinese.
        workspace = browser.open(f"{base}/projects/").read().decode()
        assert "中兴新业港" in workspace and "总投资" in workspace
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
