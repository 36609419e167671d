//! `close` on a real terminal: sessionctl runs in a detached tmux session of a fixed size
//! (120x40), keys go in with `tmux send-keys` and what the terminal shows comes back with
//! `tmux capture-pane -p`, i.e. as a person would see it (escape sequences already
//! interpreted by tmux). The picker: arrows and space choose, enter accepts, `q` and Esc
//! cancel with nothing done, at the list and at the confirmation; a long list pages; stored
//! text in labels is escaped.

use std::collections::BTreeSet;
use std::fs;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::close::*;
use crate::common::*;

const WAIT: Duration = Duration::from_secs(10);
const PROMPT: &str = "Orphans to close";

/// A tmux server of its own (socket in the sandbox, no config file) with one session `t`
/// running one sessionctl command; killed on drop.
struct Tmux {
    sock: PathBuf,
}

impl Tmux {
    fn available() -> bool {
        Command::new("tmux")
            .arg("-V")
            .stdin(Stdio::null())
            .output()
            .is_ok_and(|o| o.status.success())
    }

    /// `sessionctl <h.args(args)>` in a 120x40 terminal; when it exits the pane shows
    /// `[exited N]`.
    fn start(h: &Host, args: &[&str]) -> Tmux {
        let q = |a: &str| format!("'{}'", a.replace('\'', "'\\''"));
        let root = h.root();
        let mut line = format!(
            "env -i PATH={} HOME={} TMPDIR={} NO_COLOR=1 TERM=\"$TERM\" HOOK_TOKEN={} {}",
            q(&std::env::var("PATH").unwrap_or_default()),
            q(&h.fx.sandbox.home().to_string_lossy()),
            q(&h.fx.tmp().to_string_lossy()),
            q(HOOK_TOKEN),
            q(env!("CARGO_BIN_EXE_sessionctl")),
        );
        for a in h.args(args) {
            line.push(' ');
            line.push_str(&q(&a));
        }
        let script = root.join("picker.sh");
        fs::write(
            &script,
            format!(
                "cd {}\n{line}\necho \"[exited $?]\"\nexec sleep 600\n",
                q(&root.to_string_lossy())
            ),
        )
        .unwrap();
        let t = Tmux {
            sock: root.join("tmux.sock"),
        };
        t.tmux(&[
            "new-session",
            "-d",
            "-s",
            "t",
            "-x",
            "120",
            "-y",
            "40",
            "/bin/sh",
            &script.to_string_lossy(),
        ]);
        t
    }

