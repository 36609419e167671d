//! The file store of 2026.7 and before (`agents/<id>/sessions/sessions.json`) and its
//! session lock files.

use super::*;

pub(super) fn read_file_store(
    scan: &mut StateDirScan,
    agent_id: &str,
    path: &Path,
    host: &Host,
    link_keys: &LinkKeys<'_>,
    since: Option<i64>,
) {
    let file = match crate::backend::open_regular(path) {
        Ok(f) => f,
        Err(e) => {
            scan.problems
                .push(problem(path, format!("cannot read: {}", io_msg(&e))));
            return;
        }
    };
    let map = match super::entries::read_entry_map(file) {
        Some(m) => m,
        // Not a valid JSON object: read it again the slow way for serde_json's message.
        None => match crate::backend::open_regular(path)
            .map_err(|e| format!("cannot read: {}", io_msg(&e)))
            .and_then(|f| {
                serde_json::from_reader::<_, EntryMap>(BufReader::new(f)).map_err(|e| json_msg(&e))
            }) {
            Ok(m) => m,
            Err(msg) => {
                scan.problems.push(problem(path, msg));
                return;
            }
        },
    };
    let sessions_dir = path.parent().unwrap_or(Path::new("."));
    // Parsed: now the links need the keys the linked rows name (their readers may still run).
    let link_keys = link_keys();
    for (key, e) in map.0 {
        if !e.is_object {
            scan.problems.push(problem(
                path,
                format!("entry `{key}` is not a JSON object; skipped"),
            ));
            continue;
        }
        let Some(sid) = e.session_id.as_str().filter(|s| !s.is_empty()) else {
            scan.problems.push(problem(
                path,
                format!("entry `{key}` has no sessionId; skipped"),
            ));
            continue;
        };
        let status = e.status.as_str().unwrap_or("").to_string();
        if link_keys.contains(key.as_str()) {
            scan.links.push(LinkEntry {
                session_key: key.clone(),
                session_id: sid.to_string(),
                status: status.clone(),
                session_file: e.session_file.as_str().map(String::from),
            });
        }
        if status != "running" {
            if let Some(since) = since {
                let turns = turn_times(&e);
                if turns.iter().any(|t| *t >= since) {
                    let s = base_session(scan, agent_id, &key, &e, path, StoreKind::File);
                    scan.ended.push((s, turns));
                }
            }
            continue;
        }
        let mut s = base_session(scan, agent_id, &key, &e, path, StoreKind::File);
        let mut facts = OpenclawSession {
            last_activity_ms: s.last_activity_at,
            lock: None,
            // 2026.7 recovery marks interrupted sessions failed and re-runs none.
            queued: false,
        };
        if safe_id(sid) {
            let lock_path = sessions_dir.join(format!("{sid}.jsonl.lock"));
            if let Some(lf) = read_session_lock(&lock_path) {
                if let Some(err) = &lf.error {
                    scan.problems.push(problem(&lock_path, err.clone()));
                }
                if let Detail::Openclaw(d) = &mut s.detail {
                    d.lock = Some(lf);
                }
            }
        } else {
            scan.problems.push(problem(
                path,
                format!("entry `{key}` has an unusable sessionId; its lock file is not looked up"),
            ));
        }
        if let Detail::Openclaw(d) = &s.detail {
            if let Some(lf) = &d.lock {
                if let Some(pid) = lf.pid {
                    facts.lock = Some(Claim {
                        kind: "session-lock",
                        path: Some(lf.path.clone()),
                        pid,
                        starttime: lf.starttime,
                        created_ms: lf.created_at,
                        state: host.check_pid(pid, lf.starttime),
                        owner_start_ms: lf.starttime.and_then(|t| host.ticks_to_ms(t)),
                    });
                }
            }
        }
        scan.sessions.push((s, facts));
    }
}

/// Parse a `<sessionId>.jsonl.lock`; None when there is no such file.
pub(super) fn read_session_lock(path: &Path) -> Option<LockFile> {
    let bytes = match crate::backend::read_small(path, crate::backend::SMALL_FILE) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => {
            return Some(LockFile {
                path: path.to_path_buf(),
                pid: None,
                starttime: None,
                created_at: None,
                error: Some(format!("cannot read lock file: {}", io_msg(&e))),
            })
        }
    };
    let mut lf = LockFile {
        path: path.to_path_buf(),
        pid: None,
        starttime: None,
        created_at: None,
        error: None,
    };
    match serde_json::from_slice::<serde_json::Value>(&bytes) {
        Ok(serde_json::Value::Object(m)) => {
            let sc = |k: &str| m.get(k).map(scalar_of).unwrap_or_default();
            lf.pid = sc("pid").as_i64();
            lf.starttime = sc("starttime")
                .as_u64()
                .or_else(|| sc("startTime").as_u64());
            lf.created_at = sc("createdAt")
                .as_str()
                .and_then(parse_iso_ms)
                .or_else(|| sc("createdAt").as_ms());
            match lf.pid {
                None => lf.error = Some("lock file has no numeric pid".into()),
                Some(p) if p <= 0 || p > i64::from(i32::MAX) => {
                    lf.error = Some(format!("lock file names pid {p}, which cannot be an owner"))
                }
                _ => {}
            }
        }
        Ok(_) => lf.error = Some("lock file is not a JSON object".into()),
        Err(_) => lf.error = Some("lock file is not JSON".into()),
    }
    Some(lf)
}

pub(super) fn scalar_of(v: &serde_json::Value) -> Scalar {
    match v {
        serde_json::Value::String(s) => Scalar::Str(s.clone()),
        serde_json::Value::Number(n) => n.as_f64().map(Scalar::Num).unwrap_or_default(),
        _ => Scalar::Other,
    }
}
