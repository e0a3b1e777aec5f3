"""The database going away mid-service: a 503 page (JSON on the API), then recovery when it returns.

PostgreSQL is reached through a small TCP relay on 127.0.0.1 that the test can cut and restore.
"""

from __future__ import annotations

import socket
import threading

import pytest
import sqlalchemy as sa

from catalog.extensions import db


class Relay:
    """Forward 127.0.0.1:<port> to PostgreSQL; `cut()` drops every connection and refuses new ones."""

    def __init__(self, target: tuple[str, int]):
        self.target = target
        # bound from the start (the port is ours until the first cut), not a probe closed and
        # bound again later: another test worker could be handed the port in between
        self.bound: socket.socket | None = socket.socket()
        self.bound.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.bound.bind(("127.0.0.1", 0))
        self.port = self.bound.getsockname()[1]
        self.sockets: list[socket.socket] = []
        self.listener: socket.socket | None = None

    def open(self) -> None:
        self.listener, self.bound = self.bound, None
        if self.listener is None:  # reopened after a cut: the same port again
            self.listener = socket.socket()
            self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.listener.bind(("127.0.0.1", self.port))
        self.listener.listen(16)
        threading.Thread(target=self._accept, args=(self.listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            if self.listener is not listener:  # cut meanwhile
                client.close()
                return
            upstream = socket.create_connection(self.target)
            self.sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()

    def cut(self) -> None:
        if self.bound is not None:  # never opened
            self.bound.close()
            self.bound = None
        if self.listener is not None:
            try:
                self.listener.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in accept()
            except OSError:
                pass
            self.listener.close()
            self.listener = None
        for s in self.sockets:
            try:
                s.shutdown(socket.SHUT_RDWR)
                s.close()
            except OSError:
                pass
        self.sockets.clear()


@pytest.fixture
def backend() -> str:
    """PostgreSQL only: an embedded SQLite file cannot go away; the outage path is a server's."""
    return "postgresql"


@pytest.fixture
def relayed_app(database_url, app_factory):
    url = sa.engine.make_url(database_url)
    relay = Relay((url.host or "127.0.0.1", url.port or 5432))
    relay.open()
    app = app_factory(
        DATABASE_URL=url.set(host="127.0.0.1", port=relay.port).render_as_string(False)
    )
    yield app, relay
    relay.cut()


def test_database_outage_gives_503_then_recovers(relayed_app):
    app, relay = relayed_app
    client = app.test_client()  # no outer app context: each request gets its own, as in production
    assert client.get("/healthz").status_code == 200
    relay.cut()
    page = client.get("/healthz")
    assert page.status_code == 503
    assert "not answering" in page.get_data(as_text=True)
    api = client.get("/api/v1/me", headers={"Authorization": "Bearer x"})
    assert api.status_code == 503 and set(api.get_json()) == {"error", "details"}
    relay.open()
    assert client.get("/healthz").status_code == 200
    with app.app_context():
        db.engine.dispose()
