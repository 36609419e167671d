//! Epoch-millisecond helpers: RFC 3339 timestamps through humantime, and compact ages.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serializer;

/// 9999-12-31T23:59:59.999Z, the last instant RFC 3339 (four-digit years) can write.
const MAX_MS: i64 = 253_402_300_799_999;

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// `ms` as a time humantime can format: RFC 3339 starts at the epoch for humantime and
/// ends with year 9999. The backends keep every timestamp they read within 1970–2200
/// (`backend::sane_ms`); anything else is shown at the nearest end rather than as a
/// string no date-time parser reads.
fn system_time(ms: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(ms.clamp(0, MAX_MS) as u64)
}

/// `2026-11-25T20:21:53.441Z` for an epoch in milliseconds.
pub fn iso_ms(ms: i64) -> String {
    humantime::format_rfc3339_millis(system_time(ms)).to_string()
}

/// Parse the RFC 3339 UTC timestamps OpenClaw and the linked-row backends write
/// (`2026-11-25T20:21:07.275Z`, fraction optional) into epoch ms; digits past the
/// millisecond are dropped.
pub fn parse_iso_ms(s: &str) -> Option<i64> {
    let s = s.trim();
    // humantime takes a `.` with no digits after it; a writer that left them out is not
    // one we know.
    if s.ends_with(".Z") {
        return None;
    }
    let t = humantime::parse_rfc3339(s).ok()?;
    i64::try_from(t.duration_since(UNIX_EPOCH).ok()?.as_millis()).ok()
}

/// "3h 12m", "45s", "2d 4h" — a compact age for tables.
pub fn human_age(ms: i64) -> String {
    if ms < 0 {
        return "in the future".into();
    }
    let s = ms / 1000;
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m {}s", s / 60, s % 60),
        3600..=86_399 => format!("{}h {}m", s / 3600, (s % 3600) / 60),
        _ => format!("{}d {}h", s / 86_400, (s % 86_400) / 3600),
    }
}

// Written straight into the serializer's output: list --format json writes one or two
// per row, on stores with a million rows.
pub fn ser_ms<S: Serializer>(v: &i64, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&humantime::format_rfc3339_millis(system_time(*v)))
}

pub fn ser_opt_ms<S: Serializer>(v: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(ms) => ser_ms(ms, s),
        None => s.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_round_trip() {
        // From the 2026.7.35 fixture: lock createdAt and the same instant in ms.
        let ms = parse_iso_ms("2026-11-25T20:21:53.463Z").unwrap();
        assert_eq!(iso_ms(ms), "2026-11-25T20:21:53.463Z");
        assert_eq!(parse_iso_ms("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(iso_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso_ms(1_764_100_000_000), "2025-11-25T19:46:40.000Z");
        assert_eq!(
            parse_iso_ms("2025-11-25T19:46:40.000Z"),
            Some(1_764_100_000_000)
        );
        assert_eq!(
            parse_iso_ms("2024-02-29T12:00:00.5Z"),
            Some(1_709_208_000_500)
        );
        assert_eq!(iso_ms(1_709_208_000_500), "2024-02-29T12:00:00.500Z");
        // Digits past the millisecond are dropped, not rounded; a UTC offset of zero is
        // the same instant.
        assert_eq!(
            parse_iso_ms(" 2026-11-25T20:21:53.463999Z\n"),
            parse_iso_ms("2026-11-25T20:21:53.463+00:00")
        );
        // The end of 2199, past which the backends treat a timestamp as absent.
        assert_eq!(iso_ms(7_258_118_399_999), "2199-12-31T23:59:59.999Z");
        assert_eq!(
            parse_iso_ms("2199-12-31T23:59:59.999Z"),
            Some(7_258_118_399_999)
        );
    }

    #[test]
    fn iso_ms_matches_the_serializer() {
        #[derive(serde::Serialize)]
        struct T {
            #[serde(serialize_with = "ser_ms")]
            a: i64,
            #[serde(serialize_with = "ser_opt_ms")]
            b: Option<i64>,
            #[serde(serialize_with = "ser_opt_ms")]
            c: Option<i64>,
        }
        let t = T {
            a: 1_764_100_000_123,
            b: Some(0),
            c: None,
        };
        assert_eq!(
            serde_json::to_string(&t).unwrap(),
            r#"{"a":"2025-11-25T19:46:40.123Z","b":"1970-01-01T00:00:00.000Z","c":null}"#
        );
    }

    #[test]
    fn out_of_range_is_shown_at_the_nearest_end() {
        assert_eq!(iso_ms(-1), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso_ms(i64::MIN), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso_ms(i64::MAX), "9999-12-31T23:59:59.999Z");
        assert_eq!(iso_ms(MAX_MS), "9999-12-31T23:59:59.999Z");
    }

    #[test]
    fn iso_rejects_garbage() {
        for bad in [
            "",
            "yesterday",
            "2026-13-01T00:00:00Z",
            "2026-02-30T00:00:00Z",
            "2026-11-25 20:21:53Z",
            "2026-11-25T20:21:53.Z",
            "2026-11-25T20:21:53",
            "2026-11-25T20:21:53+01:00",
            "1969-12-31T23:59:59Z",
            "2026-11-25T20:21:53.4x3Z",
        ] {
            assert_eq!(parse_iso_ms(bad), None, "{bad}");
        }
    }

    #[test]
    fn ages() {
        assert_eq!(human_age(5_000), "5s");
        assert_eq!(human_age(3_725_000), "1h 2m");
        assert_eq!(human_age(90_000_000), "1d 1h");
    }
}
