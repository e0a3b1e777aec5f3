"""Behaviour under the server we ship (gunicorn), not only the test client."""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def request_closed(request):
    """Registers a connection to close at the end of the test (the server keeps it alive)."""

    def register(conn: http.client.HTTPConnection) -> None:
        request.addfinalizer(conn.close)

    return register


@pytest.fixture
def gunicorn_server(tmp_path, listening_socket, spawn):
    """gunicorn with 2 workers on a migrated SQLite file and a 1 MB upload limit."""
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'served.db'}",
        "SECRET_KEY": "5f0c9a7e3b1d48e2a6c4f9b0d7e13a5c8b2f6e4d1a9c7b3e",
        "CATALOG_ENV": "production",
        "MAX_UPLOAD_MB": "1",
    }
    bin_dir = Path(sys.executable).parent
    subprocess.run(
        [str(bin_dir / "flask"), "--app", "catalog", "init-db"],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    sock = listening_socket()
    port = sock.getsockname()[1]
    spawn(
        [
            str(bin_dir / "gunicorn"),
            "-w",
            "2",
            "-b",
            f"fd://{sock.fileno()}",
            "catalog:create_app()",
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        pass_fds=(sock.fileno(),),
    )
    sock.close()  # gunicorn has its copy: a request now reaches it, or is refused if it died
    deadline = time.monotonic() + 60  # two workers importing the app on a busy machine
    while time.monotonic() < deadline:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                break
        except OSError:  # not listening yet, or a worker still booting (a timeout on a busy box)
            time.sleep(0.2)
        finally:
            conn.close()  # an unclosed attempt is a ResourceWarning, an error under pytest
    else:
        pytest.fail("gunicorn did not start")  # `spawn` stops it
    yield port


def test_upload_one_mb_over_the_limit_gets_a_413_page_naming_the_limit(
    gunicorn_server, request_closed
):
    boundary = "catalogboundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\n'
            "Content-Type: text/csv\r\n\r\n"
        ).encode()
        + b"title,hours\r\n"
        + b"x" * (2 * 1024 * 1024)
        + f"\r\n--{boundary}--\r\n".encode()
    )
    conn = http.client.HTTPConnection("127.0.0.1", gunicorn_server, timeout=20)
    # gthread workers keep the connection alive: close it, or its socket is a ResourceWarning
    request_closed(conn)
    conn.request(
        "POST",
        "/provider/catalogs/new",
        body=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    response = conn.getresponse()
    text = response.read().decode()
    assert response.status == 413
    assert "1 MB" in text and "too large" in text
    assert "Traceback" not in text


def test_production_server_serves_no_debugger(gunicorn_server, request_closed):
    conn = http.client.HTTPConnection("127.0.0.1", gunicorn_server, timeout=5)
    request_closed(conn)
    conn.request("GET", "/no-such-page?__debugger__=yes&cmd=resource&f=style.css")
    response = conn.getresponse()
    assert response.status == 404
    assert "Werkzeug Debugger" not in response.read().decode()
