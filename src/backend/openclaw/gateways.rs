//! The gateways of a state dir: their lock files, the owner lease, and the lifetimes on
//! record (`gateway_boot_lifecycle`, or dead gateways' locks).

use super::*;

/// One `gateway.*.lock` file.
#[derive(Debug, Clone, Serialize)]
pub struct GatewayLock {
    pub path: PathBuf,
    pub pid: Option<i64>,
    /// /proc starttime ticks of the gateway (`startTime`).
    pub starttime: Option<u64>,
    #[serde(serialize_with = "crate::timefmt::ser_opt_ms")]
    pub created_at: Option<i64>,
    pub port: Option<u16>,
    pub state: Option<PidState>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A `gateway-owner` lease in `<state>/state/openclaw.sqlite` (2026.9).
#[derive(Debug, Clone, Serialize)]
pub struct Lease {
    pub path: PathBuf,
    pub pid: i64,
    pub starttime: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    #[serde(serialize_with = "crate::timefmt::ser_opt_ms")]
    pub expires_at: Option<i64>,
    pub state: PidState,
}

/// The gateway lifetimes in `<state>/state/openclaw.sqlite` (`gateway_boot_lifecycle`,
/// both eras), oldest first; None when that table cannot be read. Only these columns are
/// read: the database also holds key material.
pub fn read_lifetimes(state: &Path) -> Option<Vec<Lifetime>> {
    let db = state.join("state").join("openclaw.sqlite");
    if !db.is_file() || crate::backend::contained(state, &db).is_err() {
        return None;
    }
    let conn = open_read_only(&db).ok()?;
    let cols = columns(&conn, "gateway_boot_lifecycle").ok()?;
    if !["pid", "started_at_ms", "outcome"]
        .iter()
        .all(|c| cols.iter().any(|x| x == c))
    {
        return None;
    }
    let reason = if cols.iter().any(|c| c == "reason") {
        "reason"
    } else {
        "NULL"
    };
    let mut st = conn
        .prepare(&format!(
            "SELECT pid, started_at_ms, outcome, {reason} FROM gateway_boot_lifecycle \
             ORDER BY started_at_ms LIMIT 100000"
        ))
        .ok()?;
    let rows = st
        .query_map([], |r| {
            Ok((
                r.get_ref(0).ok().and_then(lenient_i64),
                r.get_ref(1).ok().and_then(lenient_i64),
                r.get_ref(2).ok().and_then(lenient_string),
                r.get_ref(3).ok().and_then(lenient_string),
            ))
        })
        .ok()?;
    let mut out = Vec::new();
    for (pid, started, outcome, reason) in rows.flatten() {
        if let (Some(pid), Some(started)) = (pid, crate::backend::sane_ms(started)) {
            out.push(Lifetime {
                pid,
                started_ms: started,
                clean: outcome.as_deref() == Some("clean_stop"),
                outcome,
                reason,
                source: db.clone(),
            });
        }
    }
    Some(out)
}

/// Without a lifecycle table: every dead gateway's lock left behind is a lifetime that
/// did not end cleanly (a clean stop deletes its lock), from the lock's `createdAt`.
pub(super) fn lifetimes_from_locks(scan: &StateDirScan) -> Vec<Lifetime> {
    let mut out: Vec<Lifetime> = scan
        .locks
        .iter()
        .filter(|l| matches!(l.state, Some(PidState::Dead | PidState::Reused)))
        .filter_map(|l| {
            Some(Lifetime {
                pid: l.pid?,
                started_ms: l.created_at?,
                clean: false,
                outcome: None,
                reason: None,
                source: l.path.clone(),
            })
        })
        .collect();
    out.sort_by_key(|l| l.started_ms);
    out
}

/// Directories where gateway locks live: `<state>/tmp/openclaw-<uid>/` (2026.9) and
/// `$TMPDIR/openclaw-<uid>/` (2026.7), plus `/tmp/openclaw-<uid>/` when TMPDIR is elsewhere.
///
/// The gateway names the dir after its own uid: root checking another user's state dir
/// looks under that user's uid (the state dir's owner) as well as its own.
pub(super) fn lock_dirs(state: &Path, cfg: &Config, uid: u32) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = Vec::new();
    for d in lock_dir_candidates(state, cfg, uid) {
        if d.is_dir() && !out.iter().any(|o| same_dir(o, &d)) {
            out.push(d);
        }
    }
    out
}

