//! What the targets tests share: config files, targets, payloads, and a tiny HTTP/1.1
//! server on loopback.

use crate::targets::*;
use serde_json::json;
use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

pub(super) fn keyless<'a>(jobs: &[(&'a Target, &'a serde_json::Value)]) -> Vec<Job<'a>> {
    jobs.iter()
        .map(|&(target, payload)| Job {
            target,
            payload,
            key: None,
        })
        .collect()
}

// ---- helpers --------------------------------------------------------------------

pub(super) const SECRET: &str = "Bearer s3cr3t-t0ken-do-not-print";

pub(super) fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |k| map.get(k).cloned()
}

pub(super) fn no_env(_: &str) -> Option<String> {
    None
}

pub(super) fn write_config(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    // Test-only (this module is `#[cfg(test)]`): a fresh private temp dir of the test's own.
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

/// Load `text` from a file and expect an error: one line, starting with the path.
pub(super) fn config_error(text: &str, getenv: &dyn Fn(&str) -> Option<String>) -> String {
    let (_dir, path) = write_config(text);
    let e = load(&path, true, getenv).expect_err("config should be rejected");
    let msg = e.to_string();
    let prefix = format!("{}: ", path.display());
    assert!(msg.starts_with(&prefix), "{msg:?} does not name the file");
    assert!(!msg.contains('\n'), "{msg:?} is not one line");
    msg[prefix.len()..].to_string()
}

pub(super) fn http_target(name: &str, url: &str, timeout_ms: u64, retries: u32) -> Target {
    Target {
        name: name.into(),
        kind: TargetKind::Http {
            url: url.into(),
            headers: vec![],
            retries,
        },
        timeout: Duration::from_millis(timeout_ms),
    }
}

pub(super) fn command_target(argv: &[&str], timeout_ms: u64) -> Target {
    Target {
        name: "cmd".into(),
        kind: TargetKind::Command {
            argv: argv.iter().map(|s| s.to_string()).collect(),
            env: vec![],
        },
        timeout: Duration::from_millis(timeout_ms),
    }
}

pub(super) fn payload() -> serde_json::Value {
    json!({
        "event": {"sessionId": "ae3ade86-9fb7-4837-a009-6fcc1c41c22b",
                  "sessionKey": "agent:main:e2e-slow", "messageCount": 0,
                  "reason": "shutdown"},
        "ctx": {"sessionId": "ae3ade86-9fb7-4837-a009-6fcc1c41c22b",
                "sessionKey": "agent:main:e2e-slow", "agentId": "main"}
    })
}

/// A loopback port that refuses connections: bound but never listening, and held for
/// as long as the returned socket lives, so no other test can take it meanwhile.
pub(super) fn refused_port() -> (std::os::fd::OwnedFd, u16) {
    use std::os::fd::FromRawFd;
    // SAFETY: plain socket calls on a socket we own; the structs are plain old data.
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0);
        assert!(fd >= 0, "socket: {}", io::Error::last_os_error());
        let fd = std::os::fd::OwnedFd::from_raw_fd(fd);
        let mut addr: libc::sockaddr_in = std::mem::zeroed();
        addr.sin_family = libc::AF_INET as _;
        addr.sin_addr.s_addr = u32::from_ne_bytes([127, 0, 0, 1]);
        let mut len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
        let raw = std::os::fd::AsRawFd::as_raw_fd(&fd);
        let sa = &mut addr as *mut libc::sockaddr_in as *mut libc::sockaddr;
        assert_eq!(
            libc::bind(raw, sa, len),
            0,
            "bind: {}",
            io::Error::last_os_error()
        );
        assert_eq!(libc::getsockname(raw, sa, &mut len), 0);
        (fd, u16::from_be(addr.sin_port))
    }
}

// ---- a tiny HTTP/1.1 server -----------------------------------------------------

