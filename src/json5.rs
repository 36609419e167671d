//! Enough JSON5 to read OpenClaw's `openclaw.json`: comments, unquoted keys, single-quoted
//! strings and trailing commas are turned into plain JSON, which serde_json then parses.
//! Only used to look up a few settings (ports); never to rewrite the file.

/// Convert JSON5 text to JSON text.
pub fn to_json(src: &str) -> String {
    let b: Vec<char> = src.chars().collect();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        match c {
            '"' | '\'' => {
                let q = c;
                out.push('"');
                i += 1;
                while i < b.len() && b[i] != q {
                    if b[i] == '\\' && i + 1 < b.len() {
                        if b[i + 1] == '\'' {
                            out.push('\'');
                        } else {
                            out.push('\\');
                            out.push(b[i + 1]);
                        }
                        i += 2;
                        continue;
                    }
                    if b[i] == '"' {
                        out.push('\\');
                    }
                    out.push(b[i]);
                    i += 1;
                }
                out.push('"');
                i += 1;
            }
            '/' if b.get(i + 1) == Some(&'/') => {
                while i < b.len() && b[i] != '\n' {
                    i += 1;
                }
            }
            '/' if b.get(i + 1) == Some(&'*') => {
                i += 2;
                while i + 1 < b.len() && !(b[i] == '*' && b[i + 1] == '/') {
                    i += 1;
                }
                i += 2;
            }
            c if c.is_ascii_alphabetic() || c == '_' || c == '$' => {
                let start = i;
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == '_' || b[i] == '$') {
                    i += 1;
                }
                let word: String = b[start..i].iter().collect();
                let mut j = i;
                while j < b.len() && b[j].is_whitespace() {
                    j += 1;
                }
                if b.get(j) == Some(&':') {
                    out.push('"');
                    out.push_str(&word);
                    out.push('"');
                } else {
                    out.push_str(&word);
                }
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    strip_trailing_commas(&out)
}

/// Drop a `,` that is followed (after whitespace) by `}` or `]`, outside strings.
fn strip_trailing_commas(s: &str) -> String {
    let b: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut in_str = false;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if in_str {
            out.push(c);
            if c == '\\' && i + 1 < b.len() {
                out.push(b[i + 1]);
                i += 2;
                continue;
            }
            if c == '"' {
                in_str = false;
            }
        } else if c == '"' {
            in_str = true;
            out.push(c);
        } else if c == ',' {
            let mut j = i + 1;
            while j < b.len() && b[j].is_whitespace() {
                j += 1;
            }
            if !matches!(b.get(j), Some('}') | Some(']')) {
                out.push(c);
            }
        } else {
            out.push(c);
        }
        i += 1;
    }
    out
}

/// Parse JSON5 text into a JSON value.
pub fn parse(src: &str) -> Result<serde_json::Value, serde_json::Error> {
    serde_json::from_str(&to_json(src))
}

#[cfg(test)]
mod tests {
    use super::*;

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
    entries: { "claude-mem": { enabled: true, config: { workerPort: 37700, url: "http://x//y" } } },
    load: { paths: ['a', "b",], },
  },
  note: 'it\'s "quoted"',
}"#;
        let v = parse(src).unwrap();
        assert_eq!(v["gateway"]["port"], 18801);
        assert_eq!(v["gateway"]["auth"]["mode"], "token");
        assert_eq!(
            v["plugins"]["entries"]["claude-mem"]["config"]["workerPort"],
            37700
        );
        assert_eq!(
            v["plugins"]["entries"]["claude-mem"]["config"]["url"],
            "http://x//y"
        );
        assert_eq!(v["plugins"]["load"]["paths"][1], "b");
        assert_eq!(v["note"], "it's \"quoted\"");
        assert_eq!(v["plugins"]["entries"]["claude-mem"]["enabled"], true);
    }

    #[test]
    fn plain_json_passes_through() {
        let v = parse(r#"{"a": [1, 2, {"b": null}], "c": "d,}"}"#).unwrap();
        assert_eq!(v["c"], "d,}");
        assert!(parse("{ broken").is_err());
    }
}
