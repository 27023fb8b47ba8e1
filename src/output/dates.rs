//! Dates on the command line and in output, all in UTC: `YYYY-MM-DD`, ISO 8601
//! (`2026-03-01T12:30:00Z`, offsets allowed) or Unix seconds. Parsing is chrono's, which
//! checks every field (offsets beyond ±23:59 included) and never panics on odd input;
//! formatting stays a few lines of civil-date arithmetic.

use crate::error::{CliError, Result};
use crate::output::Cell;

const DAY: i64 = 86_400;

/// Which end of a bare `YYYY-MM-DD` a date means: `--start` is the first second of the day,
/// `--end` the last, so `--start 2026-03-01 --end 2026-03-01` covers that whole day.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DayEdge {
    Start,
    End,
}

/// Parses a date option to Unix seconds; anything else is exit 2 naming the accepted forms.
pub fn parse(input: &str, edge: DayEdge, option: &str) -> Result<i64> {
    parse_utc(input.trim(), edge).ok_or_else(|| {
        CliError::usage(format!(
            "invalid {option} `{input}`: use YYYY-MM-DD, ISO 8601 (2026-03-01T12:00:00Z) or Unix seconds"
        ))
    })
}

/// The `--start` and `--end` options of a listing, parsed, with start after end exit 2.
/// Shared by every command that filters by time.
pub fn range(m: &clap::ArgMatches) -> Result<(Option<i64>, Option<i64>)> {
    let date = |id: &str, edge: DayEdge| {
        m.get_one::<String>(id)
            .map(|given| parse(given, edge, &format!("--{id}")))
            .transpose()
    };
    let (start, end) = (date("start", DayEdge::Start)?, date("end", DayEdge::End)?);
    if let (Some(start), Some(end)) = (start, end) {
        if start > end {
            return Err(CliError::usage(format!(
                "--start ({}) is after --end ({})",
                format_iso(start),
                format_iso(end)
            )));
        }
    }
    Ok((start, end))
}

fn parse_utc(input: &str, edge: DayEdge) -> Option<i64> {
    use chrono::{DateTime, NaiveDate, NaiveDateTime};
    if !input.is_empty() && input.bytes().all(|b| b.is_ascii_digit()) {
        return input.parse().ok();
    }
    // A bare date is exactly `YYYY-MM-DD` (chrono alone would also take `2026-3-1`).
    if input.len() == 10 {
        let day = NaiveDate::parse_from_str(input, "%Y-%m-%d").ok()?;
        let day_start = day.and_hms_opt(0, 0, 0)?.and_utc().timestamp();
        return Some(match edge {
            DayEdge::Start => day_start,
            DayEdge::End => day_start + DAY - 1,
        });
    }
    let iso = input.replacen([' ', 't'], "T", 1).replace('z', "Z");
    for format in ["%Y-%m-%dT%H:%M:%S%.f%#z", "%Y-%m-%dT%H:%M%#z"] {
        if let Ok(at) = DateTime::parse_from_str(&iso, format) {
            return Some(at.timestamp());
        }
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%dT%H:%M:%S%.fZ",
        "%Y-%m-%dT%H:%MZ",
    ] {
        if let Ok(at) = NaiveDateTime::parse_from_str(&iso, format) {
            return Some(at.and_utc().timestamp());
        }
    }
    None
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

fn parts(unix: i64) -> (i64, u32, u32, i64, i64, i64) {
    let (y, m, d) = civil_from_days(unix.div_euclid(DAY));
    let secs = unix.rem_euclid(DAY);
    (y, m, d, secs / 3600, secs % 3600 / 60, secs % 60)
}

/// `2026-03-01 12:30:00` (UTC), for tables.
pub fn format_datetime(unix: i64) -> String {
    let (y, m, d, hh, mm, ss) = parts(unix);
    format!("{y:04}-{m:02}-{d:02} {hh:02}:{mm:02}:{ss:02}")
}

/// `2026-03-01T12:30:00Z`, for json and yaml.
pub fn format_iso(unix: i64) -> String {
    let (y, m, d, hh, mm, ss) = parts(unix);
    format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}Z")
}

