use super::*;
use crate::targets::test_support::*;
use crate::targets::*;
use std::path::PathBuf;
use std::time::Duration;

// ---- config -----------------------------------------------------------------------

const FULL: &str = r#"
concurrency = 4
idle = "6h"

[openclaw]
state_dirs = ["/srv/openclaw", "/home/u/.openclaw"]

[[targets]]
name = "audit"
type = "http"
url = "http://127.0.0.1:8080/session_end"
timeout = "500ms"
retries = 3
[targets.headers]
X-Tenant = "AUDIT_TENANT"
Authorization = "AUDIT_TOKEN"

[[targets]]
name = "notify"
type = "command"
argv = ["/usr/bin/logger", "-t", "session_end"]
env = ["NOTIFY_TOKEN"]

[[targets]]
name = "plain_http-2"
type = "http"
url = "https://hooks.example.com/end"
"#;

#[test]
fn config_happy_path() {
    let (_dir, path) = write_config(FULL);
    let getenv = env(&[("AUDIT_TOKEN", SECRET), ("AUDIT_TENANT", "acme")]);
    let cfg = load(&path, true, &getenv).unwrap();
    assert_eq!(cfg.concurrency, 4);
    assert_eq!(cfg.idle.as_deref(), Some("6h"));
    assert_eq!(
        cfg.openclaw_state_dirs,
        vec![
            PathBuf::from("/srv/openclaw"),
            PathBuf::from("/home/u/.openclaw")
        ]
    );
    assert_eq!(cfg.targets.len(), 3);

    let audit = &cfg.targets[0];
    assert_eq!(audit.name, "audit");
    assert_eq!(audit.kind_name(), "http");
    assert_eq!(audit.timeout, Duration::from_millis(500));
    let TargetKind::Http {
        url,
        headers,
        retries,
    } = &audit.kind
    else {
        panic!("{audit:?}")
    };
    assert_eq!(url, "http://127.0.0.1:8080/session_end");
    assert_eq!(*retries, 3);
    // File order, values from the environment.
    assert_eq!(
        headers,
        &vec![
            Header::new("X-Tenant", "AUDIT_TENANT", "acme"),
            Header::new("Authorization", "AUDIT_TOKEN", SECRET),
        ]
    );
    assert_eq!(headers[1].value, SECRET);

    let notify = &cfg.targets[1];
    assert_eq!(notify.kind_name(), "command");
    assert_eq!(notify.timeout, DEFAULT_COMMAND_TIMEOUT);
    assert_eq!(
        notify.kind,
        TargetKind::Command {
            argv: vec!["/usr/bin/logger".into(), "-t".into(), "session_end".into()],
            env: vec!["NOTIFY_TOKEN".into()],
        }
    );

    let plain = &cfg.targets[2];
    assert_eq!(plain.timeout, DEFAULT_HTTP_TIMEOUT);
    assert_eq!(
        plain.kind,
        TargetKind::Http {
            url: "https://hooks.example.com/end".into(),
            headers: vec![],
            retries: DEFAULT_RETRIES
        }
    );
}

#[test]
fn config_empty_file_and_defaults() {
    let (_dir, path) = write_config("# nothing yet\n");
    let cfg = load(&path, true, &no_env).unwrap();
    assert_eq!(cfg, Config::default());
    assert_eq!(cfg.concurrency, 8);
    assert!(cfg.targets.is_empty());
}

#[test]
fn config_missing_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sessionctl/config.toml");
    assert_eq!(load(&path, false, &no_env).unwrap(), Config::default());
    let e = load(&path, true, &no_env).unwrap_err().to_string();
    assert_eq!(
        e,
        format!("{}: cannot read: No such file or directory", path.display())
    );
}

#[test]
fn config_unreadable_default_file_is_still_an_error() {
    // A directory where the file should be: not "missing", so not silently ignored.
    let dir = tempfile::tempdir().unwrap();
    let e = load(dir.path(), false, &no_env).unwrap_err().to_string();
    assert!(
        e.starts_with(&format!("{}: cannot read: ", dir.path().display())),
        "{e}"
    );
    assert!(!e.contains('\n'));
}

