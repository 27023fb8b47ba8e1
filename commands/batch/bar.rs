//! The progress bar of a `batch` run on stderr (a terminal only): done/total, rate,
//! ETA, errors, tokens and cost so far.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::api::bulk::stats::Totals;
use crate::api::money::usd_text;

pub struct Bar(ProgressBar);

impl Bar {
    /// A bar of `total` requests, drawn only when `on_terminal` (stderr is a terminal).
    pub fn new(total: u64, on_terminal: bool) -> Bar {
        if !on_terminal {
            return Bar(ProgressBar::hidden());
        }
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template(
            "{bar:30.cyan/dim} {pos}/{len} · {per_sec} · ETA {eta} · {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        bar.enable_steady_tick(Duration::from_millis(200));
        Bar(bar)
    }

    /// Shows the totals so far; requests skipped on resume count as done.
    pub fn update(&self, totals: &Totals) {
        self.0
            .set_position(totals.succeeded + totals.failed + totals.skipped);
        let cost = if totals.unpriced > 0 && totals.cost == 0.0 {
            "cost unknown".to_string()
        } else {
            usd_text(totals.cost)
        };
        self.0.set_message(format!(
            "{} errors · {} tokens · {cost}",
            totals.failed,
            totals.input_tokens + totals.output_tokens
        ));
    }

    pub fn finish(&self) {
        self.0.finish_and_clear();
    }
}