/// A server timestamp as a cell: `2026-03-01T12:30:00Z` in json and yaml,
/// `2026-03-01 12:30:00` in tables. The console sends 0 (or less) for "never happened",
/// which is `null` / `-` rather than 1970.
pub fn timestamp_cell(unix: i64) -> Cell {
    if unix <= 0 {
        return Cell::new(serde_json::Value::Null);
    }
    Cell::with_text(format_iso(unix), format_datetime(unix))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MARCH_1: i64 = 1_772_323_200; // 2026-03-01T00:00:00Z

    #[test]
    fn accepts_the_three_forms() {
        assert_eq!(
            parse("2026-03-01", DayEdge::Start, "--start").ok(),
            Some(MARCH_1)
        );
        assert_eq!(
            parse("2026-03-01", DayEdge::End, "--end").ok(),
            Some(MARCH_1 + DAY - 1)
        );
        assert_eq!(
            parse("2026-03-01T12:30:00Z", DayEdge::End, "--end").ok(),
            Some(MARCH_1 + 45_000)
        );
        assert_eq!(
            parse("2026-03-01T12:30", DayEdge::Start, "--start").ok(),
            Some(MARCH_1 + 45_000)
        );
        assert_eq!(
            parse("2026-03-01 12:30:00.250", DayEdge::Start, "--start").ok(),
            Some(MARCH_1 + 45_000)
        );
        assert_eq!(
            parse("2026-03-01T14:30:00+02:00", DayEdge::Start, "--start").ok(),
            Some(MARCH_1 + 45_000)
        );
        assert_eq!(
            parse("2026-03-01T10:00:00-0230", DayEdge::Start, "--start").ok(),
            Some(MARCH_1 + 45_000)
        );
        assert_eq!(
            parse("1772323200", DayEdge::End, "--end").ok(),
            Some(MARCH_1)
        );
    }

    #[test]
    fn rejects_what_is_not_a_date() {
        for bad in [
            "",
            "yesterday",
            "2026-02-30",
            "2026-13-01",
            "2026-3-1",
            "2026-03-01T25:00",
            "2026-03-01X",
            "-5",
            "2026-03-01T12:00:00+1é1",
            "2026-03-01T12:00:00+25:00",
            "2026-03-01T12:00:00-99:99",
            "2026-03-01T12:00:00+02:60",
            "é026-03-01",
            "2026-03-01Té",
        ] {
            let err = parse(bad, DayEdge::Start, "--start").expect_err(bad);
            assert_eq!(err.exit.code(), 2, "{bad}");
            assert!(
                err.message.contains("YYYY-MM-DD, ISO 8601"),
                "{}",
                err.message
            );
        }
    }

    #[test]
    fn formats_round_trip_across_leap_days_and_the_epoch() {
        assert_eq!(format_datetime(MARCH_1 + 45_000), "2026-03-01 12:30:00");
        assert_eq!(format_iso(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_iso(951_782_400), "2000-02-29T00:00:00Z");
        for day in [-1000, 0, 11_016, 20_513, 40_000] {
            let expected = chrono::DateTime::from_timestamp(day * DAY, 0).expect("in range");
            assert_eq!(
                format_iso(day * DAY),
                expected.format("%Y-%m-%dT%H:%M:%SZ").to_string()
            );
        }
    }

    #[test]
    fn timestamp_cells_are_iso_in_json_and_readable_in_tables() {
        let cell = timestamp_cell(MARCH_1 + 45_000);
        assert_eq!(cell.value, serde_json::json!("2026-03-01T12:30:00Z"));
        assert_eq!(cell.text, "2026-03-01 12:30:00");
        for unset in [0, -1] {
            let cell = timestamp_cell(unset);
            assert_eq!(cell.value, serde_json::Value::Null);
            assert_eq!(cell.text, "-");
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4000))]

        /// Any text at all: an answer or exit 2, never a panic.
        #[test]
        fn never_panics_on_any_text(input in "\\PC{0,40}") {
            let _ = parse(&input, DayEdge::Start, "--start");
            let _ = parse(&input, DayEdge::End, "--end");
        }

        /// Near-misses of the accepted forms: every field, separator and offset perturbed.
        #[test]
        fn never_panics_on_date_shaped_text(
            input in "[0-9é+-]{0,5}-[0-9é]{0,3}-[0-9]{0,3}[Tt zZ]?[0-9é:]{0,9}(\\.[0-9]{0,12})?[zZ+-é]?[0-9:é]{0,6}"
        ) {
            let _ = parse(&input, DayEdge::Start, "--start");
        }
    }
}