/// Every place [`lock_dirs`] looks, whether it exists or not (`watch` waits for them).
pub fn lock_dir_candidates(state: &Path, cfg: &Config, uid: u32) -> Vec<PathBuf> {
    use std::os::unix::fs::MetadataExt;
    let mut uids = vec![uid];
    if let Ok(m) = fs::metadata(state) {
        if m.uid() != uid {
            uids.push(m.uid());
        }
    }
    let tmp = cfg
        .env
        .get("TMPDIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/tmp"));
    let mut dirs = Vec::new();
    for u in uids {
        let leaf = format!("openclaw-{u}");
        dirs.push(state.join("tmp").join(&leaf));
        dirs.push(tmp.join(&leaf));
        dirs.push(PathBuf::from("/tmp").join(&leaf));
    }
    dirs
}

pub(super) fn gather_gateways(scan: &mut StateDirScan, cfg: &Config, host: &Host) {
    let state = scan.state_dir.clone();
    let state_tmp = state.join("tmp");
    for dir in lock_dirs(&state, cfg, host.uid) {
        let in_state = dir.starts_with(&state_tmp);
        let Ok(rd) = fs::read_dir(&dir) else { continue };
        let mut files: Vec<PathBuf> = rd
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("gateway.") && n.ends_with(".lock"))
            })
            .collect();
        files.sort();
        for f in files {
            let (lock, owner) = parse_gateway_lock(&f, host);
            if let Some(err) = &lock.error {
                if in_state || owner.as_ref().is_some_and(|o| same_dir(o, &state)) {
                    scan.problems.push(problem(&f, err.clone()));
                }
                continue;
            }
            let belongs = in_state || owner.as_ref().is_some_and(|o| same_dir(o, &state));
            if !belongs {
                continue;
            }
            if let Some(pid) = lock.pid {
                scan.owners.claims.push(Claim {
                    kind: "gateway-lock",
                    path: Some(f.clone()),
                    pid,
                    starttime: lock.starttime,
                    created_ms: lock.created_at,
                    state: lock.state.unwrap_or(PidState::Invalid),
                    owner_start_ms: lock.starttime.and_then(|t| host.ticks_to_ms(t)),
                });
            }
            scan.locks.push(lock);
        }
    }
    read_lease(scan, host);
    for p in host
        .processes
        .iter()
        .filter(|p| p.kind == ProcKind::Gateway)
    {
        match p.serves(&state) {
            Some(true) => scan.owners.running.push(RunningOwner {
                kind: "gateway-process",
                pid: p.pid,
                start_ms: p.started_at,
                path: None,
            }),
            Some(false) => {}
            None => scan.owners.unverified.push(match (&p.dir, p.ns_pid) {
                (Some(d), _) => format!(
                    "gateway pid {} runs in another mount namespace (a container?) for {}, which cannot be matched to this state dir",
                    p.pid,
                    d.display()
                ),
                _ => format!(
                    "gateway pid {} runs, but its state dir cannot be read",
                    p.pid
                ),
            }),
        }
    }
    // A gateway that has not set its title yet (its first seconds) or a client that may run
    // an agent itself: while one runs for this state dir, nothing in it is proven orphaned.
    for p in host
        .processes
        .iter()
        .filter(|p| p.kind == ProcKind::Openclaw)
    {
        if p.serves(&state) == Some(true) {
            scan.owners.unverified.push(format!(
                "OpenClaw process pid {} (`{}`) runs for this state dir: a starting gateway, or a client that may run an agent itself",
                p.pid,
                p.argv.split(' ').next().unwrap_or_default()
            ));
        }
    }
    if !host.proc_available {
        // Without /proc a gateway cannot be verified; a lock whose port answers /healthz
        // says one may be running.
        for l in &scan.locks {
            if let Some(port) = l.port {
                if crate::probe::http_health(port, "/healthz").answered {
                    scan.owners.unverified.push(format!(
                        "a gateway answers /healthz on port {port} (no /proc to verify it)"
                    ));
                }
            }
        }
    }
}

