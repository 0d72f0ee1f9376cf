#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""bench.py: the four scenarios of bench/run, and bench/RESULTS.md. bench/run installs, builds
and starts the servers, then calls this with their ports in the environment; it starts no
server and sends nothing anywhere but 127.0.0.1.

Every figure is taken with posix_spawn + wait4(2): wall from a monotonic clock around the two,
CPU = the child's user + system time. Peak RSS comes from /usr/bin/time -f %M (a child spawned
straight from Python inherits Python's high-water mark through vfork, so its own ru_maxrss is
useless); where the 1 ms that time adds would matter (scenario 1), RSS has runs of its own.
The tools of a scenario run in turn, round after round (postie, msmtp, curl, minimal, postie,
...), so that a slow spell of the machine hits them alike; a paired ratio is the median over
the rounds of (postie's figure / the other's figure in the same round)."""
import datetime
import hashlib
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time

ENV = os.environ
WORK = ENV["BENCH_WORK"]
POSTIE = ENV["BENCH_POSTIE"]
MINIMAL = ENV["BENCH_MINIMAL"]
SINK_PORT = int(ENV["BENCH_SINK_PORT"])          # bench/sink, logs every message
SINK_LOG = ENV["BENCH_SINK_LOG"]
VERIFY_PORT = int(ENV["BENCH_VERIFY_PORT"])      # bench/sink -o: keeps the last message's data
VERIFY_OUT = ENV["BENCH_VERIFY_OUT"]
VERIFY_LOG = ENV["BENCH_VERIFY_LOG"]
RAW_PORT = int(ENV["BENCH_RAW_PORT"])            # bench/sink -r: plain TCP, no SMTP
SMTPSINK_PORT = int(ENV["BENCH_SMTPSINK_PORT"])  # Postfix's smtp-sink
PROXY_PORT = int(ENV["BENCH_PROXY_PORT"])        # delay-proxy -> bench/sink
RESULTS = ENV["BENCH_RESULTS"]
QUICK = ENV.get("BENCH_QUICK") == "1"            # a smoke run: one or two rounds of everything
FROM, RCPT = "a@example.org", "b@example.org"
QUEUE = os.path.join(WORK, "queue")

out_lines = []        # RESULTS.md, after the header


def say(*a):
    print(*a, file=sys.stderr, flush=True)


def emit(line=""):
    out_lines.append(line)
    print(line, flush=True)


# --- running -----------------------------------------------------------------------------

DEVNULL = os.open("/dev/null", os.O_RDWR)
ERRLOG = os.path.join(WORK, "stderr.log")


def run(argv, stdin=None, env=None, check=True, rss=False, pipe=False):
    """Runs argv to its end: {wall, cpu, user, sys, rss (KiB, only when asked)}. With pipe, stdin
    comes through a pipe from cat(1) (CPU and RSS are still argv's alone)."""
    tf = os.path.join(WORK, "time.out")
    if rss:
        argv = ["/usr/bin/time", "-f", "%M", "-o", tf, *argv]
    fa = [(os.POSIX_SPAWN_OPEN, 0, stdin or "/dev/null", os.O_RDONLY, 0),
          (os.POSIX_SPAWN_DUP2, DEVNULL, 1),
          (os.POSIX_SPAWN_OPEN, 2, ERRLOG, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)]
    cat = None
    t0 = time.perf_counter()
    if pipe:
        rfd, wfd = os.pipe()
        cat = os.posix_spawnp("cat", ["cat", stdin], ENV, file_actions=[
            (os.POSIX_SPAWN_DUP2, wfd, 1), (os.POSIX_SPAWN_CLOSE, rfd)])
        os.close(wfd)
        fa[0] = (os.POSIX_SPAWN_DUP2, rfd, 0)
    pid = os.posix_spawnp(argv[0], argv, env or ENV, file_actions=fa)
    if pipe:
        os.close(rfd)
    _, status, ru = os.wait4(pid, 0)
    wall = time.perf_counter() - t0
    if cat:
        os.waitpid(cat, 0)
    rc = os.waitstatus_to_exitcode(status)
    if check and rc != 0:
        with open(ERRLOG, errors="replace") as f:
            raise SystemExit(f"bench: {argv[0]} exited {rc}: {f.read()[-800:]}")
    r = {"wall": wall, "cpu": ru.ru_utime + ru.ru_stime, "user": ru.ru_utime, "sys": ru.ru_stime}
    if rss:
        with open(tf) as f:
            r["rss"] = int(f.read().split()[-1])
    return r


def queue_files():
    return [os.path.join(d, f) for d in ("tmp", "q", "failed")
            if os.path.isdir(os.path.join(QUEUE, d))
            for f in os.listdir(os.path.join(QUEUE, d))]


def check_queue_empty(what):
    left = queue_files()
    if left:
        raise SystemExit(f"bench: {what} left files in the queue: {left[:5]}")


def postie_conf(port, queue=QUEUE, tag=""):
    path = os.path.join(WORK, f"postie-{port}{tag}.conf")
    with open(path, "w") as f:
        f.write(f"relay smtp://127.0.0.1:{port}\ndomain example.net\nqueue {queue}\n"
                "syslog no\ntls off\ntimeout 600\n"
                # no Received field of its own: the bytes received are then the input's
                "received no\n")
    return path


def msmtp_conf(port):
    path = os.path.join(WORK, f"msmtp-{port}.rc")
    with open(path, "w") as f:
        f.write(f"defaults\nsyslog off\naccount default\nhost 127.0.0.1\nport {port}\n"
                f"from {FROM}\nauth off\ntls off\ntimeout 600\n")
    os.chmod(path, 0o600)
    return path


class Tool:
    """One command line: argv, its stdin, its environment."""

    def __init__(self, name, argv, stdin=None, env=None, is_postie=False, pipe=False):
        self.name, self.argv, self.stdin, self.env, self.is_postie = name, argv, stdin, env, is_postie
        self.pipe = pipe

    def run(self, rss=False):
        r = run(self.argv, self.stdin, self.env, rss=rss, pipe=self.pipe)
        if self.is_postie:
            check_queue_empty(self.name)
        return r


def postie(port, msg, rcpts=(RCPT,), name="postie", args=(), pipe=False):
    """postie reading msg; a regular file is not teed (read again only to keep the message), so
    pipe=True gives it through a pipe, which postie tees into its spool as it sends."""
    env = dict(ENV, POSTIE_CONFIG=postie_conf(port))
    return Tool(name, [POSTIE, *args, "-f", FROM, "-i", *rcpts], msg, env, is_postie=True,
                pipe=pipe)


def msmtp(port, msg, rcpts=(RCPT,), name="msmtp"):
    return Tool(name, ["msmtp", "-C", msmtp_conf(port), "-f", FROM, "-i", *rcpts], msg)


def curl(port, msg_crlf, rcpts=(RCPT,), name="curl"):
    argv = ["curl", "-sS", f"smtp://127.0.0.1:{port}", "--mail-from", FROM]
    for r in rcpts:
        argv += ["--mail-rcpt", r]
    return Tool(name, argv + ["-T", msg_crlf])


def minimal(port, msg_crlf, name="minimal"):
    return Tool(name, [MINIMAL, f"smtp://127.0.0.1:{port}", FROM, RCPT], msg_crlf)


def alternate(tools, rounds, warmup=True, rss=False):
    """Runs the tools in turn for the given rounds; returns {name: [result, ...]}."""
    res = {t.name: [] for t in tools}
    if warmup:
        for t in tools:
            t.run()
    for _ in range(rounds):
        for t in tools:
            res[t.name].append(t.run(rss))
    return res


def med(rs, key):
    return statistics.median(r[key] for r in rs)


def paired(a, b, key):
    return statistics.median(x[key] / y[key] for x, y in zip(a, b))


def ms(s):
    return f"{s * 1000:.1f}"


def mib(kib):
    return f"{kib / 1024:.1f}"


def sink_messages():
    with open(SINK_LOG) as f:
        return [line.split() for line in f]


# --- messages ----------------------------------------------------------------------------

HEADER = ("From: a@example.org\nTo: b@example.org\nSubject: bench\n"
          "Date: Thu, 01 Jan 2026 00:00:00 +0000\nMessage-ID: <bench@example.org>\n\n")


def body_block():
    """About 1 MiB of text lines: words, empty lines, and lines that start with a dot (a lone
    '.', '.word', '..word'), so that dot-stuffing is exercised all along."""
    words = ("the quick brown fox jumps over lazy dog mail relay submit queue spool byte "
             "line text data").split()
    state = 7
    def rnd(n):
        nonlocal state
        state = (state * 1103515245 + 12345) & 0x7FFFFFFF
        return (state >> 8) % n
    lines, n = [], 0
    while n < (1 << 20):
        k = rnd(100)
        if k < 2:
            line = "."
        elif k < 6:
            line = "." + " ".join(words[rnd(len(words))] for _ in range(1 + rnd(12)))
        elif k < 8:
            line = ".." + words[rnd(len(words))]
        elif k < 10:
            line = ""
        else:
            line = " ".join(words[rnd(len(words))] for _ in range(1 + rnd(16)))
        lines.append(line)
        n += len(line) + 1
    return ("\n".join(lines) + "\n").encode()


def make_message(path, size, crlf_too):
    """A message of exactly size bytes of LF text (and path.crlf, the same in CRLF)."""
    if os.path.exists(path) and os.path.getsize(path) == size:
        return
    block = body_block()
    head = HEADER.encode()
    f = open(path, "wb")
    g = open(path + ".crlf", "wb") if crlf_too else None
    def put(b):
        f.write(b)
        if g:
            g.write(b.replace(b"\n", b"\r\n"))
    put(head)
    left = size - len(head)
    while left > 0:
        if left >= len(block):
            put(block)
            left -= len(block)
        else:
            part = block[:left]
            cut = part.rfind(b"\n", 0, len(part) - 1) + 1
            put(part[:cut] + b"x" * (left - cut - 1) + b"\n")
            left = 0
    f.close()
    if g:
        g.close()


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


# --- scenario 1 --------------------------------------------------------------------------

def callgrind(tool, tag):
    out = os.path.join(WORK, f"callgrind.{tag}")
    argv = ["valgrind", "--tool=callgrind", "--collect-atstart=yes",
            f"--callgrind-out-file={out}", *tool.argv]
    run(argv, tool.stdin, tool.env, pipe=tool.pipe)
    with open(out) as f:
        for line in f:
            if line.startswith("totals:") or line.startswith("summary:"):
                return int(line.split()[1]), out
    raise SystemExit(f"bench: no totals in {out}")


def top_functions(path, n=12):
    """The n functions with the most instructions of their own, from callgrind_annotate, as
    [(Ir, function, object)]; a function listed under several source files is summed."""
    p = subprocess.run(["callgrind_annotate", "--auto=no", "--threshold=100", path],
                       capture_output=True, text=True, check=True)
    total, lib_of = {}, {}
    table = p.stdout.split("file:function", 1)[-1]
    for line in table.splitlines():
        m = re.match(r"\s*([\d,]+)\s+\(\s*([\d.]+)%\)\s+(.*)", line)
        if not m or "PROGRAM TOTALS" in line:
            continue
        name = m.group(3)
        lib = re.search(r"\[([^\]]+)\]\s*$", name)
        fn = re.sub(r"\s*\[[^\]]+\]\s*$", "", name).split(":")[-1]
        total[fn] = total.get(fn, 0) + int(m.group(1).replace(",", ""))
        if lib and fn not in lib_of:
            lib_of[fn] = os.path.basename(lib.group(1))
    rows = sorted(((ir, fn, lib_of.get(fn, "")) for fn, ir in total.items()), reverse=True)
    return rows[:n]


def scenario1(targets):
    emit("## 1. One 1 KiB message, one recipient, whole process (Postfix smtp-sink)")
    emit()
    msg = os.path.join(WORK, "m1k")
    make_message(msg, 1024, True)
    port = SMTPSINK_PORT
    tools = [postie(port, msg), msmtp(port, msg), curl(port, msg + ".crlf"),
             minimal(port, msg + ".crlf")]
    rounds = 3 if QUICK else 30
    say(f"scenario 1: {rounds} rounds")
    res = alternate(tools, rounds)
    rss = alternate(tools, 3, warmup=False, rss=True)
    ir = {}
    for t in tools:
        ir[t.name], _ = callgrind(t, f"1k.{t.name}")
    check_queue_empty("postie under valgrind")
    emit(f"{rounds} runs of each, alternating, after one warm-up round; medians. Peak RSS: "
         "median of 3 more runs under `/usr/bin/time -f %M`. Instructions: one run under "
         "`valgrind --tool=callgrind --collect-atstart=yes` (total Ir, dynamic loading included).")
    emit()
    emit("| tool | wall ms | CPU ms | peak RSS MiB | instructions (M) |")
    emit("|---|---:|---:|---:|---:|")
    for t in tools:
        r = res[t.name]
        emit(f"| {t.name} | {ms(med(r, 'wall'))} | {ms(med(r, 'cpu'))} | {mib(med(rss[t.name], 'rss'))} "
             f"| {ir[t.name] / 1e6:.2f} |")
    emit()
    emit("| paired ratio | wall | CPU | instructions |")
    emit("|---|---:|---:|---:|")
    for other in ("msmtp", "curl", "minimal"):
        emit(f"| postie / {other} | {paired(res['postie'], res[other], 'wall'):.3f} "
             f"| {paired(res['postie'], res[other], 'cpu'):.3f} "
             f"| {ir['postie'] / ir[other]:.3f} |")
    emit()
    w = paired(res["postie"], res["msmtp"], "wall")
    targets.append(("one message: postie wall <= 0.25 x msmtp's", f"{w:.3f}", w <= 0.25))
    i = ir["postie"] / ir["minimal"]
    targets.append(("one message: postie instructions <= 1.15 x minimal's",
                    f"{i:.3f} ({ir['postie'] / 1e6:.2f} M / {ir['minimal'] / 1e6:.2f} M)",
                    i <= 1.15))
    return ir


# --- scenario 2 --------------------------------------------------------------------------

def verify(tool, expect):
    """One run against the verifying sink; the data it received must be the CRLF input."""
    before = len(open(VERIFY_LOG).readlines()) if os.path.exists(VERIFY_LOG) else 0
    tool.run()
    after = len(open(VERIFY_LOG).readlines())
    if after != before + 1:
        return "no message"
    return "exact" if sha256(VERIFY_OUT) == expect else "DIFFERENT"


def scenario2(targets):
    emit("## 2. One large message (bench/sink)")
    emit()
    msg = os.path.join(WORK, "m256")
    say("scenario 2: making the messages")
    make_message(msg, 256 << 20, True)
    crlf = msg + ".crlf"
    size = os.path.getsize(crlf)
    expect = sha256(crlf)
    p = SINK_PORT

    def tools_for(port):
        return [postie(port, msg, name="postie (LF)"), postie(port, crlf, name="postie (CRLF)"),
                minimal(port, crlf), curl(port, crlf), msmtp(port, msg, name="msmtp (LF)")]

    loop = Tool("loopback: socat to a raw sink",
                ["socat", "-b", "262144", "-u", f"FILE:{crlf}", f"TCP:127.0.0.1:{RAW_PORT}"])
    fast = tools_for(p)[:4] + [loop]
    rounds = 1 if QUICK else 5
    msmtp_rounds = 1 if QUICK else 2
    say(f"scenario 2: 256 MiB, {rounds} rounds ({msmtp_rounds} for msmtp)")
    res = {t.name: [] for t in fast}
    res["msmtp (LF)"] = []
    slow = tools_for(p)[4]
    for t in fast:  # warm-up: the page cache holds the messages from here on
        t.run()
    for r in range(rounds):
        for t in fast:
            res[t.name].append(t.run(rss=True))
        if r < msmtp_rounds:
            res[slow.name].append(slow.run(rss=True))
    exact = {}
    for t in tools_for(VERIFY_PORT):
        exact[t.name] = verify(t, expect)
    exact[loop.name] = "(not SMTP)"
    emit(f"{size} bytes on the wire (the CRLF form; {os.path.getsize(msg)} bytes of LF input), "
         f"{rounds} runs each ({msmtp_rounds} for msmtp), alternating; medians. "
         "MB/s = wire bytes / wall, 10^6 bytes. "
         "'received' compares the sha256 of what bench/sink received (dot-stuffing undone) with "
         "the CRLF input's, in one more run of each. The spool directory is checked empty after "
         "every postie run.")
    emit()
    emit("| tool | wall s | MB/s | CPU s (user + sys) | MB per CPU s | peak RSS MiB | received |")
    emit("|---|---:|---:|---:|---:|---:|---|")
    for name, r in res.items():
        emit(f"| {name} | {med(r, 'wall'):.3f} | {size / med(r, 'wall') / 1e6:.0f} "
             f"| {med(r, 'cpu'):.3f} ({med(r, 'user'):.2f} + {med(r, 'sys'):.2f}) "
             f"| {size / med(r, 'cpu') / 1e6:.0f} | {mib(med(r, 'rss'))} | {exact[name]} |")
    emit()
    emit("| paired ratio of throughput | by wall | by CPU |")
    emit("|---|---:|---:|")
    ratios = {}
    for a, b in (("postie (CRLF)", "minimal"), ("postie (LF)", "minimal"),
                 ("postie (CRLF)", "curl"), ("minimal", loop.name), ("postie (CRLF)", loop.name)):
        ratios[(a, b)] = paired(res[b], res[a], "wall")  # throughput: inverse of wall
        emit(f"| {a} / {b} | {ratios[(a, b)]:.3f} | {paired(res[b], res[a], 'cpu'):.3f} |")
    n = min(len(res["postie (LF)"]), len(res["msmtp (LF)"]))
    ratios["msmtp"] = paired(res["msmtp (LF)"][:n], res["postie (LF)"][:n], "wall")
    emit(f"| postie (LF) / msmtp (LF) | {ratios['msmtp']:.1f} "
         f"| {paired(res['msmtp (LF)'][:n], res['postie (LF)'][:n], 'cpu'):.1f} |")
    emit()

    # peak memory across sizes, spool included
    rss = {"256 MiB": med(res["postie (LF)"], "rss")}
    for label, sz in (("16 MiB", 16 << 20), ("1 GiB", 1 << 30)):
        m = os.path.join(WORK, f"m{sz >> 20}")
        make_message(m, sz, False)
        r = postie(p, m, pipe=True).run(rss=True)
        rss[label] = r["rss"]
        res[label] = [r]
        os.unlink(m)
    emit("postie's peak RSS by message size (LF input; 16 MiB and 1 GiB: one run each through a "
         "pipe, which postie tees into its spool file, written and removed, the queue left empty; "
         "256 MiB: the runs above, from the file, which is not teed):")
    emit()
    emit("| message | peak RSS MiB | wall s |")
    emit("|---|---:|---:|")
    emit(f"| 16 MiB | {mib(rss['16 MiB'])} | {res['16 MiB'][0]['wall']:.3f} |")
    emit(f"| 256 MiB | {mib(rss['256 MiB'])} | {med(res['postie (LF)'], 'wall'):.3f} |")
    emit(f"| 1 GiB | {mib(rss['1 GiB'])} | {res['1 GiB'][0]['wall']:.3f} |")
    emit()
    c = ratios[("postie (CRLF)", "minimal")]
    targets.append(("256 MiB: postie throughput >= 0.85 x minimal's on CRLF input",
                    f"{c:.3f}", c >= 0.85))
    targets.append(("256 MiB: postie throughput >= 10 x msmtp's (LF input)",
                    f"{ratios['msmtp']:.1f}", ratios["msmtp"] >= 10))
    worst = max(rss.values())
    targets.append(("16 MiB / 256 MiB / 1 GiB: postie peak RSS < 16 MiB",
                    " / ".join(mib(rss[k]) for k in ("16 MiB", "256 MiB", "1 GiB")) + " MiB",
                    worst < 16 * 1024))
    bad = [k for k, v in exact.items() if v not in ("exact", "(not SMTP)")]
    if bad:
        targets.append(("received bytes exact", ", ".join(bad), False))
    return msg, crlf


def profiles(ir1k):
    """Where the instructions go: postie beside minimal, for the 1 KiB message and a 16 MiB
    CRLF one, function by function (own instructions, callgrind)."""
    emit("## Profiles (callgrind: instructions of each function itself)")
    emit()
    m16 = os.path.join(WORK, "m16p")
    make_message(m16, 16 << 20, True)
    port = SINK_PORT
    for label, pt, mt in (
            ("1 KiB message", postie(SMTPSINK_PORT, os.path.join(WORK, "m1k")),
             minimal(SMTPSINK_PORT, os.path.join(WORK, "m1k.crlf"))),
            ("16 MiB message, CRLF input", postie(port, m16 + ".crlf"), minimal(port, m16 + ".crlf"))):
        tp, fp = callgrind(pt, f"prof.postie.{label[:2].strip()}")
        tm, fm = callgrind(mt, f"prof.minimal.{label[:2].strip()}")
        check_queue_empty("postie under valgrind")
        top_p, top_m = top_functions(fp, 40), top_functions(fm, 400)
        mins = {fn: ir for ir, fn, lib in top_m}
        emit(f"{label}: postie {tp / 1e6:.2f} M instructions, minimal {tm / 1e6:.2f} M "
             f"(postie +{(tp - tm) / 1e6:.2f} M). postie's top functions:")
        emit()
        emit("| function | object | postie M | minimal M |")
        emit("|---|---|---:|---:|")
        for ir, fn, lib in top_p[:12]:
            other = mins.get(fn)
            emit(f"| `{fn}` | {lib} | {ir / 1e6:.2f} | "
                 f"{'-' if other is None else f'{other / 1e6:.2f}'} |")
        emit()
    os.unlink(m16)
    os.unlink(m16 + ".crlf")


# --- throughput by message size ----------------------------------------------------------

SIZES = (16, 64, 256)  # MiB
PLOT = ENV.get("BENCH_PLOT", os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                          "throughput.png"))


