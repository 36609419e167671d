//! Lengths of time, for flags and the config file alike: `--idle`, a target's `timeout`,
//! `[journal] keep` and the config's `idle`.
//!
//! The syntax is humantime's (`90s`, `30m`, `1h30m`, `2d`, `500ms`, `1h 30m`, `2 days`),
//! with two rules of our own on top, because both mistakes parse to something that looks
//! plausible and is wrong: a number without a unit is refused with the unit the caller
//! expects suggested (`--idle 6` was six seconds once, which made every live session
//! stale), and so is a leading `-`, which humantime would call a missing number.

use std::time::Duration;

/// The units named in error messages; humantime takes more (`w`, `min`, `hours`, `days`, …).
const UNITS: &str = "units: ms, s, m, h, d";

/// Parse `s`; `bare_unit` is the unit suggested for a number given without one (`h` for
/// an idle time, `s` for a timeout).
pub fn parse(s: &str, bare_unit: &str) -> Result<Duration, String> {
    let t = s.trim();
    let shown = s.escape_debug();
    if t.is_empty() {
        return Err(format!(
            "an empty duration; give a number and a unit, such as 6h ({UNITS})"
        ));
    }
    if let Some(rest) = t
        .strip_prefix('-')
        .filter(|r| r.starts_with(|c: char| c.is_ascii_digit()))
    {
        return Err(format!(
            "`{shown}` is negative; a duration is a length of time, such as {}",
            rest
        ));
    }
    humantime::parse_duration(t).map_err(|e| match e {
        humantime::DurationError::UnknownUnit { unit, value, .. } if unit.is_empty() => {
            if t.bytes().all(|b| b.is_ascii_digit()) {
                format!("`{shown}` has no unit; did you mean {t}{bare_unit}? ({UNITS})")
            } else {
                format!("`{shown}` ends in {value} without a unit ({UNITS})")
            }
        }
        humantime::DurationError::UnknownUnit { unit, .. } => format!(
            "`{shown}` has an unknown unit `{}` ({UNITS})",
            unit.escape_debug()
        ),
        humantime::DurationError::NumberOverflow => format!("`{shown}` is too large"),
        _ => format!("`{shown}` is not a duration (such as 90s, 30m, 1h30m or 2d)"),
    })
}

/// `--idle` and the config's `idle`: a bare number is taken to mean hours in the hint.
pub fn parse_idle(s: &str) -> Result<Duration, String> {
    parse(s, "h")
}

/// Whole milliseconds, saturating at `i64::MAX` (the unit the classifier and journal use).
pub fn as_ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepted_forms() {
        let secs = |s: &str| parse(s, "h").unwrap().as_secs();
        assert_eq!(secs("90s"), 90);
        assert_eq!(secs("30m"), 1800);
        assert_eq!(secs("6h"), 21_600);
        assert_eq!(secs("1h30m"), 5400);
        assert_eq!(secs("1h 30m"), 5400);
        assert_eq!(secs("2d"), 172_800);
        assert_eq!(secs("30d"), 30 * 86_400);
        assert_eq!(secs("3650d"), 3650 * 86_400);
        assert_eq!(secs(" 5s "), 5);
        assert_eq!(secs("0"), 0);
        assert_eq!(parse("500ms", "s").unwrap(), Duration::from_millis(500));
        assert_eq!(as_ms(Duration::from_secs(6 * 3600)), 21_600_000);
        assert_eq!(as_ms(Duration::MAX), i64::MAX);
    }

    #[test]
    fn a_bare_number_suggests_the_callers_unit() {
        assert_eq!(
            parse_idle("6").unwrap_err(),
            "`6` has no unit; did you mean 6h? (units: ms, s, m, h, d)"
        );
        assert_eq!(
            parse("5", "s").unwrap_err(),
            "`5` has no unit; did you mean 5s? (units: ms, s, m, h, d)"
        );
        assert_eq!(
            parse_idle("1h30").unwrap_err(),
            "`1h30` ends in 30 without a unit (units: ms, s, m, h, d)"
        );
    }

    #[test]
    fn other_mistakes() {
        assert_eq!(
            parse_idle("-5m").unwrap_err(),
            "`-5m` is negative; a duration is a length of time, such as 5m"
        );
        assert!(parse_idle("").unwrap_err().starts_with("an empty duration"));
        // An option where a value was due (`--idle --format json`) is not "negative".
        assert_eq!(
            parse_idle("--format").unwrap_err(),
            "`--format` is not a duration (such as 90s, 30m, 1h30m or 2d)"
        );
        assert_eq!(
            parse_idle("6x").unwrap_err(),
            "`6x` has an unknown unit `x` (units: ms, s, m, h, d)"
        );
        assert!(parse_idle("h").unwrap_err().contains("is not a duration"));
        assert!(parse_idle("forever")
            .unwrap_err()
            .contains("is not a duration"));
        assert_eq!(
            parse_idle("99999999999999999999h").unwrap_err(),
            "`99999999999999999999h` is too large"
        );
    }
}
