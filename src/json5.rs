//! OpenClaw's `openclaw.json` is JSON5 (OpenClaw reads it with the `json5` npm package), read
//! here through the `json5` crate into a JSON value. Only used to look up a few settings
//! (ports); never to rewrite the file.

use std::path::Path;

/// Parse the JSON5 text of the file at `path`. The error is one line naming the file.
pub fn parse(path: &Path, text: &str) -> Result<serde_json::Value, String> {
    ::json5::from_str(text).map_err(|e| {
        let what = e.to_string();
        let what: Vec<&str> = what
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        format!("{}: not valid JSON5: {}", path.display(), what.join("; "))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<serde_json::Value, String> {
        super::parse(Path::new("/state/openclaw.json"), text)
    }

    #[test]
    fn reads_the_captured_openclaw_config_shape() {
        let src = r#"// OpenClaw config (JSON5).
{
  gateway: {
    mode: "local",
    port: 18801, // loopback
    auth: { mode: 'token', token: "${OPENCLAW_GATEWAY_TOKEN}" },
  },
  /* block
     comment */
  plugins: {
    entries: { "a-plugin": { enabled: true, config: { workerPort: 37700, url: "http://x//y" } } },
    load: { paths: ['a', "b",], },
  },
  note: 'it\'s "quoted"',
}"#;
        let v = parse(src).unwrap();
        assert_eq!(v["gateway"]["port"], 18801);
        assert_eq!(v["gateway"]["auth"]["mode"], "token");
        assert_eq!(
            v["plugins"]["entries"]["a-plugin"]["config"]["workerPort"],
            37700
        );
        assert_eq!(
            v["plugins"]["entries"]["a-plugin"]["config"]["url"],
            "http://x//y"
        );
        assert_eq!(v["plugins"]["load"]["paths"][1], "b");
        assert_eq!(v["note"], "it's \"quoted\"");
        assert_eq!(v["plugins"]["entries"]["a-plugin"]["enabled"], true);
    }

    /// Every `openclaw.json` the captures hold (written for real OpenClaw gateways).
    #[test]
    fn reads_every_captured_openclaw_json() {
        fn walk(dir: &Path, found: &mut Vec<std::path::PathBuf>) {
            for e in std::fs::read_dir(dir).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    walk(&p, found);
                } else if p.file_name().is_some_and(|n| n == "openclaw.json") {
                    found.push(p);
                }
            }
        }
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/openclaw");
        let mut found = Vec::new();
        walk(&root, &mut found);
        assert!(
            found.len() >= 10,
            "{} openclaw.json under {}",
            found.len(),
            root.display()
        );
        for p in found {
            let v = super::parse(&p, &std::fs::read_to_string(&p).unwrap()).unwrap();
            assert!(v["gateway"]["port"].is_u64(), "{}: {v}", p.display());
            assert_eq!(v["gateway"]["auth"]["mode"], "token", "{}", p.display());
        }
    }

    #[test]
    fn plain_json_passes_through() {
        let v = parse(r#"{"a": [1, 2, {"b": null}], "c": "d,}"}"#).unwrap();
        assert_eq!(v["c"], "d,}");
    }

    /// What OpenClaw's JSON5 parser accepts beyond comments, unquoted keys, single quotes
    /// and trailing commas, as an editor may write it.
    #[test]
    fn the_rest_of_json5_as_openclaw_reads_it() {
        let v = parse(
            "\u{feff}{port: 0x4A51, a: +1, b: .5, c: 5., s: 'x\\\ny\\x41', ünï: 1, \\u0061b: 2}",
        )
        .unwrap();
        assert_eq!(v["port"], 0x4A51);
        assert_eq!(v["a"], 1);
        assert_eq!(v["b"], 0.5);
        assert_eq!(v["c"], 5.0);
        assert_eq!(v["s"], "xyA");
        assert_eq!(v["ünï"], 1);
        assert_eq!(v["ab"], 2);
        // No JSON number for them; the keys are there.
        let v = parse("{i: Infinity, n: NaN}").unwrap();
        assert!(v["i"].is_null() && v["n"].is_null());
        assert_eq!(parse("{a: 1, a: 2}").unwrap()["a"], 2);
    }

    /// What OpenClaw rejects is rejected here too, in one line naming the file.
    #[test]
    fn what_openclaw_rejects_is_one_line_naming_the_file() {
        for bad in [
            "",
            "// nothing\n",
            "{ broken",
            "{a: 1 b: 2}",
            "{a-b: 1}",
            "{1: 2}",
            "{s: 'a\nb'}",
            "{a: 1,,}",
            "{a: 1} x",
            "{a: 1} /* end",
            "{a: hello}",
            "{n: 010}",
        ] {
            let e = parse(bad).expect_err(bad);
            assert!(
                e.starts_with("/state/openclaw.json: not valid JSON5: "),
                "{bad:?}: {e}"
            );
            assert!(!e.contains('\n'), "{bad:?}: {e}");
        }
        assert_eq!(
            parse("{a: 1 b: 2}").unwrap_err(),
            "/state/openclaw.json: not valid JSON5: expected comma at line 1 column 7"
        );
    }
}