def plot(rows, path):
    """throughput (MB/s) against message size, one line a tool, with gnuplot."""
    dat = os.path.join(WORK, "throughput.dat")
    names = ["postie (CRLF)", "postie (LF)", "minimal", "msmtp (LF)", "postie (CRLF, pipe: teed)"]
    with open(dat, "w") as f:
        for mb in SIZES:
            f.write(f"{mb} " + " ".join(f"{rows[mb][n]['mbps']:.1f}" for n in names) + "\n")
    style = ["lw 2 pt 7 lc rgb '#1f77b4'", "lw 2 pt 5 lc rgb '#2ca02c'",
             "lw 2 pt 9 lc rgb '#d62728'", "lw 2 pt 11 lc rgb '#7f7f7f'",
             "lw 1 dt 2 pt 6 lc rgb '#1f77b4'"]
    plots = ", ".join(f"'{dat}' using 1:{i + 2} with linespoints {style[i]} title '{n}'"
                      for i, n in enumerate(names))
    term = "pngcairo" if "pngcairo" in subprocess.run(
        ["gnuplot", "-e", "set terminal"], capture_output=True, text=True).stdout + \
        subprocess.run(["gnuplot", "-e", "set terminal"], capture_output=True, text=True).stderr \
        else "png"
    script = (f"set terminal {term} size 900,560 font ',11'\nset output '{path}'\n"
              "set title 'One message to bench/sink on 127.0.0.1: throughput by size'\n"
              "set xlabel 'message size (MiB, log scale)'\nset ylabel 'MB/s (wire bytes / wall)'\n"
              "set logscale x 2\nset logscale y 10\nset xtics (16, 64, 256)\nset grid\n"
              "set xrange [12:340]\nset key top left box opaque\nset yrange [2:20000]\n"
              f"plot {plots}\n")
    subprocess.run(["gnuplot"], input=script, text=True, check=True)