    fn tmux(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .arg("-S")
            .arg(&self.sock)
            .args(["-f", "/dev/null"])
            .args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("TERM", "xterm-256color")
            .stdin(Stdio::null())
            .output()
            .expect("run tmux");
        assert!(
            out.status.success(),
            "tmux {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Press these keys (tmux key names: `Down`, `Space`, `Enter`, `Escape`, `q`).
    fn keys(&self, keys: &[&str]) {
        let mut a = vec!["send-keys", "-t", "t"];
        a.extend_from_slice(keys);
        self.tmux(&a);
    }

    /// The visible screen, as text.
    fn screen(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-t", "t"])
    }

    /// Wait until the screen shows `text`; the screen then.
    fn wait_for(&self, text: &str) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let s = self.screen();
            if s.contains(text) {
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "timed out after {WAIT:?} waiting for {text:?}; the screen:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// Wait for sessionctl to exit; its exit code and the screen.
    fn exit(&self) -> (i32, String) {
        let s = self.wait_for("[exited ");
        let code = s
            .split("[exited ")
            .nth(1)
            .and_then(|r| r.split(']').next())
            .and_then(|c| c.parse().ok())
            .unwrap_or_else(|| panic!("no exit code on the screen:\n{s}"));
        (code, s)
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .arg("-S")
            .arg(&self.sock)
            .arg("kill-server")
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

macro_rules! need_tmux {
    ($name:literal) => {
        if !Tmux::available() {
            // Past the test harness's capture, as the other tool tests report it.
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                concat!("SKIPPED: ", $name, " (tmux is not installed; Debian: tmux)")
            );
            return;
        }
    };
}

/// The 2026.7.35 after-kill scenario with more running OpenClaw entries (orphans: no
/// gateway, no lock) under these keys and sessionIds, and the `rec` command target.
fn host_with(entries: &[(String, String)]) -> Host {
    let h = Host::new(Base::File735);
    if !entries.is_empty() {
        let mut store = read_json(&h.sessions_json());
        let slow = store[SLOW_KEY].clone();
        for (key, sid) in entries {
            let mut e = slow.clone();
            e["sessionId"] = sid.as_str().into();
            e.as_object_mut().unwrap().remove("sessionFile");
            store[key.as_str()] = e;
        }
        fs::write(
            h.sessions_json(),
            serde_json::to_vec_pretty(&store).unwrap(),
        )
        .unwrap();
    }
    h.configure(&[h.rec()]);
    h
}

/// The plan's groups, in the picker's order.
fn planned(h: &Host) -> Vec<Value> {
    let (out, doc) = h.close_json(&["--dry-run"]);
    assert_eq!(out.code, 0, "{out:?}");
    doc["items"].as_array().cloned().unwrap_or_default()
}

fn ids_of(item: &Value) -> BTreeSet<String> {
    item["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect()
}

/// The stores, byte for byte.
fn stores(h: &Host) -> Vec<(PathBuf, std::collections::BTreeMap<PathBuf, Entry>)> {
    [h.state(), h.cm.clone()]
        .into_iter()
        .map(|d| {
            let t = tree_snapshot(&d);
            (d, t)
        })
        .collect()
}

fn no_runs(h: &Host) -> bool {
    !h.journal.exists() || h.journal_lines().iter().all(|l| l["type"] != "run")
}

/// (a) Down, space deselects the second orphan, enter, `y`: exactly the others are closed.
#[test]
fn picker_space_deselects_one_and_the_rest_are_closed() {
    need_tmux!("picker_space_deselects_one_and_the_rest_are_closed");
    let h = host_with(&[]);
    let items = planned(&h);
    assert!(items.len() >= 3, "{items:#?}");
    let groups: Vec<String> = items
        .iter()
        .map(|i| i["group"].as_str().unwrap().to_string())
        .collect();
    // Each line shows its group's verdict: `owed` for the finished e2e-1/e2e-2 (listed
    // first), `orphan` for the rest.
    let verdicts: Vec<String> = items
        .iter()
        .map(|i| i["sessions"][0]["verdict"].as_str().unwrap().to_string())
        .collect();
    let t = Tmux::start(&h, &["close"]);
    let s = t.wait_for(PROMPT);
    for (g, v) in groups.iter().zip(&verdicts) {
        assert!(s.contains(&format!("[x] {g}  {v}")), "{g}:\n{s}");
    }
    t.keys(&["Down", "Space"]);
    let s = t.wait_for(&format!("[ ] {}  {}", groups[1], verdicts[1]));
    assert!(
        s.contains(&format!("[x] {}  {}", groups[0], verdicts[0])),
        "{s}"
    );
    t.keys(&["Enter"]);
    t.wait_for(&format!("Close {} session group(s)?", groups.len() - 1));
    t.keys(&["y"]);
    let (code, s) = t.exit();
    assert_eq!(code, 0, "{s}");

    // The journal has one close run, whose actions touched exactly the chosen sessions.
    let runs: Vec<Value> = h
        .journal_lines()
        .into_iter()
        .filter(|l| l["type"] == "run")
        .collect();
    assert_eq!(runs.len(), 1, "{runs:#?}");
    let run = runs[0]["run"].as_str().unwrap();
    let (out, doc) = h.fx.json(h.args(&["journal", run]), &[]);
    assert_eq!(out.code, 0, "{out:?}");
    let touched: BTreeSet<String> = doc["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["session"]["id"].as_str().unwrap().to_string())
        .collect();
    let mut chosen = BTreeSet::new();
    for (n, i) in items.iter().enumerate() {
        if n != 1 {
            chosen.extend(ids_of(i));
        }
    }
    assert_eq!(touched, chosen, "{doc:#}");
    // The stores: the deselected group is still an active orphan (or still owed its
    // session_end), the others are gone.
    let (out, list) = h.fx.json(h.args(&["list"]), &[]);
    assert_eq!(out.code, 0, "{out:?}");
    let active: BTreeSet<String> = sessions(&list)
        .iter()
        .filter(|s| s["verdict"] == "orphan" || s["verdict"] == "owed")
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(active, ids_of(&items[1]), "{list:#}");
    // Hook payloads went out for the chosen groups only.
    let keys: BTreeSet<String> = h
        .cmd_lines()
        .iter()
        .filter_map(|p| p["event"]["sessionKey"].as_str().map(String::from))
        .collect();
    assert!(!keys.contains(&groups[1]), "{keys:?}");
    assert!(keys.contains(&groups[0]), "{keys:?}");
}

/// `key` at the list, or at the confirmation after enter: nothing closed, no byte of a
/// store changed, no run in the journal.
fn cancel_with(key: &str, at_confirm: bool) {
    let h = host_with(&[]);
    let before = stores(&h);
    let t = Tmux::start(&h, &["close"]);
    t.wait_for(PROMPT);
    if at_confirm {
        t.keys(&["Enter"]);
        t.wait_for("session group(s)?");
    }
    t.keys(&[key]);
    let (code, s) = t.exit();
    assert_eq!(code, 0, "{key} (at confirm: {at_confirm}):\n{s}");
    assert!(s.contains("nothing closed"), "{key}:\n{s}");
    for (dir, snap) in &before {
        assert_tree_unchanged(
            snap,
            &tree_snapshot(dir),
            &format!("{key} at confirm: {at_confirm}"),
        );
    }
    assert!(no_runs(&h), "{:#?}", h.journal_lines());
    assert!(h.cmd_lines().is_empty(), "a payload was delivered");
}

/// (b) `q` cancels, at the list and at the confirmation.
#[test]
fn picker_q_cancels_with_nothing_done() {
    need_tmux!("picker_q_cancels_with_nothing_done");
    cancel_with("q", false);
    cancel_with("q", true);
}

/// (c) Esc cancels, at the list and at the confirmation.
#[test]
fn picker_esc_cancels_with_nothing_done() {
    need_tmux!("picker_esc_cancels_with_nothing_done");
    cancel_with("Escape", false);
    cancel_with("Escape", true);
}

/// (d) 200 more orphans than fit on the terminal: the list pages; the first orphan is on
/// the first page, the last on the last one, reached with →.
#[test]
fn picker_pages_through_200_orphans() {
    need_tmux!("picker_pages_through_200_orphans");
    let entries: Vec<(String, String)> = (0..200)
        .map(|n| {
            (
                format!("agent:main:bulk-{n:03}"),
                format!("5e55e55e-0000-4000-8000-{n:012}"),
            )
        })
        .collect();
    let h = host_with(&entries);
    let items = planned(&h);
    assert!(items.len() > 200, "{}", items.len());
    let label = |i: &Value| format!("] {}  orphan", i["group"].as_str().unwrap());
    let (first, last) = (label(&items[0]), label(&items[items.len() - 1]));
    let t = Tmux::start(&h, &["close"]);
    let s = t.wait_for(PROMPT);
    assert!(s.contains(&first), "{s}");
    assert!(!s.contains(&last), "{s}");
    let pages = s
        .split("Page 1/")
        .nth(1)
        .and_then(|r| r.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse::<usize>().ok())
        .unwrap_or_else(|| panic!("no page count on the screen:\n{s}"));
    assert!(pages >= 5, "{pages} pages of 40 rows for {}", items.len());
    for p in 2..=pages {
        t.keys(&["Right"]);
        t.wait_for(&format!("Page {p}/{pages}"));
    }
    let s = t.wait_for(&last);
    assert!(!s.contains(&first), "{s}");
    t.keys(&["q"]);
    let (code, s) = t.exit();
    assert_eq!(code, 0, "{s}");
    assert!(no_runs(&h));
}

/// (e) Session keys with an OSC title sequence, a clear-screen, CR and U+202E show as
/// visible escapes; the terminal's title and screen are untouched.
#[test]
fn picker_shows_hostile_labels_escaped() {
    need_tmux!("picker_shows_hostile_labels_escaped");
    let h = host_with(&[
        (
            "agent:main:\u{1b}]0;pwned\u{7}".into(),
            "5e55e55e-0000-4000-8000-000000000001".into(),
        ),
        (
            "agent:main:\u{1b}[2J\rfake\u{202e}txt.exe".into(),
            "5e55e55e-0000-4000-8000-000000000002".into(),
        ),
    ]);
    let t = Tmux::start(&h, &["close"]);
    let title_before = t.tmux(&["display-message", "-p", "-t", "t", "#{pane_title}"]);
    t.wait_for(PROMPT);
    t.wait_for(r"[x] agent:main:\x1b]0;pwned\x07  orphan");
    let s = t.wait_for(r"[x] agent:main:\x1b[2J\rfake\u{202e}txt.exe  orphan");
    // The prompt is still on the screen: nothing cleared it.
    assert!(s.contains(PROMPT), "{s}");
    for raw in ['\u{1b}', '\u{7}', '\r', '\u{202e}'] {
        assert!(!s.contains(raw), "raw {raw:?} on the screen:\n{s:?}");
    }
    let title = t.tmux(&["display-message", "-p", "-t", "t", "#{pane_title}"]);
    assert!(!title.contains("pwned"), "the title became {title:?}");
    assert_eq!(title, title_before);
    t.keys(&["Escape"]);
    let (code, s) = t.exit();
    assert_eq!(code, 0, "{s}");
}