#[derive(Debug, Clone)]
pub(super) struct Req {
    pub(super) method: String,
    pub(super) path: String,
    pub(super) headers: Vec<(String, String)>,
    pub(super) body: Vec<u8>,
}

impl Req {
    pub(super) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

pub(super) struct Reply {
    pub(super) status: u16,
    pub(super) body: String,
    pub(super) delay: Duration,
    /// Never answer; hold the connection until the client gives up.
    pub(super) hang: bool,
    /// Hang up without answering.
    pub(super) close: bool,
}

pub(super) fn status(code: u16) -> Reply {
    Reply {
        status: code,
        body: String::new(),
        delay: Duration::ZERO,
        hang: false,
        close: false,
    }
}

pub(super) fn hang() -> Reply {
    Reply {
        hang: true,
        ..status(0)
    }
}

pub(super) type Respond = dyn Fn(usize, &Req) -> Reply + Send + Sync;

pub(super) struct Server {
    pub(super) addr: SocketAddr,
    pub(super) reqs: Arc<Mutex<Vec<Req>>>,
    pub(super) max_in_flight: Arc<AtomicUsize>,
}

impl Server {
    /// `respond(n, request)` answers the n-th request (0-based, in arrival order).
    pub(super) fn start(respond: impl Fn(usize, &Req) -> Reply + Send + Sync + 'static) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let reqs = Arc::new(Mutex::new(Vec::new()));
        let in_flight = Arc::new(AtomicUsize::new(0));
        let max_in_flight = Arc::new(AtomicUsize::new(0));
        let respond: Arc<Respond> = Arc::new(respond);
        let (r, i, m) = (reqs.clone(), in_flight.clone(), max_in_flight.clone());
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let now = i.fetch_add(1, Ordering::SeqCst) + 1;
                m.fetch_max(now, Ordering::SeqCst);
                let (r, i, respond) = (r.clone(), i.clone(), respond.clone());
                thread::spawn(move || handle(stream, &r, &i, &*respond));
            }
        });
        Server {
            addr,
            reqs,
            max_in_flight,
        }
    }

    pub(super) fn script(statuses: &'static [u16]) -> Server {
        Server::start(move |n, _| status(statuses[n.min(statuses.len() - 1)]))
    }

    pub(super) fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub(super) fn requests(&self) -> Vec<Req> {
        self.reqs.lock().unwrap().clone()
    }
}

fn handle(mut s: TcpStream, reqs: &Mutex<Vec<Req>>, in_flight: &AtomicUsize, respond: &Respond) {
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let req = read_request(&mut s);
    let Some(req) = req else {
        in_flight.fetch_sub(1, Ordering::SeqCst);
        return;
    };
    let reply = {
        let mut all = reqs.lock().unwrap();
        let n = all.len();
        all.push(req.clone());
        drop(all);
        respond(n, &req)
    };
    if reply.hang {
        // Until the client hangs up (or the read timeout ends it).
        let mut buf = [0u8; 256];
        while matches!(s.read(&mut buf), Ok(n) if n > 0) {}
        in_flight.fetch_sub(1, Ordering::SeqCst);
        return;
    }
    if reply.close {
        in_flight.fetch_sub(1, Ordering::SeqCst);
        return;
    }
    thread::sleep(reply.delay);
    // Before answering: the client cannot start its next request before it has read
    // this answer, so the count never includes a finished exchange.
    in_flight.fetch_sub(1, Ordering::SeqCst);
    let head = format!(
        "HTTP/1.1 {} Scripted\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        reply.status,
        reply.body.len()
    );
    let _ = s.write_all(head.as_bytes());
    let _ = s.write_all(reply.body.as_bytes());
    let _ = s.flush();
}

fn read_request(s: &mut TcpStream) -> Option<Req> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p;
        }
        let n = s.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_string();
    let path = first.next()?.to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let len: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < len {
        let n = s.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Some(Req {
        method,
        path,
        headers,
        body,
    })
}
