"""Python snippets of ``scripts/bad_inputs.py``: bad inputs that are not a command line.

Each snippet is run as ``python -c`` in a fresh process with the folder of the case's files as
``ROOT``; it ends like a CLI: one line ``error: ...`` on stderr and exit status 2 for a refusal,
or one line on stdout and status 0 when the input is handled correctly.
"""

from __future__ import annotations

PRELUDE = """
import sys, os, errno, json
from pathlib import Path
ROOT = Path({root!r})
def refused(err):
    print(f"error: {{err}}", file=sys.stderr)
    sys.exit(2)
"""

SOLVER_OPTION = """
from mooptim import MinNormSolver
try:
    MinNormSolver(**{options})
except (ValueError, TypeError) as err:
    refused(err)
print("accepted")
"""

SUBNORMAL = """
import torch
from mooptim import MinNormSolver
jac = torch.tensor([[1., 2., 0.], [0., 1., 3.], [2., 0., 1.], [1., 1., 1.]], dtype=torch.float64)
gram = (jac @ jac.T + 4 * torch.eye(4, dtype=torch.float64)) * {scale}
one = MinNormSolver().solve_gram(gram)
batch = MinNormSolver().solve_gram(gram.unsqueeze(0))
gap = float((one.weights - batch.weights[0]).abs().max())
if not (bool(one.converged) and gap < 1e-9):
    refused(f"single-problem path differs from the batched one by {{gap}}")
print(f"ok: λ of the single-problem path equals the batched path's (max difference {{gap:.1e}})")
"""

LOCK_HELD = """
import subprocess
holder = subprocess.Popen([sys.executable, "-c", (
    "import sys; from applications.reward_models.training.output_dir import lock_output_dir; "
    "lock = lock_output_dir(sys.argv[1]); print('locked', flush=True); sys.stdin.readline()"
), str(ROOT / "busy")], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
assert holder.stdout.readline().strip() == "locked"
from applications.reward_models.train import main
status = main(["--output_dir", str(ROOT / "busy"), "--max_steps", "1"])
holder.stdin.write("\\n"); holder.stdin.flush(); holder.wait()
sys.exit(status)
"""

JUDGE = """
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from applications.reward_models.rjs.judge_http import HTTPChatJudge, JudgeEndpointError
seen = []
def serve(respond):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *a): pass
        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            seen.append((self.server.server_address[1], self.headers.get("Authorization")))
            try: respond(self)
            except OSError: pass
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{{httpd.server_address[1]}}"
{setup}
try:
    verdict = judge.compare("p", "a", "b")
except JudgeEndpointError as err:
    refused(err)
print(f"verdict {{verdict}} after {{judge.stats.requests}} requests; errors {{judge.stats.errors}}")
"""

JUDGE_REDIRECT = """
def answer(h):
    h.send_response(200); h.send_header("Content-Length", "2"); h.end_headers()
    h.wfile.write(b"{}")
other = serve(answer)
def redirect(h):
    h.send_response(302); h.send_header("Location", other + "/v1/chat/completions")
    h.send_header("Content-Length", "0"); h.end_headers()
judge = HTTPChatJudge(serve(redirect) + "/v1", "m", api_key="sk-secret")
"""

JUDGE_HUGE = """
def huge(h):
    h.send_response(200); h.end_headers()
    for _ in range(200): h.wfile.write(b"x" * 10000)
judge = HTTPChatJudge(serve(huge) + "/v1", "m", max_response_bytes=100000)
"""

JUDGE_TRICKLE = """
import time
def trickle(h):
    h.send_response(200); h.send_header("Content-Length", "100000"); h.end_headers()
    for _ in range(100000):
        h.wfile.write(b" "); h.wfile.flush(); time.sleep(0.05)
judge = HTTPChatJudge(serve(trickle) + "/v1", "m", timeout=1.0, max_total_time=3.0, max_retries=1)
start = time.monotonic()
verdict = judge.compare("p", "a", "b")
if time.monotonic() - start > 10:
    refused("the judge outlived its 3 s budget reading a slow answer")
print(f"ok: gave up on the trickling answer within its 3 s budget (verdict {verdict})")
sys.exit(0)
"""

UNREADABLE_FOLDER = """
from applications.reward_models.data.io import read_local_rows
locked = ROOT / "rows" / "locked"
real = os.scandir
def scandir(path="."):  # what chmod 000 does (this may run as root, which chmod cannot stop)
    if Path(path) == locked:
        raise PermissionError(errno.EACCES, "Permission denied", str(path))
    return real(path)
os.scandir = scandir
try:
    read_local_rows(ROOT / "rows", "train")
except ValueError as err:
    refused(err)
print("read")
"""

DISK_FULL = """
def full(*args):
    raise OSError(errno.ENOSPC, "No space left on device")
os.fsync = full  # where a full disk reports itself
from applications.reward_models.training.checkpoint import save_checkpoint
def weights(d):
    Path(d, "model.safetensors").write_bytes(b"w")
try:
    save_checkpoint(str(ROOT / "full" / "checkpoint-0000002"), write_model=weights,
                    trainer_state={{"step": 2}})
except ValueError as err:
    refused(err)
print("saved")
"""

CAP_TRAIN_YES = """
from applications.reward_models.training.config import parse_args
try:
    config = parse_args(["--config", str(ROOT / "cap_yes.yaml")])
except ValueError as err:
    refused(err)
print(f"ok: cap_train: yes reads as {{config.sources[0].cap_train}}")
"""


def snippet(body: str, root: str, **fields: str) -> str:
    """``PRELUDE`` + ``body`` with ``root`` and ``fields`` filled in."""
    return (PRELUDE + body).format(root=root, **fields)
