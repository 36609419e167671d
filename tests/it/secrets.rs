//! Secrets never reach any output or the journal: the gateway token and provider API key
//! in openclaw.json, and HTTP header values of hook targets.

use std::fs;

use crate::common::*;

const TOKEN: &str = "gw-token-5f1c9e0b7a3d";
const API_KEY: &str = "sk-live-9b8a7c6d5e4f";
const HEADER_SECRET: &str = "Bearer hdr-secret-1a2b3c4d";

#[test]
fn no_command_prints_a_secret() {
    let fx = Fixture::openclaw("2026.7.35", "after-kill");
    let cfg = fx.state().join("openclaw.json");
    let text = fs::read_to_string(&cfg)
        .unwrap()
        .replace("${OPENCLAW_GATEWAY_TOKEN}", TOKEN)
        .replace("REDACTED", API_KEY);
    assert!(
        text.contains(TOKEN) && text.contains(API_KEY),
        "fixture config shape changed"
    );
    fs::write(&cfg, text).unwrap();
    let stub = HttpStub::ok_receiver();
    let targets = fx.root().join("targets.toml");
    fs::write(
        &targets,
        format!(
            "[[targets]]\nname = \"audit\"\ntype = \"http\"\nurl = \"{}\"\n[targets.headers]\nAuthorization = \"AUDIT_TOKEN\"\n",
            stub.url("/x")
        ),
    )
    .unwrap();
    let state = fx.state().to_string_lossy().into_owned();
    let journal = fx
        .root()
        .join("j/journal.ndjson")
        .to_string_lossy()
        .into_owned();
    let common = [
        "--openclaw-state-dir",
        &state,
        "--config",
        &targets.to_string_lossy(),
        "--journal",
        &journal,
    ];
    let env = [
        ("AUDIT_TOKEN", HEADER_SECRET),
        ("OPENCLAW_GATEWAY_TOKEN", TOKEN),
    ];
    let runs: Vec<Vec<&str>> = vec![
        vec!["list", "--format", "json"],
        vec!["show", "agent:main:e2e-slow", "--format", "json"],
        vec!["show", "agent:main:e2e-slow"],
        vec!["gateways", "--format", "json"],
        vec!["doctor", "--format", "json"],
        vec!["check", "-v"],
        vec!["close", "--dry-run", "--format", "json"],
        vec!["close", "--dry-run"],
        vec!["close", "--yes", "--format", "json"],
        vec!["journal", "--format", "json"],
    ];
    for r in runs {
        let args: Vec<&str> = r.iter().copied().chain(common).collect();
        let out = fx.run(&args, &env);
        for secret in [TOKEN, API_KEY, HEADER_SECRET, "hdr-secret"] {
            assert!(
                !out.stdout.contains(secret) && !out.stderr.contains(secret),
                "{secret} leaked:\n{out:?}"
            );
        }
    }
    // The header did reach the target, so the test would see a leak if there were one.
    let got = stub.received();
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0]
            .headers
            .iter()
            .find(|(k, _)| k == "authorization")
            .map(|(_, v)| v.as_str()),
        Some(HEADER_SECRET)
    );
    let j = fs::read_to_string(&journal).unwrap();
    for secret in [TOKEN, API_KEY, HEADER_SECRET] {
        assert!(!j.contains(secret), "{secret} in the journal");
    }
}
