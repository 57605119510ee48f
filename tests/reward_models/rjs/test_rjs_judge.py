from __future__ import annotations

import contextlib
import json
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from applications.reward_models.rjs.judge import (
    Judge,
    ScoreJudge,
    WinTieLose,
    gold_utility_judge,
    judge_pairwise,
    judge_with_swap,
    judging_pairs,
)
from applications.reward_models.rjs.judge_http import (
    JUDGE_PROMPTS,
    HTTPChatJudge,
    JudgeEndpointError,
    parse_verdict,
    retry_after_seconds,
)


class FixedJudge:
    """Always prefers the given position: a maximally position-biased judge."""

    def __init__(self, verdict):
        self.name, self.verdict = "fixed", verdict

    def compare(self, prompt, first, second):
        return self.verdict


def test_protocol_is_structural():
    assert isinstance(FixedJudge("first"), Judge)
    assert isinstance(ScoreJudge("s", lambda p, r: 0.0), Judge)


@pytest.mark.parametrize("verdict", ["first", "second", "tie"])
def test_position_biased_judge_only_produces_ties(verdict):
    counts, outcomes = judge_pairwise(FixedJudge(verdict), ["p"] * 3, ["a"] * 3, ["b"] * 3)
    assert counts == WinTieLose(0, 3, 0) and outcomes == ["tie"] * 3


def test_score_judge_win_tie_lose_and_margin():
    judge = ScoreJudge("len", lambda p, r: float(len(r)))
    assert judge_with_swap(judge, "p", "long answer", "short") == "win"
    assert judge_with_swap(judge, "p", "short", "long answer") == "lose"
    assert judge_with_swap(judge, "p", "abc", "xyz") == "tie"
    margin = ScoreJudge("len", lambda p, r: float(len(r)), margin=3.0)
    assert judge_with_swap(margin, "p", "abcde", "abc") == "tie"
    counts, _ = judge_pairwise(judge, ["p"] * 3, ["aaa", "a", "aa"], ["a", "aaa", "bb"])
    record = counts.to_dict()
    assert {k: record[k] for k in ("win", "tie", "lose", "n", "rates", "win_minus_lose")} == {
        "win": 1,
        "tie": 1,
        "lose": 1,
        "n": 3,
        "rates": {"win": 1 / 3, "tie": 1 / 3, "lose": 1 / 3},
        "win_minus_lose": 0.0,
    }
    # Wilson 95 % of 1/3 (scipy.stats.binomtest(1, 3).proportion_ci(method="wilson")).
    assert record["ci"]["win"] == pytest.approx({"low": 0.0614919, "high": 0.7923404}, abs=1e-6)
    assert record["ci"]["level"] == 0.95 and WinTieLose.from_dict(record) == counts
    assert WinTieLose(0, 0, 0).to_dict()["ci"] == {"level": 0.95}  # nothing judged: no interval
    with pytest.raises(ValueError, match="lengths"):
        judge_pairwise(judge, ["p"], ["a", "b"], ["c"])


def test_score_judge_prefetches_in_one_batch_and_missing_scores_tie():
    calls = []

    def batch(prompts, responses):
        calls.append(len(prompts))
        return [None if r == "?" else float(len(r)) for r in responses]

    judge = ScoreJudge("b", lambda p, r: batch([p], [r])[0], batch_score=batch)
    _counts, outcomes = judge_pairwise(judge, ["p", "q"], ["long", "?"], ["s", "s"])
    assert calls == [4]  # 2 prompts × (candidate, baseline), scored once, reused by the swap
    assert outcomes == ["win", "tie"]


def test_gold_utility_judge_uses_the_simulator():
    from applications.reward_models.data.simulator import PreferenceSimulator

    sim = PreferenceSimulator(seed=0)
    pair = sim.pairs("shared", 20, split="test")
    judge = gold_utility_judge(sim)
    for p in pair:
        gc, gr = sim.gold_utility(p.prompt, p.chosen), sim.gold_utility(p.prompt, p.rejected)
        expected = "win" if gc > gr else "lose" if gc < gr else "tie"
        assert judge_with_swap(judge, p.prompt, p.chosen, p.rejected) == expected


@pytest.mark.parametrize(
    ("answer", "verdict"),
    [
        ("1", "first"),
        (" 2\n", "second"),
        ("0", "tie"),
        ("Response 1", "first"),
        ("[[2]]", "second"),
        ("1 vs 2", None),
        ("both are fine", None),
        ("12", None),
        ("1.5", None),
        ("", None),
    ],
)
def test_parse_verdict(answer, verdict):
    assert parse_verdict(answer) == verdict