#[test]
fn config_toml_syntax_error_is_one_line_with_position() {
    let msg = config_error("concurrency = 2\n\nidle = \n", &no_env);
    assert!(
        msg.starts_with("TOML parse error at line 3, column 8: "),
        "{msg}"
    );
    // A multi-line toml message is squashed.
    let msg = config_error("[[targets]]\nname = \"a\nb\"\n", &no_env);
    assert!(
        msg.starts_with("TOML parse error at line 2, column "),
        "{msg}"
    );
}

#[test]
fn config_unknown_keys_are_errors() {
    let msg = config_error("concurency = 2\n", &no_env);
    assert!(
        msg.starts_with("TOML parse error at line 1, column 1: "),
        "{msg}"
    );
    assert!(msg.contains("unknown field `concurency`"), "{msg}");

    let msg = config_error(
        "[[targets]]\nname = \"a\"\ntype = \"http\"\nurl = \"http://x/\"\nmethod = \"PUT\"\n",
        &no_env,
    );
    assert!(msg.contains("line 5"), "{msg}");
    assert!(msg.contains("unknown field `method`"), "{msg}");

    let msg = config_error("[openclaw]\nstate_dir = \"/x\"\n", &no_env);
    assert!(msg.contains("unknown field `state_dir`"), "{msg}");
}

#[test]
fn config_wrong_value_types() {
    let msg = config_error("concurrency = \"8\"\n", &no_env);
    assert!(
        msg.starts_with("TOML parse error at line 1, column 15: "),
        "{msg}"
    );
    let msg = config_error(
        "[[targets]]\nname = \"a\"\ntype = \"command\"\nargv = \"/bin/true\"\n",
        &no_env,
    );
    assert!(msg.contains("line 4"), "{msg}");
    let msg = config_error(
        "[[targets]]\nname = \"a\"\ntype = \"http\"\nurl = \"http://x/\"\n[targets.headers]\nA = 1\n",
        &no_env,
    );
    assert!(msg.contains("line 6"), "{msg}");
}

const AUDIT: &str =
    "[[targets]]\nname = \"audit\"\ntype = \"http\"\nurl = \"http://127.0.0.1:8080/x\"\n";

#[test]
fn config_missing_header_variable() {
    let text = format!("{AUDIT}[targets.headers]\nAuthorization = \"AUDIT_TOKEN\"\n");
    let msg = config_error(&text, &no_env);
    assert_eq!(
        msg,
        "target `audit`: header Authorization reads $AUDIT_TOKEN, which is not set"
    );
    let msg = config_error(&text, &env(&[("AUDIT_TOKEN", "")]));
    assert_eq!(
        msg,
        "target `audit`: header Authorization reads $AUDIT_TOKEN, which is empty"
    );
    let bad_value = "Bearer abc\r\nX-Injected: 1";
    let msg = config_error(&text, &env(&[("AUDIT_TOKEN", bad_value)]));
    assert!(
        msg.contains("characters an HTTP header cannot carry"),
        "{msg}"
    );
    assert!(!msg.contains("abc"), "{msg}");
}

#[test]
fn config_secret_written_in_place_of_variable_name_is_not_echoed() {
    let text = format!("{AUDIT}[targets.headers]\nAuthorization = \"{SECRET}\"\n");
    let msg = config_error(&text, &no_env);
    assert!(
        msg.contains("must be the name of an environment variable"),
        "{msg}"
    );
    assert!(!msg.contains("s3cr3t"), "{msg}");
}

#[test]
fn config_bad_headers() {
    let msg = config_error(
        &format!("{AUDIT}[targets.headers]\n\"Bad Name\" = \"T\"\n"),
        &env(&[("T", "v")]),
    );
    assert!(msg.contains("not a valid HTTP header name"), "{msg}");
    let msg = config_error(
        &format!("{AUDIT}[targets.headers]\nContent-Length = \"T\"\n"),
        &env(&[("T", "1")]),
    );
    assert_eq!(
        msg,
        "target `audit`: header Content-Length is set by sessionctl and cannot be configured"
    );
    let msg = config_error(
        &format!("{AUDIT}[targets.headers]\nX-A = \"T\"\nx-a = \"T\"\n"),
        &env(&[("T", "v")]),
    );
    assert_eq!(msg, "target `audit`: header x-a is set twice");
}

#[test]
fn config_duplicate_names() {
    let text = format!("{AUDIT}{AUDIT}");
    let msg = config_error(&text, &no_env);
    assert_eq!(msg, "target `audit` is defined twice (targets #1 and #2)");
}

