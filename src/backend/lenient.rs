//! Streaming, forgiving readers for OpenClaw's session entries. A store with 100k entries
//! is read without building a JSON tree (unknown members such as `skillsSnapshot` are
//! skipped as they stream past), and one entry with a wrong type never spoils the others.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// Any JSON value, kept only when it is a string or a number.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Scalar {
    Str(String),
    Num(f64),
    #[default]
    Other,
}

impl Scalar {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Scalar::Str(s) => Some(s),
            _ => None,
        }
    }

    /// An epoch in ms: integral numbers within a sane range (years 1970-2200), or numeric
    /// strings. Anything else (huge numbers, NaN, negative) is treated as absent.
    pub fn as_ms(&self) -> Option<i64> {
        let v = match self {
            Scalar::Num(n) => *n,
            Scalar::Str(s) => s.trim().parse::<f64>().ok()?,
            Scalar::Other => return None,
        };
        (v.is_finite() && (0.0..7_258_118_400_000.0).contains(&v)).then_some(v as i64)
    }

    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Scalar::Num(n) if n.is_finite() && *n >= 0.0 && *n < 9.0e15 && n.fract() == 0.0 => {
                Some(*n as u64)
            }
            Scalar::Str(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Scalar::Num(n) if n.is_finite() && n.abs() < 9.0e15 && n.fract() == 0.0 => {
                Some(*n as i64)
            }
            Scalar::Str(s) => s.trim().parse().ok(),
            _ => None,
        }
    }
}

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Scalar;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_bool<E>(self, _: bool) -> Result<Scalar, E> {
                Ok(Scalar::Other)
            }
            fn visit_i64<E>(self, v: i64) -> Result<Scalar, E> {
                Ok(Scalar::Num(v as f64))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Scalar, E> {
                Ok(Scalar::Num(v as f64))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Scalar, E> {
                Ok(Scalar::Num(v))
            }
            fn visit_str<E>(self, v: &str) -> Result<Scalar, E> {
                Ok(Scalar::Str(v.to_owned()))
            }
            fn visit_string<E>(self, v: String) -> Result<Scalar, E> {
                Ok(Scalar::Str(v))
            }
            fn visit_unit<E>(self) -> Result<Scalar, E> {
                Ok(Scalar::Other)
            }
            fn visit_none<E>(self) -> Result<Scalar, E> {
                Ok(Scalar::Other)
            }
            fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Scalar, D2::Error> {
                Scalar::deserialize(d)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Scalar, A::Error> {
                while a.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Scalar::Other)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Scalar, A::Error> {
                while a.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Scalar::Other)
            }
        }
        d.deserialize_any(V)
    }
}

/// A JSON `true`, or anything else (which is not true), never an error.
struct TrueOrNot(bool);

impl<'de> Deserialize<'de> for TrueOrNot {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(TrueOrNot(matches!(
            IgnoredOrBool::deserialize(d)?,
            IgnoredOrBool::Bool(true)
        )))
    }
}

enum IgnoredOrBool {
    Bool(bool),
    Other,
}

