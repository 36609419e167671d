//! A validator for the subset of JSON Schema (draft 2020-12) the files under `schema/`
//! use: `type`, `properties`, `required`, `additionalProperties`, `items`, `enum`,
//! `const`, `anyOf`, `$ref` to `#/$defs/…` of the same file; `$schema`, `$id`, `title`,
//! `description`, `$comment`, `format` and `$defs` are annotations. Any other keyword is an
//! error, so a schema cannot rely on something this validator would silently ignore.
//!
//! (The `jsonschema` crate, even with its default features off, builds regex,
//! fancy-regex, referencing, fraction, strum and more: too much for a dev-dependency that
//! checks a few flat documents.)

use std::path::Path;

use serde_json::{Map, Value};

const ANNOTATIONS: &[&str] = &[
    "$schema",
    "$id",
    "title",
    "description",
    "$comment",
    "format",
    "$defs",
];
const KEYWORDS: &[&str] = &[
    "type",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "enum",
    "const",
    "anyOf",
    "$ref",
];

pub struct Schema {
    name: String,
    root: Value,
}

impl Schema {
    pub fn load(path: &Path) -> Schema {
        let text =
            std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let root: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{}: not JSON: {e}", path.display()));
        assert_eq!(
            root["$schema"],
            "https://json-schema.org/draft/2020-12/schema",
            "{}",
            path.display()
        );
        Schema::new(&path.display().to_string(), root)
    }