#[test]
fn config_bad_names() {
    let msg = config_error(
        "[[targets]]\ntype = \"http\"\nurl = \"http://x/\"\n",
        &no_env,
    );
    assert_eq!(msg, "target #1: missing `name`");
    let msg = config_error("[[targets]]\nname = \"a b\"\ntype = \"http\"\n", &no_env);
    assert_eq!(
        msg,
        "target #1: name \"a b\" may only use A-Z, a-z, 0-9, _ and -"
    );
    let msg = config_error("[[targets]]\nname = \"\"\ntype = \"http\"\n", &no_env);
    assert!(msg.starts_with("target #1: name \"\""), "{msg}");
    let msg = config_error("[[targets]]\nname = \"a\\nb\"\ntype = \"http\"\n", &no_env);
    assert!(msg.contains("\"a\\nb\""), "{msg}");
}

#[test]
fn config_types_and_their_fields() {
    let msg = config_error("[[targets]]\nname = \"a\"\nurl = \"http://x/\"\n", &no_env);
    assert_eq!(msg, "target `a`: missing `type` (http or command)");
    let msg = config_error("[[targets]]\nname = \"a\"\ntype = \"grpc\"\n", &no_env);
    assert_eq!(
        msg,
        "target `a`: unknown type \"grpc\" (use http or command)"
    );
    let msg = config_error(&format!("{AUDIT}argv = [\"/bin/true\"]\n"), &no_env);
    assert_eq!(msg, "target `audit`: `argv` is only for command targets");
    let msg = config_error("[[targets]]\nname = \"a\"\ntype = \"http\"\n", &no_env);
    assert_eq!(msg, "target `a`: missing `url`");
    let cmd = "[[targets]]\nname = \"n\"\ntype = \"command\"\n";
    let msg = config_error(
        &format!("{cmd}argv = [\"/bin/true\"]\nurl = \"http://x/\"\n"),
        &no_env,
    );
    assert_eq!(msg, "target `n`: `url` is only for http targets");
    let msg = config_error(
        &format!("{cmd}argv = [\"/bin/true\"]\nretries = 1\n"),
        &no_env,
    );
    assert_eq!(msg, "target `n`: `retries` is only for http targets");
    let msg = config_error(
        &format!("{cmd}argv = [\"/bin/true\"]\n[targets.headers]\nA = \"B\"\n"),
        &no_env,
    );
    assert_eq!(msg, "target `n`: `headers` is only for http targets");
    let msg = config_error(cmd, &no_env);
    assert_eq!(msg, "target `n`: missing `argv`");
    let msg = config_error(&format!("{AUDIT}env = [\"X\"]\n"), &no_env);
    assert_eq!(msg, "target `audit`: `env` is only for command targets");
    let msg = config_error(
        &format!("{cmd}argv = [\"/bin/true\"]\nenv = [\"OK_1\", \"s3cret value\"]\n"),
        &no_env,
    );
    assert_eq!(
        msg,
        "target `n`: env: \"s3cret value\" is not the name of an environment variable \
         (letters, digits and _)"
    );
}

#[test]
fn config_empty_argv() {
    let cmd = "[[targets]]\nname = \"n\"\ntype = \"command\"\n";
    let msg = config_error(&format!("{cmd}argv = []\n"), &no_env);
    assert_eq!(msg, "target `n`: argv is empty");
    let msg = config_error(&format!("{cmd}argv = [\"\", \"x\"]\n"), &no_env);
    assert_eq!(msg, "target `n`: argv[0] is empty");
}

#[test]
fn config_bad_urls() {
    let t = "[[targets]]\nname = \"a\"\ntype = \"http\"\n";
    let msg = config_error(&format!("{t}url = \"ftp://127.0.0.1/x\"\n"), &no_env);
    assert_eq!(
        msg,
        "target `a`: url ftp://127.0.0.1/x must start with http:// or https://"
    );
    let msg = config_error(&format!("{t}url = \"127.0.0.1:8080/x\"\n"), &no_env);
    assert!(msg.starts_with("target `a`: url"), "{msg}");
    let msg = config_error(&format!("{t}url = \"not a url\"\n"), &no_env);
    assert!(
        msg.starts_with("target `a`: url is not a valid URL: "),
        "{msg}"
    );
    // A password in the url is not repeated.
    let msg = config_error(&format!("{t}url = \"ftp://u:hunter2@h/x\"\n"), &no_env);
    assert!(!msg.contains("hunter2"), "{msg}");
}

