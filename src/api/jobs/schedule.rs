//! How often a job is polled: every 2 s at first, each interval half as long again as
//! the one before, never more than 15 s, each jittered by up to a tenth either way so
//! that many clients do not poll in step. `COMETAPI_POLL_INTERVAL` (seconds) sets the
//! first interval and scales the whole schedule (tests use `0.05`).

use std::time::Duration;

use crate::cli::context::env_var;
use crate::error::{CliError, Result};

pub const ENV: &str = "COMETAPI_POLL_INTERVAL";
const FIRST: Duration = Duration::from_secs(2);
const CAP: Duration = Duration::from_secs(15);
const GROWTH: f64 = 1.5;
const JITTER: f64 = 0.1;

/// The intervals between polls, without end.
#[derive(Clone, Debug)]
pub struct Schedule {
    next: Duration,
    cap: Duration,
    jitter: bool,
}

impl Schedule {
    /// The default schedule, or the one `COMETAPI_POLL_INTERVAL` scales.
    pub fn from_env() -> Result<Schedule> {
        match env_var(ENV) {
            None => Ok(Schedule::starting_at(FIRST)),
            Some(text) => parse(&text).map(Schedule::starting_at).map_err(|why| {
                CliError::usage(format!("{ENV}={text:?}: {why}"))
                    .with_hint("give the first poll interval in seconds, for example 2 or 0.05")
            }),
        }
    }

    /// Starts at `first`; the cap is scaled by as much as `first` is from 2 s.
    pub fn starting_at(first: Duration) -> Schedule {
        Schedule {
            next: first,
            cap: CAP.mul_f64(first.as_secs_f64() / FIRST.as_secs_f64()),
            jitter: true,
        }
    }

    /// The same schedule with no jitter, to reason about in tests.
    #[cfg(test)]
    fn exact(mut self) -> Schedule {
        self.jitter = false;
        self
    }
}

impl Iterator for Schedule {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        let base = self.next;
        self.next = base.mul_f64(GROWTH).min(self.cap);
        if !self.jitter {
            return Some(base);
        }
        let factor = 1.0 + JITTER * (2.0 * fastrand::f64() - 1.0);
        Some(base.mul_f64(factor))
    }
}

fn parse(text: &str) -> std::result::Result<Duration, String> {
    let secs: f64 = text
        .trim()
        .parse()
        .map_err(|_| "not a number of seconds".to_string())?;
    if !(0.001..=60.0).contains(&secs) {
        return Err("must be between 0.001 and 60 seconds".to_string());
    }
    Ok(Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn grows_from_two_seconds_to_fifteen() {
        let secs: Vec<f64> = Schedule::starting_at(FIRST)
            .exact()
            .take(8)
            .map(|d| d.as_secs_f64())
            .collect();
        assert_eq!(secs, vec![2.0, 3.0, 4.5, 6.75, 10.125, 15.0, 15.0, 15.0]);
    }

    #[test]
    fn a_shorter_first_interval_scales_the_cap() {
        let last = Schedule::starting_at(Duration::from_millis(50))
            .exact()
            .nth(20)
            .expect("endless");
        assert_eq!(last, Duration::from_millis(375));
    }

    #[test]
    fn jitter_stays_within_a_tenth() {
        for (exact, jittered) in Schedule::starting_at(FIRST)
            .exact()
            .zip(Schedule::starting_at(FIRST))
            .take(50)
        {
            let ratio = jittered.as_secs_f64() / exact.as_secs_f64();
            assert!((0.9..=1.1).contains(&ratio), "{ratio}");
        }
    }

    #[test]
    fn bad_intervals_are_refused() {
        for bad in ["", "abc", "0", "-1", "1e9", "NaN", "inf"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        assert_eq!(parse(" 0.05 "), Ok(Duration::from_millis(50)));
    }

    proptest! {
        #[test]
        fn parse_never_panics(text in "\\PC*") {
            let _ = parse(&text);
        }
    }
}
