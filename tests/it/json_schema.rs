//! Every command's JSON output, from real runs on the 2026.7.35 after-kill capture plus a
//! claude-mem 13.25.3 database, validated against the checked-in schema of its command
//! (`schema/<command>.schema.json`, README "JSON output"). Every document and NDJSON line
//! carries `version` (the output format version) and `generated_at`.

use std::path::Path;

use serde_json::Value;

use crate::close::*;
use crate::common::*;
use crate::schema_check::Schema;

/// The output format version the schemas describe.
const FORMAT_VERSION: u64 = 1;

pub fn schema(name: &str) -> Schema {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("schema")
        .join(format!("{name}.schema.json"));
    Schema::load(&path)
}

/// `args --format json`, exit code as expected, stdout parsed as one document.
fn json_doc(h: &Host, args: &[&str], code: i32) -> Value {
    let mut a = args.to_vec();
    a.extend_from_slice(&["--format", "json"]);
    let out = h.run(&a);
    assert_eq!(out.code, code, "{out:?}");
    serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}):\n{out:?}"))
}

/// `args --format ndjson`: every stdout line is one JSON document.
fn ndjson_lines(h: &Host, args: &[&str], code: i32) -> Vec<Value> {
    let mut a = args.to_vec();
    a.extend_from_slice(&["--format", "ndjson"]);
    let out = h.run(&a);
    assert_eq!(out.code, code, "{out:?}");
    let lines: Vec<Value> = out
        .stdout
        .lines()
        .map(|l| {
            serde_json::from_str(l)
                .unwrap_or_else(|e| panic!("NDJSON line is not JSON ({e}): {l:?}\n{out:?}"))
        })
        .collect();
    assert!(!lines.is_empty(), "{out:?}");
    lines
}

/// The header every document carries, checked beyond what the schema can say: the
/// version is the one the schemas describe and the time is recent.
fn assert_header(doc: &Value, what: &str, t0: i64) {
    assert_eq!(doc["version"], FORMAT_VERSION, "{what}: {doc:#}");
    let at = doc["generated_at"]
        .as_str()
        .unwrap_or_else(|| panic!("{what}: no generated_at in {doc:#}"));
    assert!(is_iso_ms(at), "{what}: generated_at {at:?}");
    let t = parse_iso_ms(at);
    assert!(
        t >= t0 - 1000 && t <= now_ms() + 1000,
        "{what}: generated_at {at} is not the time of the run"
    );
}

fn check(schema: &Schema, what: &str, doc: &Value, t0: i64) {
    if let Err(errs) = schema.validate(doc) {
        panic!(
            "{what} does not match {}:\n  {}\n{doc:#}",
            schema.name(),
            errs.join("\n  ")
        );
    }
    assert_header(doc, what, t0);
}

#[test]
fn every_command_json_matches_its_schema() {
    let t0 = now_ms();
    let h = Host::new(Base::File735);
    let stub = HttpStub::ok_receiver();
    h.configure(&[h.rec(), h.hook(&stub.url("/hook"), "2s", 1)]);

    // Read-only commands before the close: orphans present.
    let list = schema("list");
    for cmd in ["list", "check"] {
        let code = if cmd == "check" { 1 } else { 0 };
        let doc = json_doc(&h, &[cmd], code);
        assert!(!sessions(&doc).is_empty(), "{doc:#}");
        check(&list, cmd, &doc, t0);
        for l in ndjson_lines(&h, &[cmd], code) {
            check(&list, &format!("{cmd} --format ndjson"), &l, t0);
        }
    }
    let doc = json_doc(&h, &["show", SLOW_KEY], 0);
    check(&list, "show", &doc, t0);
    for l in ndjson_lines(&h, &["show", SLOW_KEY], 0) {
        check(&list, "show --format ndjson", &l, t0);
    }

    let doctor = schema("doctor");
    let doc = json_doc(&h, &["doctor"], 1);
    assert!(doc["findings"].as_array().is_some_and(|f| !f.is_empty()));
    check(&doctor, "doctor", &doc, t0);
    for l in ndjson_lines(&h, &["doctor"], 1) {
        check(&doctor, "doctor --format ndjson", &l, t0);
    }

    let gateways = schema("gateways");
    let doc = json_doc(&h, &["gateways"], 0);
    assert!(doc["openclaw"].as_array().is_some_and(|s| !s.is_empty()));
    check(&gateways, "gateways", &doc, t0);
    for l in ndjson_lines(&h, &["gateways"], 0) {
        check(&gateways, "gateways --format ndjson", &l, t0);
    }

    let close = schema("close");
    let doc = json_doc(&h, &["close", "--dry-run"], 0);
    assert_eq!(doc["dry_run"], true);
    assert!(doc["items"].as_array().is_some_and(|i| !i.is_empty()));
    check(&close, "close --dry-run", &doc, t0);
    for l in ndjson_lines(&h, &["close", "--dry-run"], 0) {
        check(&close, "close --dry-run --format ndjson", &l, t0);
    }
    let doc = json_doc(&h, &["close", "--yes"], 0);
    assert_eq!(doc["dry_run"], false);
    assert!(
        doc["items"].as_array().is_some_and(|i| i.len() >= 2),
        "{doc:#}"
    );
    assert!(stub.count() >= 2, "the hook received the payloads");
    check(&close, "close --yes", &doc, t0);
    let run = doc["run"].as_str().expect("a run id").to_string();
    // Nothing left: a second run's (empty) document.
    for l in ndjson_lines(&h, &["close", "--yes"], 0) {
        check(&close, "close --yes --format ndjson", &l, t0);
    }

    let journal = schema("journal");
    let doc = json_doc(&h, &["journal"], 0);
    assert!(doc["runs"].as_array().is_some_and(|r| !r.is_empty()));
    check(&journal, "journal", &doc, t0);
    for l in ndjson_lines(&h, &["journal"], 0) {
        check(&journal, "journal --format ndjson", &l, t0);
    }
    let run_schema = schema("journal-run");
    let doc = json_doc(&h, &["journal", &run], 0);
    assert!(doc["actions"].as_array().is_some_and(|a| !a.is_empty()));
    check(&run_schema, "journal <run>", &doc, t0);
    for l in ndjson_lines(&h, &["journal", &run], 0) {
        check(&run_schema, "journal <run> --format ndjson", &l, t0);
    }

    let undo = schema("journal-undo");
    let doc = json_doc(&h, &["journal", "undo", &run, "--dry-run"], 0);
    assert!(doc["steps"].as_array().is_some_and(|s| !s.is_empty()));
    check(&undo, "journal undo --dry-run", &doc, t0);
    for l in ndjson_lines(&h, &["journal", "undo", &run, "--dry-run"], 0) {
        check(&undo, "journal undo --dry-run --format ndjson", &l, t0);
    }
    let doc = json_doc(&h, &["journal", "undo", &run, "--yes"], 0);
    assert!(doc["results"].as_array().is_some_and(|s| !s.is_empty()));
    check(&undo, "journal undo", &doc, t0);
}

