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
    // e2e-slow (orphan) and e2e-1, e2e-2 (finished, owed: their gateway was killed).
    let got = stub.received();
    assert_eq!(got.len(), 3);
    for r in &got {
        assert_eq!(
            r.headers
                .iter()
                .find(|(k, _)| k == "authorization")
                .map(|(_, v)| v.as_str()),
            Some(HEADER_SECRET)
        );
    }
    let j = fs::read_to_string(&journal).unwrap();
    for secret in [TOKEN, API_KEY, HEADER_SECRET] {
        assert!(!j.contains(secret), "{secret} in the journal");
    }
}

/// A command target gets PATH, HOME, the locale, TZ, TMPDIR, USER/LOGNAME, its delivery
/// id and the variables its own `env` list names, never the rest of sessionctl's
/// environment: not the variable an HTTP header's secret comes from, not anything else.
#[test]
fn command_targets_get_only_the_environment_they_need() {
    use crate::close::{Base, Host, HOOK_TOKEN};
    let h = Host::new(Base::File735);
    let stub = HttpStub::ok_receiver();
    // One file per delivery (they run side by side), named by its delivery id.
    let env_out = h.root().join("env");
    fs::create_dir(&env_out).unwrap();
    let q = |s: &str| serde_json::to_string(s).unwrap();
    fs::write(
        &h.config,
        format!(
            "[[targets]]\nname = \"hook\"\ntype = \"http\"\nurl = {}\n[targets.headers]\nAuthorization = \"HOOK_TOKEN\"\n\n\
             [[targets]]\nname = \"envdump\"\ntype = \"command\"\nargv = [\"/bin/sh\", \"-c\", \"env > \\\"$0/$SESSIONCTL_DELIVERY_ID\\\"\", {}]\nenv = [\"HOOK_PASSED\"]\n",
            q(&stub.url("/hook")),
            q(&env_out.to_string_lossy()),
        ),
    )
    .unwrap();
    let out = h.run_env(
        &["close", "--yes"],
        &[
            ("SOME_RANDOM_VAR", "random-4c1d"),
            ("HOOK_PASSED", "passed-9e2f"),
            ("LC_TIME", "C"),
            ("TZ", "UTC"),
        ],
    );
    assert_eq!(out.code, 0, "{out:?}");
    // e2e-slow, telegram, and the owed e2e-1 and e2e-2 of the killed gateway.
    assert_eq!(stub.count(), 4, "the header secret was in use: {out:?}");
    let runs: Vec<String> = fs::read_dir(&env_out)
        .unwrap()
        .map(|e| fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    assert_eq!(runs.len(), 4, "one run per payload: {runs:#?}");
    for run in &runs {
        let vars: Vec<&str> = run.lines().collect();
        let has = |prefix: &str| vars.iter().any(|l| l.starts_with(prefix));
        for leak in ["HOOK_TOKEN=", "SOME_RANDOM_VAR=", "NO_COLOR="] {
            assert!(!has(leak), "{leak} reached the command:\n{run}");
        }
        assert!(
            !run.contains(HOOK_TOKEN) && !run.contains("random-4c1d"),
            "{run}"
        );
        for want in [
            "PATH=",
            "HOME=",
            "TMPDIR=",
            "LC_TIME=C",
            "TZ=UTC",
            "HOOK_PASSED=passed-9e2f",
            "SESSIONCTL_DELIVERY_ID=sessionctl-",
        ] {
            assert!(has(want), "{want} missing:\n{run}");
        }
    }
}
