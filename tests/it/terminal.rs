//! Text from stores, lock files, the journal and other processes reaches a terminal only
//! escaped: a session key or sessionId holding OSC and CSI sequences, CR, BEL, C1
//! controls or bidi overrides shows as visible escapes (`\x1b`, `\u{202e}`) in every text
//! output, and never drives the terminal. JSON output keeps the raw value.

use std::fs;
use std::time::Duration;

use serde_json::Value;

use crate::close::*;
use crate::common::*;

/// Set the terminal's title; clear the screen; return to column 0 and overwrite; reverse
/// what follows; a C1 CSI.
const TITLE_KEY: &str = "agent:main:\u{1b}]0;pwned\u{7}";
const CLEAR_KEY: &str = "agent:main:\u{1b}[2J\rfake\u{202e}txt.exe";
const TITLE_SID: &str = "5e55e55e-0000-4000-8000-000000000001";
const CLEAR_SID: &str = "5e55e55e-0000-4000-8000-000000000002";
/// sessionIds sessionctl finds unusable (a problem on stderr), still listed.
const HOSTILE_SIDS: [&str; 2] = [
    "\u{1b}]0;pwned\u{7}-0000-4000-8000-000000000003",
    "\u{202e}\u{9b}2J\r-0000-4000-8000-000000000004",
];

/// What must never reach a terminal raw.
const RAW: &[char] = &['\u{1b}', '\r', '\u{7}', '\u{202e}', '\u{9b}'];

fn assert_no_raw(out: &Out) {
    for c in RAW {
        assert!(
            !out.stdout.contains(*c) && !out.stderr.contains(*c),
            "raw {c:?} in the output of {:?}:\n{}\n{}",
            out.args,
            out.stdout.escape_debug(),
            out.stderr.escape_debug()
        );
    }
}

/// The 2026.7.35 after-kill store with more running entries (orphans: no gateway, no
/// lock) under these keys and sessionIds.
fn hostile_host(entries: &[(&str, &str)]) -> Host {
    let h = Host::new(Base::File735);
    let mut store = read_json(&h.sessions_json());
    let slow = store[SLOW_KEY].clone();
    for &(key, sid) in entries {
        let mut e = slow.clone();
        e["sessionId"] = sid.into();
        e.as_object_mut().unwrap().remove("sessionFile");
        store[key] = e;
    }
    fs::write(
        h.sessions_json(),
        serde_json::to_vec_pretty(&store).unwrap(),
    )
    .unwrap();
    h.configure(&[h.rec()]);
    h
}

#[test]
fn stored_text_is_escaped_on_every_text_output() {
    let h = hostile_host(&[(TITLE_KEY, TITLE_SID), (CLEAR_KEY, CLEAR_SID)]);

    // JSON keeps the raw values: the sessions are there, as stored.
    let (out, doc) = h.fx.json(h.args(&["list"]), &[]);
    let keys: Vec<&str> = sessions(&doc)
        .iter()
        .filter_map(|s| s["session_key"].as_str())
        .collect();
    assert!(
        keys.contains(&TITLE_KEY) && keys.contains(&CLEAR_KEY),
        "{out:?}"
    );

    let list = h.run(&["list"]);
    assert_no_raw(&list);
    assert!(
        list.stdout.contains(r"agent:main:\x1b]0;pwned\x07"),
        "{}",
        list.stdout
    );
    assert!(
        list.stdout
            .contains(r"agent:main:\x1b[2J\rfake\u{202e}txt.exe"),
        "{}",
        list.stdout
    );

    for id in [TITLE_KEY, CLEAR_KEY, TITLE_SID, CLEAR_SID] {
        let show = h.run(&["show", id]);
        assert_eq!(show.code, 0, "{show:?}");
        assert_no_raw(&show);
        assert!(show.stdout.contains(r"\x1b") || show.stdout.contains(r"\u{202e}"));
        // The store's path as it is (it used to be lower-cased with its kind).
        let store = h.sessions_json().display().to_string();
        assert!(show.stdout.contains(&store), "{show:?}");
    }
    // Not found: the error quotes the query, escaped.
    let missing = h.run(&["show", "agent:main:\u{1b}[2Jnone"]);
    assert_eq!(missing.code, 2, "{missing:?}");
    assert_no_raw(&missing);

    let dry = h.run(&["close", "--dry-run"]);
    assert_eq!(dry.code, 0, "{dry:?}");
    assert_no_raw(&dry);
    assert!(
        dry.stdout
            .contains(r"would close agent:main:\x1b[2J\rfake\u{202e}txt.exe"),
        "{}",
        dry.stdout
    );

    let close = h.run(&["close", "--yes"]);
    assert_eq!(close.code, 0, "{close:?}");
    assert_no_raw(&close);
    assert!(
        close
            .stdout
            .contains(r"closed agent:main:\x1b]0;pwned\x07 (openclaw 5e55e55e-"),
        "{}",
        close.stdout
    );
    // The payloads went out with the raw values.
    let delivered: Vec<Value> = h.cmd_lines();
    assert!(delivered
        .iter()
        .any(|p| p["event"]["sessionKey"] == TITLE_KEY && p["event"]["sessionId"] == TITLE_SID));

    let runs = h.run(&["journal"]);
    assert_no_raw(&runs);
    let run = run_ids(&h).pop().expect("a close run in the journal");
    let actions = h.run(&["journal", &run]);
    assert_eq!(actions.code, 0, "{actions:?}");
    assert_no_raw(&actions);
    assert!(
        actions.stdout.contains(r"\x1b]0;pwned\x07"),
        "{}",
        actions.stdout
    );

    let doctor = h.run(&["doctor"]);
    assert_no_raw(&doctor);
}

