//! The time limit of a request (`--timeout`, `COMETAPI_TIMEOUT`, config `timeout`):
//! a duration such as `30s`, `2m`, `1m30s`, `500ms`, or a number of seconds (`1.5`).
//! Durations are read and shown by jiff, the crate of the dates too.

use std::time::Duration;

/// Used when none is given.
pub const DEFAULT: Duration = Duration::from_secs(60);
/// Longer than anyone waits on purpose; also keeps `Instant` arithmetic far from overflow.
const LONGEST: Duration = Duration::from_secs(7 * 24 * 3600);

/// Reads a time limit; the error says what is accepted.
pub fn parse(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let duration = match text.parse::<f64>() {
        // A duration needs a unit; a bare number means seconds.
        Ok(secs) => Duration::try_from_secs_f64(secs).map_err(|_| invalid(text))?,
        Err(_) => with_units(text).ok_or_else(|| invalid(text))?,
    };
    if duration.is_zero() {
        return Err(format!("timeout `{text}` must be more than zero"));
    }
    if duration > LONGEST {
        return Err(format!("timeout `{text}` is longer than a week"));
    }
    Ok(duration)
}

/// `1m30s`, `2m 30s`, `1h`, `1d`, `500ms` (jiff's friendly format; ISO 8601 `PT30S` too).
/// Days are 24 hours; months and years, of no fixed length, are not taken, nor is
/// anything negative (`-5s`, `5s ago`).
fn with_units(text: &str) -> Option<Duration> {
    let span: jiff::Span = text.parse().ok()?;
    let signed = span
        .to_duration(jiff::SpanRelativeTo::days_are_24_hours())
        .ok()?;
    Duration::try_from(signed).ok()
}

/// `1s`, `1m 30s`, `250ms`: how a limit is shown in messages.
pub fn show(duration: Duration) -> String {
    // Whole milliseconds: every nanosecond of `1.3` would otherwise be printed.
    let millis = i64::try_from(duration.as_millis()).unwrap_or(i64::MAX);
    format!("{:#}", jiff::SignedDuration::from_millis(millis))
}

fn invalid(text: &str) -> String {
    format!("invalid timeout `{text}`: use a duration such as 30s, 2m, 1m30s or 500ms, or a number of seconds")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn units_and_plain_seconds() {
        assert_eq!(parse("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse(" 1.5 "), Ok(Duration::from_millis(1500)));
        assert_eq!(parse("10"), Ok(Duration::from_secs(10)));
        assert_eq!(parse("2m 30s"), Ok(Duration::from_secs(150)));
        assert_eq!(parse("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse("1d 2h"), Ok(Duration::from_secs(26 * 3600)));
        assert_eq!(parse("1w"), Ok(LONGEST));
        assert_eq!(parse("90 seconds"), Ok(Duration::from_secs(90)));
        assert_eq!(parse("1us"), Ok(Duration::from_micros(1)));
    }

    #[test]
    fn bad_values_are_errors() {
        for bad in [
            "",
            "0",
            "0s",
            "-1",
            "-5s",
            "abc",
            "1e400",
            "NaN",
            "inf",
            "10 parsecs",
            "30d",
            "8d",
            "1mo",
            "1y",
            "5s ago",
            "1m30",
            "s",
            "99999999999999999999h",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} must be rejected");
        }
        assert!(parse("abc").unwrap_err().contains("30s"));
    }

    #[test]
    fn shown_in_whole_milliseconds() {
        assert_eq!(show(Duration::from_secs(1)), "1s");
        assert_eq!(show(Duration::from_secs(90)), "1m 30s");
        assert_eq!(show(Duration::from_secs_f64(0.1000004)), "100ms");
        assert_eq!(show(Duration::from_millis(1500)), "1s 500ms");
        assert_eq!(show(Duration::from_secs(26 * 3600)), "26h");
        assert_eq!(show(Duration::ZERO), "0s");
        // Past what a limit can be: shown, not a panic.
        assert!(!show(Duration::MAX).is_empty());
    }

    #[test]
    fn what_is_shown_reads_back() {
        for secs in [1, 59, 61, 3599, 3601, 90_061, 604_800] {
            let duration = Duration::from_secs(secs);
            assert_eq!(parse(&show(duration)), Ok(duration), "{secs}s");
        }
    }

    proptest! {
        #[test]
        fn never_panics_and_accepts_only_positive_limits(text in ".{0,24}") {
            if let Ok(duration) = parse(&text) {
                prop_assert!(!duration.is_zero() && duration <= LONGEST);
            }
        }

        #[test]
        fn any_number_of_seconds_in_range_is_read_back(millis in 1u64..LONGEST.as_millis() as u64) {
            let secs = millis as f64 / 1000.0;
            let parsed = parse(&secs.to_string()).expect("in range");
            prop_assert!((parsed.as_secs_f64() - secs).abs() < 1e-6);
        }
    }
}