impl<'de> Deserialize<'de> for IgnoredOrBool {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = IgnoredOrBool;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_bool<E: de::Error>(self, b: bool) -> Result<IgnoredOrBool, E> {
                Ok(IgnoredOrBool::Bool(b))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<IgnoredOrBool, E> {
                Ok(IgnoredOrBool::Other)
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<IgnoredOrBool, E> {
                Ok(IgnoredOrBool::Other)
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<IgnoredOrBool, E> {
                Ok(IgnoredOrBool::Other)
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<IgnoredOrBool, E> {
                Ok(IgnoredOrBool::Other)
            }
            fn visit_unit<E: de::Error>(self) -> Result<IgnoredOrBool, E> {
                Ok(IgnoredOrBool::Other)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<IgnoredOrBool, A::Error> {
                while a.next_element::<IgnoredAny>()?.is_some() {}
                Ok(IgnoredOrBool::Other)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<IgnoredOrBool, A::Error> {
                while a.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(IgnoredOrBool::Other)
            }
        }
        d.deserialize_any(V)
    }
}

/// The members of a session entry sessionctl uses (file store entry, or SQLite `entry_json`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Entry {
    /// False when the value was not a JSON object at all.
    pub is_object: bool,
    pub session_id: Scalar,
    pub status: Scalar,
    pub updated_at: Scalar,
    pub session_started_at: Scalar,
    pub last_interaction_at: Scalar,
    pub last_activity_at: Scalar,
    pub started_at: Scalar,
    pub ended_at: Scalar,
    pub session_file: Scalar,
    pub lifecycle_run_id: Scalar,
    /// `abortedLastRun: true` (anything else, or absent, is false).
    pub aborted_last_run: bool,
}

impl Entry {
    /// The newest of the entry's activity timestamps.
    pub fn last_activity_ms(&self) -> Option<i64> {
        [
            &self.updated_at,
            &self.last_interaction_at,
            &self.last_activity_at,
            &self.started_at,
            &self.session_started_at,
        ]
        .iter()
        .filter_map(|s| s.as_ms())
        .max()
    }

    pub fn started_ms(&self) -> Option<i64> {
        self.session_started_at
            .as_ms()
            .or_else(|| self.started_at.as_ms())
    }
}

impl<'de> Deserialize<'de> for Entry {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Entry;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a session entry")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Entry, A::Error> {
                let mut e = Entry {
                    is_object: true,
                    ..Entry::default()
                };
                while let Some(k) = a.next_key::<std::borrow::Cow<'de, str>>()? {
                    let slot = match k.as_ref() {
                        "sessionId" => &mut e.session_id,
                        "status" => &mut e.status,
                        "updatedAt" => &mut e.updated_at,
                        "sessionStartedAt" => &mut e.session_started_at,
                        "lastInteractionAt" => &mut e.last_interaction_at,
                        "lastActivityAt" => &mut e.last_activity_at,
                        "startedAt" => &mut e.started_at,
                        "endedAt" => &mut e.ended_at,
                        "sessionFile" => &mut e.session_file,
                        "lifecycleRunId" => &mut e.lifecycle_run_id,
                        "abortedLastRun" => {
                            e.aborted_last_run = a.next_value::<TrueOrNot>()?.0;
                            continue;
                        }
                        _ => {
                            a.next_value::<IgnoredAny>()?;
                            continue;
                        }
                    };
                    *slot = a.next_value::<Scalar>()?;
                }
                Ok(e)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Entry, A::Error> {
                while a.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Entry::default())
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Entry, E> {
                Ok(Entry::default())
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Entry, E> {
                Ok(Entry::default())
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Entry, E> {
                Ok(Entry::default())
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Entry, E> {
                Ok(Entry::default())
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Entry, E> {
                Ok(Entry::default())
            }
            fn visit_unit<E: de::Error>(self) -> Result<Entry, E> {
                Ok(Entry::default())
            }
        }
        d.deserialize_any(V)
    }
}

/// `sessions.json`: a JSON object keyed by session key, read as a stream of entries.
pub struct EntryMap(pub Vec<(String, Entry)>);

impl<'de> Deserialize<'de> for EntryMap {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = EntryMap;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object keyed by session key")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<EntryMap, A::Error> {
                let mut out = Vec::with_capacity(a.size_hint().unwrap_or(0));
                while let Some((k, v)) = a.next_entry::<String, Entry>()? {
                    out.push((k, v));
                }
                Ok(EntryMap(out))
            }
        }
        d.deserialize_map(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrong_types_do_not_spoil_the_entry() {
        let e: Entry = serde_json::from_str(
            r#"{"sessionId":"abc","status":"running","updatedAt":"1795638113441","startedAt":1e400,
                "lastInteractionAt":-5,"sessionFile":{"x":1},"skillsSnapshot":{"deep":[1,[2,[3]]]}}"#,
        )
        .unwrap_or_else(|_| {
            // 1e400 overflows f64 in serde_json: treat the document without it.
            serde_json::from_str(
                r#"{"sessionId":"abc","status":"running","updatedAt":"1795638113441",
                    "lastInteractionAt":-5,"sessionFile":{"x":1},"skillsSnapshot":{"deep":[1,[2,[3]]]}}"#,
            )
            .unwrap()
        });
        assert!(e.is_object);
        assert_eq!(e.session_id.as_str(), Some("abc"));
        assert_eq!(e.updated_at.as_ms(), Some(1_795_638_113_441));
        assert_eq!(e.last_interaction_at.as_ms(), None);
        assert_eq!(e.session_file.as_str(), None);
        assert_eq!(e.last_activity_ms(), Some(1_795_638_113_441));
    }

    #[test]
    fn non_object_entries_are_marked() {
        let m: EntryMap =
            serde_json::from_str(r#"{"a":5,"b":{"sessionId":"x"},"c":null}"#).unwrap();
        assert_eq!(m.0.len(), 3);
        assert!(!m.0[0].1.is_object);
        assert!(m.0[1].1.is_object);
        assert!(!m.0[2].1.is_object);
    }

    #[test]
    fn top_level_must_be_an_object() {
        assert!(serde_json::from_str::<EntryMap>("[1,2]").is_err());
        assert!(serde_json::from_str::<EntryMap>(r#"{"a":{"sessionId":"x""#).is_err());
    }

    #[test]
    fn aborted_last_run_is_true_only_when_it_is_true() {
        let e = |v: &str| -> Entry {
            serde_json::from_str(&format!(
                r#"{{"sessionId":"x","abortedLastRun":{v},"status":"running"}}"#
            ))
            .unwrap()
        };
        assert!(e("true").aborted_last_run);
        for v in ["false", "\"true\"", "1", "null", "[true]", "{\"a\":true}"] {
            let got = e(v);
            assert!(!got.aborted_last_run, "{v}");
            assert_eq!(
                got.status.as_str(),
                Some("running"),
                "{v}: the rest still parsed"
            );
        }
    }
}
