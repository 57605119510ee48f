"""The HTTP judge's transport (issue 22): no API key to another host on a redirect, a bounded
answer size, and the deadline enforced while the answer is read."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from applications.reward_models.rjs.judge_http import HTTPChatJudge, JudgeEndpointError

ANSWER = json.dumps({"choices": [{"message": {"content": "1"}}]}).encode()


class Server:
    """A local server on 127.0.0.1 whose handler is ``behave(handler)``; records requests."""

    def __init__(self, behave) -> None:
        self.requests: list[dict] = []
        self.finished = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _serve(self):
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                server.requests.append(
                    {"method": self.command, "auth": self.headers.get("Authorization")}
                )
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    behave(self)
                server.finished.set()

            do_POST = _serve
            do_GET = _serve

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def servers():
    made: list[Server] = []

    def make(behave) -> Server:
        made.append(Server(behave))
        return made[-1]

    yield make
    for server in made:
        server.close()


def _answer(handler: BaseHTTPRequestHandler, payload: bytes = ANSWER) -> None:
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(payload)))
    handler.end_headers()
    handler.wfile.write(payload)


def _redirect_to(url: str, code: int):
    def behave(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(code)
        handler.send_header("Location", url)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    return behave


@pytest.mark.parametrize("code", [301, 302, 303, 307, 308])
def test_a_redirect_to_another_host_never_receives_the_api_key(servers, code: int) -> None:
    other = servers(_answer)  # another port on 127.0.0.1: another origin
    first = servers(_redirect_to(f"{other.base}/v1/chat/completions", code))
    judge = HTTPChatJudge(f"{first.base}/v1", "m", api_key="sk-secret", max_retries=2)
    with pytest.raises(JudgeEndpointError, match="another host") as err:
        judge.compare("p", "a", "b")
    assert other.requests == []  # not contacted at all, so no key either
    assert "sk-secret" not in str(err.value)
    assert len(first.requests) == 1 and first.requests[0]["auth"] == "Bearer sk-secret"


def test_a_redirect_on_the_same_origin_is_followed(servers) -> None:
    def behave(handler: BaseHTTPRequestHandler) -> None:
        if handler.path.startswith("/old"):
            _redirect_to("/v1/chat/completions", 302)(handler)
        else:
            _answer(handler)

    server = servers(behave)
    judge = HTTPChatJudge(f"{server.base}/old", "m", api_key="sk-secret")
    assert judge.compare("p", "a", "b") == "first"
    assert [r["auth"] for r in server.requests] == ["Bearer sk-secret"] * 2


def test_an_oversized_answer_is_a_clear_error(servers) -> None:
    big = b'{"choices": [{"message": {"content": "1"}}], "pad": "' + b"x" * 5000 + b'"}'
    server = servers(lambda h: _answer(h, big))
    judge = HTTPChatJudge(f"{server.base}/v1", "m", max_response_bytes=1000)
    with pytest.raises(JudgeEndpointError, match=r"larger than 1000 bytes|more than 1000"):
        judge.compare("p", "a", "b")
    assert HTTPChatJudge(f"{server.base}/v1", "m").compare("p", "a", "b") == "first"
    with pytest.raises(ValueError, match="max_response_bytes"):
        HTTPChatJudge(f"{server.base}/v1", "m", max_response_bytes=0)


def test_an_oversized_answer_without_a_length_is_cut_at_the_limit(servers) -> None:
    def behave(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.end_headers()  # no Content-Length: the body runs until the connection closes
        for _ in range(100):
            handler.wfile.write(b"x" * 1000)
        handler.close_connection = True

    server = servers(behave)
    judge = HTTPChatJudge(f"{server.base}/v1", "m", max_response_bytes=2000)
    with pytest.raises(JudgeEndpointError, match="larger than 2000 bytes"):
        judge.compare("p", "a", "b")


def test_the_deadline_holds_while_a_slow_answer_is_read(servers) -> None:
    """The server sends one byte every 50 ms (each recv is within the socket timeout) for far
    longer than the budget; a clock that advances one second per reading bounds the judge."""

    sent_all = threading.Event()

    def trickle(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Length", "400")
        handler.end_headers()
        for _ in range(400):
            handler.wfile.write(b" ")
            handler.wfile.flush()
            time.sleep(0.05)
        sent_all.set()

    server = servers(trickle)
    ticks = [0.0]

    def clock() -> float:
        ticks[0] += 1.0
        return ticks[0]

    judge = HTTPChatJudge(
        f"{server.base}/v1", "m", timeout=5.0, max_total_time=20.0, max_retries=3, clock=clock
    )
    assert judge.compare("p", "a", "b") == "tie"
    assert judge.stats.errors == 1
    assert not sent_all.is_set()  # gave up long before the server's 20 s of trickle


def test_the_size_limit_is_an_rjs_option() -> None:
    from applications.reward_models.rjs.config import parse_args
    from applications.reward_models.rjs.evaluate import build_judge

    argv = ["evaluate", "--judge", "http", "--judge_url", "http://127.0.0.1:1/v1"]
    _stage, cfg = parse_args([*argv, "--judge_max_response_bytes", "1000"])
    assert build_judge(cfg, models=None).max_response_bytes == 1000
    with pytest.raises(ValueError, match="judge_max_response_bytes"):
        parse_args([*argv, "--judge_max_response_bytes", "0"])