def scenario_sizes(targets):
    """postie (CRLF and LF input), minimal and msmtp against the same sink in the same run,
    for 16, 64 and 256 MiB; and postie's peak RSS up to 1 GiB."""
    emit("## 2b. Throughput by message size (bench/sink)")
    emit()
    port = SINK_PORT
    rows = {}
    for mb in SIZES:
        msg = os.path.join(WORK, f"size{mb}")
        say(f"sizes: making {mb} MiB")
        make_message(msg, mb << 20, True)
        crlf = msg + ".crlf"
        wire = os.path.getsize(crlf)
        fast = [postie(port, crlf, name="postie (CRLF)"), minimal(port, crlf),
                postie(port, msg, name="postie (LF)"),
                postie(port, crlf, name="postie (CRLF, pipe: teed)", pipe=True)]
        slow = msmtp(port, msg, name="msmtp (LF)")
        rounds = 1 if QUICK else (9 if mb < 256 else 5)
        msmtp_rounds = 1 if QUICK else (3 if mb < 256 else 2)
        say(f"sizes: {mb} MiB, {rounds} rounds ({msmtp_rounds} for msmtp)")
        for t in fast:
            t.run()
        res = {t.name: [] for t in fast + [slow]}
        for r in range(rounds):
            for t in fast:
                res[t.name].append(t.run(rss=True))
            if r < msmtp_rounds:
                res[slow.name].append(slow.run(rss=True))
        expect = sha256(crlf)
        exact = {t.name: verify(t, expect) for t in
                 (postie(VERIFY_PORT, crlf, name="postie (CRLF)"),
                  postie(VERIFY_PORT, msg, name="postie (LF)"), minimal(VERIFY_PORT, crlf))}
        rows[mb] = {}
        for name, rs in res.items():
            rows[mb][name] = {"wall": med(rs, "wall"), "cpu": med(rs, "cpu"),
                              "user": med(rs, "user"), "sys": med(rs, "sys"),
                              "rss": med(rs, "rss"), "mbps": wire / med(rs, "wall") / 1e6,
                              "runs": len(rs), "exact": exact.get(name, "-")}
        m = res["minimal"]
        rows[mb]["ratio"] = {
            "crlf": paired(m, res["postie (CRLF)"], "wall"),
            "lf": paired(m, res["postie (LF)"], "wall"),
            "pipe": paired(m, res["postie (CRLF, pipe: teed)"], "wall"),
            "crlf_cpu": paired(m, res["postie (CRLF)"], "cpu"),
            "lf_cpu": paired(m, res["postie (LF)"], "cpu"),
            "pipe_cpu": paired(m, res["postie (CRLF, pipe: teed)"], "cpu"),
            "msmtp": paired(res["msmtp (LF)"], res["postie (LF)"][:msmtp_rounds], "wall"),
            "msmtp_cpu": paired(res["msmtp (LF)"], res["postie (LF)"][:msmtp_rounds], "cpu"),
        }
        os.unlink(msg)
        os.unlink(crlf)
    emit("Each size: the tools in turn, round after round, after a warm-up run each (the page "
         "cache holds the message); medians of 9 rounds (5 at 256 MiB; msmtp 3 and 2). MB/s = "
         "bytes on the wire (the CRLF form) / wall, 10^6 bytes. postie reads a regular file without "
         "teeing it (it reads it again only if the message must be kept); 'pipe: teed': the CRLF "
         "message through a pipe from cat(1), which postie tees into its spool as it sends (the "
         "spool file written and removed). 'received': sha256 of "
         "what bench/sink got (dot-stuffing undone) against the CRLF input, one more run each.")
    emit()
    emit("| size | tool | MB/s | wall s | CPU s (user + sys) | peak RSS MiB | received |")
    emit("|---:|---|---:|---:|---:|---:|---|")
    for mb in SIZES:
        for name in ("postie (CRLF)", "postie (LF)", "minimal", "msmtp (LF)", "postie (CRLF, pipe: teed)"):
            x = rows[mb][name]
            emit(f"| {mb} MiB | {name} | {x['mbps']:.0f} | {x['wall']:.3f} | {x['cpu']:.3f} "
                 f"({x['user']:.2f} + {x['sys']:.2f}) | {mib(x['rss'])} | {x['exact']} |")
    emit()
    emit("| size | postie CRLF / minimal | postie LF / minimal | pipe (teed) CRLF / minimal "
         "| postie LF / msmtp LF |")
    emit("|---:|---:|---:|---:|---:|")
    for mb in SIZES:
        q = rows[mb]["ratio"]
        emit(f"| {mb} MiB | {q['crlf']:.3f} (CPU {q['crlf_cpu']:.3f}) | {q['lf']:.3f} "
             f"(CPU {q['lf_cpu']:.3f}) | {q['pipe']:.3f} (CPU {q['pipe_cpu']:.3f}) "
             f"| {q['msmtp']:.1f} (CPU {q['msmtp_cpu']:.1f}) |")
    emit()
    emit("Paired ratios of throughput, by wall (by CPU in brackets): the median over the rounds "
         "of minimal's wall / postie's in the same round.")
    emit()

    # instructions a byte, user space only (callgrind does not see the kernel's copy for write)
    m16 = os.path.join(WORK, "size16i")
    make_message(m16, 16 << 20, True)
    wire16 = os.path.getsize(m16 + ".crlf")
    ir = {}
    for t in (minimal(port, m16 + ".crlf"), postie(port, m16 + ".crlf", name="postie (CRLF)"),
              postie(port, m16, name="postie (LF)"),
              postie(port, m16 + ".crlf", name="postie (CRLF, pipe: teed)", pipe=True)):
        ir[t.name], _ = callgrind(t, "sizes." + t.name.replace(" ", "_").replace("(", "").replace(")", "").replace(",", ""))
    check_queue_empty("postie under valgrind")
    os.unlink(m16)
    os.unlink(m16 + ".crlf")
    emit("Instructions a byte of the 16 MiB message on the wire (callgrind, user space only, the "
         "whole process; the kernel's copy of each write(2) into the spool is not counted):")
    emit()
    emit("| tool | instructions (M) | per byte | over minimal, per byte |")
    emit("|---|---:|---:|---:|")
    for name, n in ir.items():
        emit(f"| {name} | {n / 1e6:.1f} | {n / wire16:.2f} | {(n - ir['minimal']) / wire16:+.2f} |")
    emit()

    # peak RSS up to 1 GiB, spool included
    big = os.path.join(WORK, "size1024")
    make_message(big, 1 << 30, False)
    r1g = postie(port, big, name="postie (LF)").run(rss=True)
    r1gp = postie(port, big, name="postie (LF)", pipe=True).run(rss=True)
    check_queue_empty("postie (LF), 1 GiB")
    os.unlink(big)
    rss = ([rows[mb]["postie (LF)"]["rss"] for mb in SIZES] + [r1g["rss"]]
           + [rows[mb]["postie (CRLF, pipe: teed)"]["rss"] for mb in SIZES] + [r1gp["rss"]])
    emit("postie's peak RSS by size, LF input from the file: "
         + ", ".join(f"{mb} MiB {mib(rows[mb]['postie (LF)']['rss'])}" for mb in SIZES)
         + f", 1 GiB {mib(r1g['rss'])} MiB (one run, {r1g['wall']:.2f} s wall); through a pipe, "
         "teed into the spool file (written and removed): "
         + ", ".join(f"{mb} MiB {mib(rows[mb]['postie (CRLF, pipe: teed)']['rss'])}" for mb in SIZES)
         + f" (CRLF), 1 GiB {mib(r1gp['rss'])} MiB (LF, one run, {r1gp['wall']:.2f} s wall).")
    emit()
    plot(rows, PLOT)
    emit(f"Plot: [{os.path.basename(PLOT)}]({os.path.basename(PLOT)}).")
    emit()
    emit("To reproduce: `BENCH_ONLY=sizes bench/run` (this section alone, about 6 minutes) or "
         "`bench/run` (everything). One figure by hand, from bench/run's scratch directory: "
         "`/usr/bin/time -f '%e s %U+%S %M KiB' env POSTIE_CONFIG=postie-PORT.conf postie -f "
         "a@example.org -i b@example.org < size256.crlf` (`cat size256.crlf | ...`: through a pipe; "
         "`minimal smtp://127.0.0.1:PORT a@example.org b@example.org < size256.crlf`; "
         "`msmtp -C msmtp-PORT.rc -f a@example.org -i b@example.org < size256`), and "
         "`valgrind --tool=callgrind` of the same command for the instructions.")
    emit()
    for mb in (64, 256):
        q = rows[mb]["ratio"]
        targets.append((f"{mb} MiB: postie CRLF >= 0.95 x minimal", f"{q['crlf']:.3f}", q["crlf"] >= 0.95))
        targets.append((f"{mb} MiB: postie LF >= 0.85 x minimal", f"{q['lf']:.3f}", q["lf"] >= 0.85))
        targets.append((f"{mb} MiB: postie LF >= 15 x msmtp LF", f"{q['msmtp']:.1f}", q["msmtp"] >= 15))
    targets.append(("16 MiB .. 1 GiB: postie peak RSS < 16 MiB, spool included",
                    " / ".join(mib(x) for x in rss) + " MiB", max(rss) < 16 * 1024))


