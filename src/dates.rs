//! Dates on the command line and in output, all in UTC, without a date library:
//! `YYYY-MM-DD`, ISO 8601 (`2026-03-01T12:30:00Z`, offsets allowed) or Unix seconds.

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

fn parse_utc(input: &str, edge: DayEdge) -> Option<i64> {
    if !input.is_empty() && input.bytes().all(|b| b.is_ascii_digit()) {
        return input.parse().ok();
    }
    let (date, rest) = input.split_at(input.len().min(10));
    let day_start = days_from_civil(parse_ymd(date)?) * DAY;
    if rest.is_empty() {
        return Some(match edge {
            DayEdge::Start => day_start,
            DayEdge::End => day_start + DAY - 1,
        });
    }
    let time = rest.strip_prefix(['T', 't', ' '])?;
    let (clock, offset) = split_offset(time)?;
    Some(day_start + parse_clock(clock)? - offset)
}

fn parse_ymd(date: &str) -> Option<(i64, u32, u32)> {
    let mut parts = date.split('-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    let (y, m, d) = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
    ((1..=12).contains(&m) && (1..=days_in_month(y, m)).contains(&d)).then_some((y, m, d))
}

/// `HH:MM[:SS[.fraction]]` to seconds after midnight.
fn parse_clock(clock: &str) -> Option<i64> {
    let clock = clock.split('.').next()?;
    let mut parts = clock.split(':');
    let h: i64 = two_digits(parts.next()?)?;
    let m: i64 = two_digits(parts.next()?)?;
    let s: i64 = parts.next().map(two_digits).unwrap_or(Some(0))?;
    if parts.next().is_some() || h > 23 || m > 59 || s > 60 {
        return None;
    }
    Some(h * 3600 + m * 60 + s)
}

fn two_digits(text: &str) -> Option<i64> {
    (text.len() == 2 && text.bytes().all(|b| b.is_ascii_digit())).then(|| text.parse().ok())?
}

/// Splits `12:00:00+02:00` into the clock and the offset in seconds east of UTC.
fn split_offset(time: &str) -> Option<(&str, i64)> {
    if let Some(clock) = time.strip_suffix(['Z', 'z']) {
        return Some((clock, 0));
    }
    match time.rfind(['+', '-']) {
        Some(at) => {
            let (clock, offset) = time.split_at(at);
            let sign = if offset.starts_with('-') { -1 } else { 1 };
            let digits = offset[1..].replace(':', "");
            if digits.len() != 4 {
                return None;
            }
            let hours: i64 = two_digits(&digits[..2])?;
            let minutes: i64 = two_digits(&digits[2..])?;
            Some((clock, sign * (hours * 3600 + minutes * 60)))
        }
        None => Some((time, 0)),
    }
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 (Howard Hinnant's `days_from_civil`).
fn days_from_civil((y, m, d): (i64, u32, u32)) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
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
            let (y, m, d) = civil_from_days(day);
            assert_eq!(days_from_civil((y, m, d)), day);
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
}
