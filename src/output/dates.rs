//! Dates on the command line and in output, all in UTC: `YYYY-MM-DD`, ISO 8601
//! (`2026-03-01T12:30:00Z`, offsets allowed) or Unix seconds. Reading and writing are
//! jiff's, which checks every field and never panics on odd input.

use jiff::civil::Time;
use jiff::fmt::temporal::Pieces;
use jiff::tz::Offset;
use jiff::Timestamp;

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
    if !input.is_empty() && input.bytes().all(|b| b.is_ascii_digit()) {
        return input.parse().ok();
    }
    let pieces = Pieces::parse(input).ok()?;
    // `[Europe/Paris]` would need the time zone database: not taken (nor ever was).
    if pieces.time_zone_annotation().is_some() {
        return None;
    }
    let offset = pieces.to_numeric_offset().unwrap_or(Offset::UTC);
    // jiff takes offsets up to ±25:59:59; ISO 8601 stops at ±23:59, as it always did here.
    if offset.seconds().unsigned_abs() >= 24 * 3600 {
        return None;
    }
    let at = |time: Time| {
        let at = offset.to_timestamp(pieces.date().to_datetime(time)).ok()?;
        Some(at.as_second())
    };
    match pieces.time() {
        Some(time) => at(time),
        // A bare date is exactly `YYYY-MM-DD` (jiff alone would also take `+002026-03-01`).
        None if input.len() == 10 => {
            let day_start = at(Time::midnight())?;
            Some(match edge {
                DayEdge::Start => day_start,
                DayEdge::End => day_start + DAY - 1,
            })
        }
        None => None,
    }
}

/// `2026-03-01 12:30:00` (UTC), for tables.
pub fn format_datetime(unix: i64) -> String {
    format_utc(unix, "%Y-%m-%d %H:%M:%S")
}

/// `2026-03-01T12:30:00Z`, for json and yaml.
pub fn format_iso(unix: i64) -> String {
    format_utc(unix, "%Y-%m-%dT%H:%M:%SZ")
}

/// A time past the years -9999 to 9999 (milliseconds sent as seconds, say) is shown as
/// the number it was.
fn format_utc(unix: i64, format: &str) -> String {
    match Timestamp::from_second(unix) {
        Ok(at) => at.strftime(format).to_string(),
        Err(_) => unix.to_string(),
    }
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
    fn lower_case_separators_and_minutes_with_an_offset_are_taken() {
        for spelling in [
            "2026-03-01t12:30:00z",
            "2026-03-01 12:30Z",
            "2026-03-01T13:30+01",
            "2026-03-01T12:30:00.999999999Z",
            " 2026-03-01T12:30:00Z ",
        ] {
            assert_eq!(
                parse(spelling, DayEdge::Start, "--start").ok(),
                Some(MARCH_1 + 45_000),
                "{spelling}"
            );
        }
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
            "+002026-03-01",
            "2026-03-01Z",
            "2026-03-01T12:00:00[Europe/Paris]",
            "2026-03-01T12:00:00+24:00",
            "2026-03-01T12:00:00.1234567890Z",
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
        for (day, expected) in [
            (-1000, "1967-04-07T00:00:00Z"),
            (0, "1970-01-01T00:00:00Z"),
            (11_016, "2000-02-29T00:00:00Z"),
            (20_513, "2026-03-01T00:00:00Z"),
            (40_000, "2079-07-08T00:00:00Z"),
        ] {
            assert_eq!(format_iso(day * DAY), expected);
        }
        assert_eq!(format_datetime(-1), "1969-12-31 23:59:59");
        assert_eq!(format_iso(253_402_128_000), "9999-12-30T00:00:00Z");
    }

    #[test]
    fn times_past_the_calendar_show_as_their_number() {
        for unix in [i64::MAX, i64::MIN, 1_772_323_200_000] {
            assert_eq!(format_iso(unix), unix.to_string());
            assert_eq!(format_datetime(unix), unix.to_string());
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