    pub fn new(name: &str, root: Value) -> Schema {
        let s = Schema {
            name: name.to_string(),
            root,
        };
        let mut errs = Vec::new();
        s.lint(&s.root, "#", &mut errs);
        assert!(errs.is_empty(), "{name}:\n  {}", errs.join("\n  "));
        s
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Every way `v` does not match, one line each with its JSON pointer.
    pub fn validate(&self, v: &Value) -> Result<(), Vec<String>> {
        let mut errs = Vec::new();
        self.check(&self.root, v, "", &mut errs);
        if errs.is_empty() {
            Ok(())
        } else {
            Err(errs)
        }
    }

    /// Only known keywords, and every `$ref` resolves.
    fn lint(&self, s: &Value, at: &str, errs: &mut Vec<String>) {
        let Some(obj) = s.as_object() else {
            if !s.is_boolean() {
                errs.push(format!("{at}: a schema is an object or a boolean"));
            }
            return;
        };
        for (k, v) in obj {
            if !ANNOTATIONS.contains(&k.as_str()) && !KEYWORDS.contains(&k.as_str()) {
                errs.push(format!("{at}: keyword `{k}` is not supported"));
            }
            match k.as_str() {
                "properties" | "$defs" => {
                    for (name, sub) in v.as_object().into_iter().flatten() {
                        self.lint(sub, &format!("{at}/{k}/{name}"), errs);
                    }
                }
                "items" | "additionalProperties" => self.lint(v, &format!("{at}/{k}"), errs),
                "anyOf" => {
                    for (i, sub) in v.as_array().into_iter().flatten().enumerate() {
                        self.lint(sub, &format!("{at}/anyOf/{i}"), errs);
                    }
                }
                "$ref" if self.resolve(v.as_str().unwrap_or_default()).is_none() => {
                    errs.push(format!("{at}: $ref {v} does not resolve"));
                }
                _ => {}
            }
        }
    }

    fn resolve(&self, r: &str) -> Option<&Value> {
        let name = r.strip_prefix("#/$defs/")?;
        self.root.get("$defs")?.get(name)
    }

    fn check(&self, s: &Value, v: &Value, at: &str, errs: &mut Vec<String>) {
        let obj: &Map<String, Value> = match s {
            Value::Bool(true) => return,
            Value::Bool(false) => {
                errs.push(format!("{at}: no value is allowed here"));
                return;
            }
            Value::Object(o) => o,
            _ => return,
        };
        if let Some(r) = obj.get("$ref").and_then(|r| r.as_str()) {
            if let Some(target) = self.resolve(r) {
                self.check(target, v, at, errs);
            }
        }
        if let Some(t) = obj.get("type") {
            let types: Vec<&str> = match t {
                Value::String(s) => vec![s.as_str()],
                Value::Array(a) => a.iter().filter_map(|x| x.as_str()).collect(),
                _ => vec![],
            };
            if !types.iter().any(|t| has_type(v, t)) {
                errs.push(format!(
                    "{at}: {} is not of type {}",
                    short(v),
                    types.join("|")
                ));
                return;
            }
        }
        if let Some(e) = obj.get("enum").and_then(|e| e.as_array()) {
            if !e.contains(v) {
                errs.push(format!(
                    "{at}: {} is not one of {}",
                    short(v),
                    Value::from(e.clone())
                ));
            }
        }
        if let Some(c) = obj.get("const") {
            if c != v {
                errs.push(format!("{at}: {} is not {c}", short(v)));
            }
        }
        if let Some(any) = obj.get("anyOf").and_then(|a| a.as_array()) {
            let mut why = Vec::new();
            let ok = any.iter().any(|sub| {
                let mut e = Vec::new();
                self.check(sub, v, at, &mut e);
                why.extend(e.iter().cloned());
                e.is_empty()
            });
            if !ok {
                errs.push(format!(
                    "{at}: {} matches none of anyOf ({})",
                    short(v),
                    why.join("; ")
                ));
            }
        }
        if let Value::Object(o) = v {
            let props = obj.get("properties").and_then(|p| p.as_object());
            for req in obj
                .get("required")
                .and_then(|r| r.as_array())
                .into_iter()
                .flatten()
                .filter_map(|r| r.as_str())
            {
                if !o.contains_key(req) {
                    errs.push(format!("{at}: required property `{req}` is missing"));
                }
            }
            for (k, val) in o {
                let sub_at = format!("{at}/{k}");
                match props.and_then(|p| p.get(k)) {
                    Some(sub) => self.check(sub, val, &sub_at, errs),
                    None => {
                        if let Some(extra) = obj.get("additionalProperties") {
                            if extra == &Value::Bool(false) {
                                errs.push(format!("{at}: property `{k}` is not allowed"));
                            } else {
                                self.check(extra, val, &sub_at, errs);
                            }
                        }
                    }
                }
            }
        }
        if let (Value::Array(a), Some(items)) = (v, obj.get("items")) {
            for (i, x) in a.iter().enumerate() {
                self.check(items, x, &format!("{at}/{i}"), errs);
            }
        }
    }
}

fn has_type(v: &Value, t: &str) -> bool {
    match t {
        "null" => v.is_null(),
        "boolean" => v.is_boolean(),
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "number" => v.is_number(),
        "integer" => v.is_i64() || v.is_u64() || v.as_f64().is_some_and(|f| f.fract() == 0.0),
        _ => false,
    }
}

fn short(v: &Value) -> String {
    let mut s = v.to_string();
    if s.len() > 80 {
        let mut end = 77;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
        s.push('…');
    }
    s
}

#[test]
fn the_validator_catches_what_the_schemas_rely_on() {
    use serde_json::json;
    let s = Schema::new(
        "test",
        json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "required": ["version", "kind"],
            "additionalProperties": false,
            "properties": {
                "version": {"const": 1},
                "kind": {"enum": ["a", "b"]},
                "n": {"type": ["integer", "null"]},
                "list": {"type": "array", "items": {"$ref": "#/$defs/item"}},
                "either": {"anyOf": [{"type": "string"}, {"type": "boolean"}]}
            },
            "$defs": {"item": {"type": "object", "required": ["x"], "properties": {"x": {"type": "string"}}}}
        }),
    );
    assert!(s
        .validate(&json!({"version": 1, "kind": "a", "n": null, "list": [{"x": "y", "z": 1}], "either": true}))
        .is_ok());
    let bad = [
        json!({"kind": "a"}),
        json!({"version": 2, "kind": "a"}),
        json!({"version": 1, "kind": "c"}),
        json!({"version": 1, "kind": "a", "extra": 0}),
        json!({"version": 1, "kind": "a", "n": 1.5}),
        json!({"version": 1, "kind": "a", "list": [{"y": "x"}]}),
        json!({"version": 1, "kind": "a", "list": [{"x": 1}]}),
        json!({"version": 1, "kind": "a", "either": 3}),
        json!([]),
    ];
    for b in bad {
        assert!(s.validate(&b).is_err(), "{b} passed");
    }
    let lint = std::panic::catch_unwind(|| {
        Schema::new("bad", json!({"type": "object", "pattern": "x"}));
    });
    assert!(lint.is_err(), "an unsupported keyword is refused");
    let lint = std::panic::catch_unwind(|| {
        Schema::new("bad", json!({"$ref": "#/$defs/missing"}));
    });
    assert!(lint.is_err(), "a dangling $ref is refused");
}