# --- scenario 3 --------------------------------------------------------------------------

def scenario3(targets):
    emit("## 3. Many recipients in one message (bench/sink, and through delay-proxy: 10 ms each way)")
    emit()
    msg = os.path.join(WORK, "m1k")
    plan = [  # (recipients, port, path, rounds, tools)
        (1, SINK_PORT, "loopback", 5, "pmc"), (100, SINK_PORT, "loopback", 5, "pmc"),
        (1000, SINK_PORT, "loopback", 3, "pmc"), (10000, SINK_PORT, "loopback", 3, "pmc"),
        (1, PROXY_PORT, "proxy", 3, "pmc"), (100, PROXY_PORT, "proxy", 3, "pmc"),
        (1000, PROXY_PORT, "proxy", 1, "pmc"), (10000, PROXY_PORT, "proxy", 1, "pm"),
    ]
    rows = []
    for n, port, path, rounds, which in plan:
        if QUICK:
            rounds = 1
            if path == "proxy" and n >= 1000:
                continue
        rcpts = [f"r{i}@example.org" for i in range(1, n + 1)]
        tools = []
        if "p" in which:
            tools.append(postie(port, msg, rcpts))
        if "m" in which:
            tools.append(msmtp(port, msg, rcpts))
        if "c" in which:
            tools.append(curl(port, msg + ".crlf", rcpts))
        say(f"scenario 3: {n} recipients, {path}, {rounds} round(s)")
        res = {t.name: [] for t in tools}
        txns = {}
        for _ in range(rounds):
            for t in tools:
                before = len(sink_messages())
                res[t.name].append(t.run())
                got = sink_messages()[before:]
                delivered = sum(int(g[0]) for g in got)
                if delivered != n:
                    raise SystemExit(f"bench: {t.name} delivered to {delivered} of {n} recipients")
                txns[t.name] = len(got)
        rows.append((n, path, rounds, res, txns))
    emit("Wall time, median of the runs (runs in the last column); every run's recipients "
         "counted at the sink, over however many transactions the tool made (postie's in the "
         "last column but one: it splits at max-recipients). msmtp pipelines its RCPTs (the sink "
         "offers PIPELINING); libcurl waits for each reply.")
    emit()
    emit("| recipients | path | postie s | msmtp s | curl s | postie / msmtp | postie transactions | runs |")
    emit("|---:|---|---:|---:|---:|---:|---:|---:|")
    for n, path, rounds, res, txns in rows:
        c = f"{med(res['curl'], 'wall'):.3f}" if "curl" in res else "not run"
        emit(f"| {n} | {path} | {med(res['postie'], 'wall'):.3f} | {med(res['msmtp'], 'wall'):.3f} "
             f"| {c} | {paired(res['postie'], res['msmtp'], 'wall'):.1f} | {txns['postie']} "
             f"| {rounds} |")
        if n == 1000 and path == "proxy":
            targets.append(("1000 recipients through the proxy: postie beside msmtp (report)",
                            f"postie {med(res['postie'], 'wall'):.2f} s, "
                            f"msmtp {med(res['msmtp'], 'wall'):.2f} s", None))
    emit()
    if not QUICK:
        emit("10000 recipients through the proxy: one run each of postie and msmtp (about 200 s "
             "for postie alone), and no curl run (it pays the same round trip per recipient).")
        emit()