/// A store that cannot be read: the problem is in the document and on its own NDJSON line,
/// both as the schema says.
#[test]
fn problems_match_the_list_schema() {
    let t0 = now_ms();
    let h = Host::new(Base::File735);
    std::fs::write(h.cm_db(), b"not a database, just text\n").unwrap();
    let list = schema("list");
    let doc = json_doc(&h, &["list"], 2);
    assert!(!problems(&doc).is_empty(), "{doc:#}");
    check(&list, "list with a problem", &doc, t0);
    let lines = ndjson_lines(&h, &["list"], 2);
    assert!(lines.iter().any(|l| l["type"] == "problem"), "{lines:#?}");
    for l in &lines {
        check(&list, "list --format ndjson with a problem", l, t0);
    }
}

/// The schemas are strict: real output without its header, with a renamed field or an
/// unknown value fails them.
#[test]
fn schemas_reject_a_missing_header_or_a_renamed_field() {
    let h = Host::new(Base::File735);
    let list = schema("list");
    let doc = json_doc(&h, &["list"], 0);
    assert!(list.validate(&doc).is_ok());
    let line = ndjson_lines(&h, &["list"], 0).remove(0);
    assert!(list.validate(&line).is_ok());
    let doctor = schema("doctor");
    let dr = json_doc(&h, &["doctor"], 1);
    let close = schema("close");
    let dry = json_doc(&h, &["close", "--dry-run"], 0);

    let mut broken: Vec<(&Schema, Value)> = Vec::new();
    for (s, d) in [
        (&list, &doc),
        (&list, &line),
        (&doctor, &dr),
        (&close, &dry),
    ] {
        for field in ["version", "generated_at"] {
            let mut b = d.clone();
            b.as_object_mut().unwrap().remove(field);
            broken.push((s, b));
        }
        let mut b = d.clone();
        b["version"] = 2.into();
        broken.push((s, b));
    }
    // A top-level field renamed.
    let mut b = doc.clone();
    let m = b.as_object_mut().unwrap();
    let v = m.remove("sessions").unwrap();
    m.insert("items".into(), v);
    broken.push((&list, b));
    // A session's field renamed, an unknown verdict.
    let mut b = doc.clone();
    let s0 = b["sessions"][0].as_object_mut().unwrap();
    let v = s0.remove("session_key").unwrap();
    s0.insert("sessionKey".into(), v);
    broken.push((&list, b));
    let mut b = doc.clone();
    b["sessions"][0]["verdict"] = "dead".into();
    broken.push((&list, b));
    let mut b = line.clone();
    b.as_object_mut().unwrap().remove("type");
    broken.push((&list, b));
    let mut b = dr.clone();
    b["findings"][0].as_object_mut().unwrap().remove("severity");
    broken.push((&doctor, b));
    let mut b = dry.clone();
    b["dry_run"] = false.into();
    broken.push((&close, b));
    for (s, b) in broken {
        assert!(s.validate(&b).is_err(), "{} accepted:\n{b:#}", s.name());
    }
}