/// Parse a gateway lock (one-line JSON in 2026.7; pretty JSON plus a whitespace trailer in
/// 2026.9). Returns the lock and the state dir it names, if any.
pub(super) fn parse_gateway_lock(path: &Path, host: &Host) -> (GatewayLock, Option<PathBuf>) {
    let mut lock = GatewayLock {
        path: path.to_path_buf(),
        pid: None,
        starttime: None,
        created_at: None,
        port: None,
        state: None,
        error: None,
    };
    let bytes = match crate::backend::read_small(path, crate::backend::SMALL_FILE) {
        Ok(b) => b,
        Err(e) => {
            lock.error = Some(format!("cannot read gateway lock: {}", io_msg(&e)));
            return (lock, None);
        }
    };
    let m = match serde_json::from_slice::<serde_json::Value>(&bytes) {
        Ok(serde_json::Value::Object(m)) => m,
        Ok(_) => {
            lock.error = Some("gateway lock is not a JSON object".into());
            return (lock, None);
        }
        Err(_) => {
            lock.error = Some("gateway lock is not JSON".into());
            return (lock, None);
        }
    };
    let sc = |k: &str| m.get(k).map(scalar_of).unwrap_or_default();
    lock.pid = sc("pid").as_i64();
    lock.starttime = sc("startTime")
        .as_u64()
        .or_else(|| sc("starttime").as_u64());
    lock.created_at = sc("createdAt").as_str().and_then(parse_iso_ms);
    lock.port = sc("port").as_u64().and_then(|p| u16::try_from(p).ok());
    match lock.pid {
        Some(p) => {
            let st = host.check_pid(p, lock.starttime);
            if st == PidState::Invalid {
                lock.error = Some(format!(
                    "gateway lock names pid {p}, which cannot be an owner"
                ));
            }
            lock.state = Some(st);
        }
        None => lock.error = Some("gateway lock has no numeric pid".into()),
    }
    let owner = sc("stateDir").as_str().map(PathBuf::from).or_else(|| {
        sc("configPath")
            .as_str()
            .and_then(|c| Path::new(c).parent().map(Path::to_path_buf))
    });
    (lock, owner)
}

/// The 2026.9 gateway-owner lease. The global DB also holds key material: only
/// `state_leases` is read, and only its owner fields leave this function.
pub(super) fn read_lease(scan: &mut StateDirScan, host: &Host) {
    let db = scan.state_dir.join("state").join("openclaw.sqlite");
    if !db.is_file() {
        return;
    }
    let Ok(conn) = open_read_only(&db) else {
        return;
    };
    let cols = columns(&conn, "state_leases").unwrap_or_default();
    if !["scope", "payload_json"]
        .iter()
        .all(|c| cols.iter().any(|x| x == c))
    {
        return;
    }
    let exp = if cols.iter().any(|c| c == "expires_at") {
        "expires_at"
    } else {
        "NULL"
    };
    let created = if cols.iter().any(|c| c == "updated_at") {
        "updated_at"
    } else {
        "NULL"
    };
    let sql = format!(
        "SELECT payload_json, {exp}, {created} FROM state_leases WHERE scope = 'gateway-owner' \
         AND length(payload_json) < 65536 LIMIT 16"
    );
    let Ok(mut st) = conn.prepare(&sql) else {
        return;
    };
    let Ok(mut rows) = st.query([]) else { return };
    while let Ok(Some(r)) = rows.next() {
        let payload = r
            .get_ref(0)
            .ok()
            .and_then(lenient_string)
            .unwrap_or_default();
        let Ok(v) = serde_json::from_str::<serde_json::Value>(&payload) else {
            continue;
        };
        let owner = &v["owner"];
        let Some(pid) = owner.get("pid").map(scalar_of).and_then(|s| s.as_i64()) else {
            continue;
        };
        let starttime = owner
            .get("startedAt")
            .map(scalar_of)
            .and_then(|s| s.as_u64());
        let lease_host = owner.get("host").and_then(|h| h.as_str()).map(String::from);
        if let (Some(lh), Some(me)) = (&lease_host, &host.hostname) {
            if lh != me {
                // Another host's gateway (a state dir on a shared home over NFS): its pid
                // means nothing here. While its lease is current it may own this state
                // dir, and nothing sessionctl can check says otherwise.
                let expires = r.get_ref(1).ok().and_then(lenient_i64);
                if expires.is_none_or(|e| e > crate::timefmt::now_ms()) {
                    scan.owners.unverified.push(format!(
                        "a gateway on host {} (pid {pid} there) holds the gateway-owner lease in {}{}",
                        crate::report::escape_control(lh),
                        db.display(),
                        expires
                            .map(|e| format!(" until {}", crate::timefmt::iso_ms(e)))
                            .unwrap_or_default()
                    ));
                }
                continue;
            }
        }
        let state = host.check_pid(pid, starttime);
        let lease = Lease {
            path: db.clone(),
            pid,
            starttime,
            host: lease_host,
            expires_at: r.get_ref(1).ok().and_then(lenient_i64),
            state,
        };
        if state != PidState::Invalid {
            scan.owners.claims.push(Claim {
                kind: "gateway-lease",
                path: Some(db.clone()),
                pid,
                starttime,
                created_ms: None,
                state,
                owner_start_ms: starttime.and_then(|t| host.ticks_to_ms(t)),
            });
        }
        scan.leases.push(lease);
    }
}