# --- scenario 4 --------------------------------------------------------------------------

def scenario4(targets):
    emit("## 4. 1000 messages (bench/sink)")
    emit()
    msg = os.path.join(WORK, "m1k")
    n = 100 if QUICK else 1000
    rounds = 1 if QUICK else 3
    p = SINK_PORT
    queue_one = postie(p, msg, args=("-odq",), name="postie -odq")
    queue_one.is_postie = False
    flush = Tool("postie -q", [POSTIE, "-q"], None, queue_one.env)
    single = {"postie": postie(p, msg), "msmtp": msmtp(p, msg)}
    say(f"scenario 4: {n} messages: {rounds} queue flushes, {n} runs of msmtp and postie")
    flushes, enqueue = [], []
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in range(n):
            queue_one.run()
        enqueue.append(time.perf_counter() - t0)
        if len(os.listdir(os.path.join(QUEUE, "q"))) != 2 * n:  # <id>.msg and <id>.env
            raise SystemExit("bench: postie -odq did not queue every message")
        before = len(sink_messages())
        flushes.append(flush.run())
        if len(sink_messages()) - before != n:
            raise SystemExit("bench: postie -q did not deliver every message")
        check_queue_empty("postie -q")
    singles = {k: [] for k in single}
    before = len(sink_messages())
    for _ in range(n):  # alternating, one process each
        for k, t in single.items():
            singles[k].append(t.run())
    if len(sink_messages()) - before != 2 * n:
        raise SystemExit("bench: a single run lost a message")
    total = {k: sum(r["wall"] for r in v) for k, v in singles.items()}
    cpu = {k: sum(r["cpu"] for r in v) for k, v in singles.items()}
    fl = med(flushes, "wall")
    emit(f"`postie -q` flushing {n} queued 1 KiB messages over one connection ({rounds} times: "
         f"median); against {n} runs of msmtp and {n} of postie, one process a message, "
         "alternating (sum of their wall and CPU times). Every delivery counted at the sink; "
         "the queue checked empty after each flush.")
    emit()
    emit("| what | wall s | CPU s | per message ms |")
    emit("|---|---:|---:|---:|")
    emit(f"| postie -q ({n} queued) | {fl:.3f} | {med(flushes, 'cpu'):.3f} | {fl / n * 1000:.2f} |")
    emit(f"| {n} x msmtp | {total['msmtp']:.3f} | {cpu['msmtp']:.3f} "
         f"| {total['msmtp'] / n * 1000:.2f} |")
    emit(f"| {n} x postie | {total['postie']:.3f} | {cpu['postie']:.3f} "
         f"| {total['postie'] / n * 1000:.2f} |")
    emit(f"| (queueing: {n} x postie -odq) | {statistics.median(enqueue):.3f} | | "
         f"{statistics.median(enqueue) / n * 1000:.2f} |")
    emit()
    emit("| ratio | |")
    emit("|---|---:|")
    emit(f"| {n} x msmtp / postie -q | {total['msmtp'] / fl:.1f} |")
    emit(f"| {n} x postie / postie -q | {total['postie'] / fl:.1f} |")
    emit(f"| {n} x msmtp / {n} x postie | {total['msmtp'] / total['postie']:.1f} |")
    emit()
    x = total["msmtp"] / fl
    targets.append((f"{n} queued: postie -q >= 50 x faster than {n} msmtp runs", f"{x:.1f}",
                    x >= 50))