#[test]
fn config_bad_durations_and_numbers() {
    for (timeout, want) in [
        (
            "5 parsecs",
            "timeout: `5 parsecs` has an unknown unit `parsecs` (units: ms, s, m, h, d)",
        ),
        (
            "5",
            "timeout: `5` has no unit; did you mean 5s? (units: ms, s, m, h, d)",
        ),
        (
            "s",
            "timeout: `s` is not a duration (such as 90s, 30m, 1h30m or 2d)",
        ),
        (
            "-1s",
            "timeout: `-1s` is negative; a duration is a length of time, such as 1s",
        ),
        ("0s", "timeout \"0s\" must be more than zero"),
        ("2h", "timeout \"2h\" is longer than 1h"),
        (
            "99999999999999999999h",
            "timeout: `99999999999999999999h` is too large",
        ),
        (
            "999999999999h",
            "timeout \"999999999999h\" is longer than 1h",
        ),
    ] {
        let msg = config_error(&format!("{AUDIT}timeout = \"{timeout}\"\n"), &no_env);
        assert_eq!(msg, format!("target `audit`: {want}"));
    }
    let msg = config_error(&format!("{AUDIT}retries = 11\n"), &no_env);
    assert_eq!(
        msg,
        "target `audit`: retries must be between 0 and 10, not 11"
    );
    let msg = config_error(&format!("{AUDIT}retries = -1\n"), &no_env);
    assert_eq!(
        msg,
        "target `audit`: retries must be between 0 and 10, not -1"
    );
    for n in ["0", "65", "-3"] {
        let msg = config_error(&format!("concurrency = {n}\n"), &no_env);
        assert_eq!(
            msg,
            format!("concurrency must be between 1 and 64, not {n}")
        );
    }
    let msg = config_error("idle = \"6 fortnights\"\n", &no_env);
    assert!(msg.starts_with("idle: "), "{msg}");
    let msg = config_error("[openclaw]\nstate_dirs = [\"\"]\n", &no_env);
    assert_eq!(msg, "openclaw.state_dirs: a state dir is empty");
}

#[test]
fn durations() {
    assert_eq!(parse_timeout("500ms").unwrap(), Duration::from_millis(500));
    assert_eq!(parse_timeout("5s").unwrap(), Duration::from_secs(5));
    assert_eq!(parse_timeout("2m").unwrap(), Duration::from_secs(120));
    assert_eq!(parse_timeout("1h").unwrap(), Duration::from_secs(3600));
    assert_eq!(parse_timeout("1m30s").unwrap(), Duration::from_secs(90));
    assert_eq!(format_duration(Duration::from_millis(500)), "500ms");
    assert_eq!(format_duration(Duration::from_millis(1500)), "1500ms");
    assert_eq!(format_duration(Duration::from_secs(5)), "5s");
    assert_eq!(format_duration(Duration::from_secs(90)), "90s");
    assert_eq!(format_duration(Duration::from_secs(120)), "2m");
    assert_eq!(format_duration(Duration::from_secs(3600)), "1h");
}

#[test]
fn header_values_are_redacted_in_debug_and_display() {
    let (_dir, path) = write_config(FULL);
    let getenv = env(&[("AUDIT_TOKEN", SECRET), ("AUDIT_TENANT", "acme")]);
    let cfg = load(&path, true, &getenv).unwrap();
    let debug = format!("{cfg:?} {cfg:#?}");
    assert!(!debug.contains("s3cr3t"), "{debug}");
    assert!(debug.contains("<redacted>"), "{debug}");
    assert!(debug.contains("AUDIT_TOKEN"), "{debug}");

    assert_eq!(
        cfg.targets[0].to_string(),
        "audit: http POST http://127.0.0.1:8080/session_end (timeout 500ms, 3 retries, \
         headers X-Tenant: $AUDIT_TENANT, Authorization: $AUDIT_TOKEN)"
    );
    assert_eq!(
        cfg.targets[1].to_string(),
        "notify: command /usr/bin/logger -t session_end (timeout 10s, env NOTIFY_TOKEN)"
    );
    assert_eq!(
        cfg.targets[2].to_string(),
        "plain_http-2: http POST https://hooks.example.com/end (timeout 5s, 2 retries)"
    );
}