# ---------------------------------------------------------------- stub OpenAI-compatible server
class StubServer:
    """Threaded HTTP server on 127.0.0.1 answering from a script of behaviours, one per request.

    Behaviours: ("ok", content) chat completion; ("status", code or (code, headers));
    ("sleep", seconds);
    ("raw", bytes) a body that is not a chat completion.
    """

    def __init__(self, script):
        self.script, self.requests = list(script), []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                stub.requests.append(
                    {"path": self.path, "body": body, "auth": self.headers.get("Authorization")}
                )
                kind, arg = stub.script.pop(0) if stub.script else ("ok", "1")
                if kind == "sleep":
                    time.sleep(arg)
                    kind, arg = "ok", "1"
                if kind == "status":  # arg: a code, or (code, {header: value})
                    code, headers = arg if isinstance(arg, tuple) else (arg, {})
                    self.send_response(code)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    return
                payload = (
                    arg
                    if kind == "raw"
                    else json.dumps(
                        {"choices": [{"message": {"role": "assistant", "content": arg}}]}
                    ).encode()
                )
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(payload)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def stub():
    servers = []

    def make(script):
        servers.append(StubServer(script))
        return servers[-1]

    yield make
    for s in servers:
        s.close()


def make_judge(url, **kw):
    sleeps = []
    kw.setdefault("timeout", 2.0)
    judge = HTTPChatJudge(url, "judge-model", api_key="sk-test", sleep=sleeps.append, **kw)
    return judge, sleeps


def test_http_judge_request_format_and_swap(stub):
    server = stub([("ok", "1"), ("ok", "2")])  # consistent: candidate first, then second
    judge, _ = make_judge(server.url, aspect="harmless")
    assert judge_with_swap(judge, "How to cook {rice}?", "Boil it.", "No.") == "win"
    req = server.requests[0]
    assert req["path"] == "/v1/chat/completions" and req["auth"] == "Bearer sk-test"
    assert req["body"]["model"] == "judge-model" and req["body"]["temperature"] == 0
    user = req["body"]["messages"][-1]["content"]
    assert "How to cook {rice}?" in user and "harmlessness" in user
    assert user.index("Boil it.") < user.index("No.")
    swapped = server.requests[1]["body"]["messages"][-1]["content"]
    assert swapped.index("No.") < swapped.index("Boil it.")
    assert judge.stats.to_dict() == {
        "comparisons": 2,
        "requests": 2,
        "retries": 0,
        "errors": 0,
        "unparsable": 0,
    }


def test_http_judge_garbage_answers_are_counted_ties(stub):
    server = stub([("ok", "I cannot decide"), ("raw", b"<html>oops</html>")])
    judge, _ = make_judge(server.url)
    assert judge_with_swap(judge, "p", "a", "b") == "tie"
    assert judge.stats.unparsable == 2 and judge.stats.errors == 0 and judge.stats.requests == 2


def test_http_judge_retries_5xx_then_succeeds(stub):
    server = stub([("status", 500), ("status", 503), ("ok", "2")])
    judge, sleeps = make_judge(server.url, max_retries=3, backoff=0.5)
    assert judge.compare("p", "a", "b") == "second"
    assert judge.stats.retries == 2 and judge.stats.requests == 3 and judge.stats.errors == 0
    assert sleeps == [0.5, 1.0]  # exponential backoff, injected sleep


def test_http_judge_gives_up_after_bounded_attempts(stub):
    server = stub([("status", 500)] * 10)
    judge, sleeps = make_judge(server.url, max_retries=2, backoff=1.0, max_backoff=1.5)
    assert judge.compare("p", "a", "b") == "tie"
    assert len(server.requests) == 3 and judge.stats.errors == 1
    assert sleeps == [1.0, 1.5]


def test_http_judge_does_not_retry_client_errors(stub):
    server = stub([("status", 400), ("ok", "1")])
    judge, _ = make_judge(server.url, max_retries=3)
    assert judge.compare("p", "a", "b") == "tie"
    assert len(server.requests) == 1 and judge.stats.errors == 1


def test_http_judge_times_out_and_retries(stub):
    server = stub([("sleep", 1.5), ("ok", "1")])
    judge, _ = make_judge(server.url, timeout=0.3, max_retries=1)
    start = time.perf_counter()
    assert judge.compare("p", "a", "b") == "first"
    assert time.perf_counter() - start < 1.4  # did not wait for the slow answer
    assert judge.stats.retries == 1 and judge.stats.errors == 0


def test_http_judge_honours_retry_after_seconds_and_date(stub):
    from email.utils import format_datetime

    soon = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    server = stub(
        [("status", (429, {"Retry-After": "7"})), ("status", (503, {"Retry-After": soon}))]
    )
    judge, sleeps = make_judge(server.url, max_retries=3, backoff=0.5, max_backoff=1.0)
    assert judge.compare("p", "a", "b") == "first"
    assert sleeps[0] == 7.0  # the server's delay, not the 0.5 s backoff
    assert 25.0 < sleeps[1] <= 30.0  # an HTTP date, not the capped 1.0 s backoff
    assert judge.stats.retries == 2 and judge.stats.errors == 0