# --- the report --------------------------------------------------------------------------

def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout.strip()
    except OSError:
        return "?"


def header(started, elapsed):
    model = sh("lscpu | sed -n 's/^Model name: *//p' | head -1")
    mem = sh("free -h | awk '/^Mem:/ {print $2}'")
    curl_pkg = sh("dpkg-query -W -f='${Version}' libcurl4")
    with open("/proc/loadavg") as f:
        load = " ".join(f.read().split()[:3])
    lines = [
        "# postie benchmarks",
        "",
        "Written by `bench/run` (see bench/README.md); do not edit by hand. "
        + ("**A quick smoke run (BENCH_QUICK=1): too few repetitions to judge by.** " if QUICK else "")
        + ("Only scenario 2b ran (`BENCH_ONLY=sizes bench/run`); a plain `bench/run` runs them all."
           if ENV.get("BENCH_ONLY") == "sizes" else ""),
        "",
        f"- date: {started:%Y-%m-%d %H:%M %Z} (the whole run took {elapsed / 60:.1f} min)",
        f"- machine: {sh('nproc')} CPUs ({model}), {mem} memory, Linux {platform.release()}",
        f"- postie: {sh(POSTIE + ' --version | head -1')} ({ENV.get('BENCH_REVISION', '?')}, "
        "built with CFLAGS='-O2 -g')",
        f"- libcurl: {sh('pkg-config --modversion libcurl')} "
        f"({curl_pkg})",
        f"- msmtp: {sh('msmtp --version | head -1')}",
        f"- curl: {sh('curl --version | head -1')}",
        f"- smtp-sink: Postfix {ENV.get('BENCH_POSTFIX_VERSION', '?')} (unpacked, not installed)",
        f"- valgrind: {sh('valgrind --version')}",
        f"- load average at the end: {load} (other work on the "
        "machine shows in the wall times; CPU times and instruction counts are steadier)",
        "",
    ]
    return lines


def main():
    started = datetime.datetime.now().astimezone()
    t0 = time.perf_counter()
    targets = []
    os.makedirs(QUEUE, exist_ok=True)
    only = ENV.get("BENCH_ONLY")  # "sizes": scenario 2b alone
    if only == "sizes":
        scenario_sizes(targets)
    else:
        scenario1(targets)
        scenario2(targets)
        scenario_sizes(targets)
        profiles(None)
        scenario3(targets)
        scenario4(targets)
    emit("## Targets")
    emit()
    emit("| target | measured | met |")
    emit("|---|---|---|")
    for what, figure, ok in targets:
        emit(f"| {what} | {figure} | {'-' if ok is None else 'yes' if ok else '**no**'} |")
    emit()
    with open(RESULTS, "w") as f:
        f.write("\n".join(header(started, time.perf_counter() - t0) + out_lines) + "\n")
        notes = ENV.get("BENCH_NOTES")
        if notes and os.path.exists(notes):
            with open(notes) as n:
                f.write("\n" + n.read())


if __name__ == "__main__":
    main()