/// A sessionId sessionctl cannot use is a problem on stderr, quoted escaped; the session is
/// still listed, shown and closed, escaped.
#[test]
fn hostile_session_ids_are_escaped_too() {
    let h = hostile_host(&[
        ("agent:main:sid-1", HOSTILE_SIDS[0]),
        ("agent:main:sid-2", HOSTILE_SIDS[1]),
    ]);
    let list = h.run(&["list"]);
    assert_eq!(list.code, 2, "unusable sessionIds are problems: {list:?}");
    assert_no_raw(&list);
    assert!(list.stderr.contains("agent:main:sid-1"), "{list:?}");
    assert!(list.stdout.contains(r"\x1b]0;pwne"), "{list:?}");
    for id in HOSTILE_SIDS.iter().copied().chain(["agent:main:sid-2"]) {
        let show = h.run(&["show", id]);
        assert_no_raw(&show);
        assert!(
            show.stdout.contains("-0000-4000-8000-00000000000"),
            "{show:?}"
        );
    }
    for args in [
        &["close", "--dry-run"][..],
        &["close", "--yes"],
        &["journal"],
    ] {
        let out = h.run(args);
        assert_no_raw(&out);
    }
    let run = run_ids(&h).pop().expect("a close run in the journal");
    let actions = h.run(&["journal", &run]);
    assert_no_raw(&actions);
    assert!(actions.stdout.contains("agent:main:sid-1"), "{actions:?}");
}

/// Any user can start a process whose title holds escape sequences; `gateways` lists it.
#[test]
fn gateways_escapes_a_hostile_process_title() {
    let h = Host::new(Base::File735);
    let title = format!("{GATEWAY_TITLE} \u{1b}]0;pwned\u{7}\u{202e}");
    let _gw = spawn_retitled(&title, &[]);
    let out = h.run(&["gateways"]);
    assert_no_raw(&out);
    assert!(
        out.stdout
            .contains(r"openclaw-gateway \x1b]0;pwned\x07\u{202e}"),
        "{}",
        out.stdout
    );
}

/// The interactive picker's labels are stored session keys: escaped like everything else.
/// (The picker draws with escape sequences of its own, so the check is for the stored
/// ones: the OSC title sequence, the clear-screen, the override.)
#[test]
fn picker_labels_are_escaped() {
    if !Pty::available() {
        eprintln!(
            "SKIPPED picker_labels_are_escaped: util-linux `script` is not installed (Debian: bsdutils)"
        );
        return;
    }
    let h = hostile_host(&[(TITLE_KEY, TITLE_SID), (CLEAR_KEY, CLEAR_SID)]);
    let mut pty = Pty::spawn(
        &h.fx.sandbox,
        &h.args(&["close"]),
        &[("HOOK_TOKEN", HOOK_TOKEN)],
    );
    pty.wait_for(DEFAULT_GROUP, Duration::from_secs(15));
    pty.wait_for(r"agent:main:\x1b]0;pwned\x07", Duration::from_secs(5));
    pty.wait_for(
        r"agent:main:\x1b[2J\rfake\u{202e}txt.exe",
        Duration::from_secs(5),
    );
    std::thread::sleep(Duration::from_millis(200));
    pty.send(b"\x1b");
    let (code, screen) = pty.wait(Duration::from_secs(20));
    assert_eq!(code, 0, "{screen}");
    for raw in ["\u{1b}]0;pwned", "\u{7}", "\u{1b}[2J", "\rfake", "\u{202e}"] {
        assert!(
            !screen.contains(raw),
            "raw {raw:?} on the terminal:\n{}",
            screen.escape_debug()
        );
    }
}