def test_retry_after_parsing():
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert retry_after_seconds("12", now) == 12.0
    assert retry_after_seconds("Thu, 01 Jan 2026 00:00:05 GMT", now) == 5.0
    assert retry_after_seconds("Wed, 31 Dec 2025 23:00:00 GMT", now) == 0.0
    assert retry_after_seconds("soon", now) is None and retry_after_seconds(None, now) is None


def test_http_judge_total_time_is_bounded(stub):
    server = stub([("status", (503, {"Retry-After": "3600"}))] * 3)
    now = [0.0]

    def sleep(seconds):
        now[0] += seconds

    judge = HTTPChatJudge(
        server.url, "m", sleep=sleep, clock=lambda: now[0], max_retries=5, max_total_time=60.0
    )
    assert judge.compare("p", "a", "b") == "tie"
    assert len(server.requests) == 1 and now[0] == 0.0  # never waits past the budget
    assert judge.stats.errors == 1
    server.script[:] = [("status", 500)] * 10
    judge = HTTPChatJudge(
        server.url,
        "m",
        sleep=sleep,
        clock=lambda: now[0],
        max_retries=9,
        backoff=4.0,
        max_backoff=4.0,
        max_total_time=10.0,
    )
    assert judge.compare("p", "a", "b") == "tie"
    assert judge.stats.requests == 3  # 0 s, 4 s, 8 s; a third 4 s wait would pass 10 s


@pytest.mark.parametrize("code", [401, 403, 404])
def test_http_judge_stops_on_auth_and_url_errors(stub, code):
    server = stub([("status", code), ("ok", "1")])
    judge, _ = make_judge(server.url, max_retries=3)
    with pytest.raises(JudgeEndpointError, match=rf"HTTP {code}.*stopping") as info:
        judge.compare("p", "a", "b")
    assert server.url in str(info.value) and len(server.requests) == 1
    if code == 401:
        assert "OPENAI_API_KEY" in str(info.value)


def test_http_judge_unreachable_server_is_a_bounded_tie():
    judge, _ = make_judge("http://127.0.0.1:9/v1", max_retries=1, timeout=0.5)
    assert judge.compare("p", "a", "b") == "tie"
    assert judge.stats.requests == 2 and judge.stats.errors == 1


def test_http_judge_validates_configuration():
    with pytest.raises(ValueError, match="aspect"):
        HTTPChatJudge("http://x", "m", aspect="funny")
    with pytest.raises(ValueError, match="placeholder"):
        HTTPChatJudge("http://x", "m", template="Compare {first} and {second}")
    with pytest.raises(ValueError):
        HTTPChatJudge("http://x", "m", max_retries=-1)
    assert set(JUDGE_PROMPTS) == {"helpful", "harmless"}
    custom = HTTPChatJudge("http://x", "m", template="{prompt} {first} {second} answer 1 or 2")
    assert custom.name.endswith("custom")


def test_reward_model_judge_follows_the_rm_scores():
    from rjs_helpers import tiny_rm

    from applications.reward_models.modeling.scoring import score_texts
    from applications.reward_models.rjs.judge import reward_model_judge

    model, tok = tiny_rm()
    judge = reward_model_judge(model, tok, name="rm:tiny", max_length=64)
    prompts = ["p1", "p2", "p3"]
    cand, base = ["good answer", "x", "maybe so"], ["bad", "a longer reply here", "no"]
    counts, outcomes = judge_pairwise(judge, prompts, cand, base)
    rc = score_texts(model, tok, prompts, cand, max_length=64)
    rb = score_texts(model, tok, prompts, base, max_length=64)
    expected = ["win" if c > b else "lose" if c < b else "tie" for c, b in zip(rc, rb, strict=True)]
    assert outcomes == expected and counts.n == 3 and judge.name == "rm:tiny"


def test_judging_pairs_each_vs_base_then_head_to_head():
    assert judging_pairs(["multitask", "more"]) == [
        ("multitask", "base"),
        ("more", "base"),
        ("more", "multitask"),  # the paper's comparison: MORE-aligned vs MultiTask-aligned
    ]
    three = judging_pairs(["a", "b", "c"])
    assert three[3:] == [("b", "a"), ("c", "a"), ("c", "b")]
    assert judging_pairs(["more"]) == [("more", "base")]
    for bad in (["a", "a"], ["base"]):
        with pytest.raises(ValueError, match="distinct"):
            judging_pairs(bad)


def test_head_to_head_outcomes_mirror_when_the_sides_swap():
    judge = ScoreJudge("len", lambda p, r: float(len(r)))
    prompts, x, y = ["p", "q", "r"], ["long one", "s", "same"], ["s", "long one", "abcd"]
    forward, out_f = judge_pairwise(judge, prompts, x, y)
    backward, out_b = judge_pairwise(judge, prompts, y, x)
    assert (forward.win, forward.tie, forward.lose) == (backward.lose, backward.tie, backward.win)
    assert out_f == ["win", "lose", "tie"] and out_b == ["lose", "win", "tie"]
