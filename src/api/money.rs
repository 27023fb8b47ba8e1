//! Money, one rule for every command: CometAPI's quota units (500,000 are one US
//! dollar) and how a dollar amount reads.
//!
//! The rule ([`usd_text`]): an amount of a dollar or more shows cents (`$12.50`,
//! `$1,234.57`); below a dollar it keeps up to four significant digits, so small costs
//! and per-token prices stay visible (`$0.125`, `$0.00396`, `$0.000002`), never fewer
//! than two decimals and never more than [`MAX_DECIMALS`]. Trailing zeros past the
//! cents are dropped, so float noise (`4.4399999999999995`) never reaches a person.
//! json keeps the number.

use serde_json::Value;

use crate::output::{group_thousands, Cell, MISSING};

pub const QUOTA_PER_USD: f64 = 500_000.0;

/// Significant digits kept for amounts below a dollar.
const SIGNIFICANT: i32 = 4;

/// The most decimals shown: a ten-billionth of a dollar; anything smaller reads `$0.00`.
pub const MAX_DECIMALS: usize = 10;

pub fn quota_to_usd(quota: f64) -> f64 {
    quota / QUOTA_PER_USD
}

/// Decimals that carry meaning for an amount of this size (see the module rule).
fn decimals_for(abs: f64) -> usize {
    if abs >= 1.0 || abs == 0.0 {
        return 2;
    }
    let magnitude = abs.log10().floor() as i32; // -1 for 0.5, -3 for 0.00396
    let decimals = SIGNIFICANT - 1 - magnitude;
    usize::try_from(decimals).map_or(2, |d| d.clamp(2, MAX_DECIMALS))
}

/// `$1,234.57`, `$0.00396`, `-$12.50`: the one money style (see the module rule).
pub fn usd_text(usd: f64) -> String {
    if !usd.is_finite() {
        return MISSING.to_string();
    }
    let decimals = decimals_for(usd.abs());
    let fixed = format!("{:.*}", decimals, usd.abs());
    let (whole, fraction) = fixed.split_once('.').unwrap_or((&fixed, ""));
    let kept = fraction.trim_end_matches('0').len().max(2);
    let fraction: String = fraction.chars().take(kept).collect();
    let is_zero = whole.chars().chain(fraction.chars()).all(|c| c == '0');
    let sign = if usd < 0.0 && !is_zero { "-" } else { "" };
    format!("{sign}${}.{fraction}", group_thousands(whole))
}

/// A dollar amount: the number in json (float noise rounded away), [`usd_text`] to read.
pub fn usd_cell(usd: f64) -> Cell {
    Cell::with_text(round(usd, MAX_DECIMALS as i32), usd_text(usd))
}

/// A quota amount the server sent, shown in dollars; missing when it is not a number.
pub fn quota_cell(quota: Option<&Value>) -> Cell {
    match quota.and_then(Value::as_f64) {
        Some(quota) => usd_cell(quota_to_usd(quota)),
        None => Cell::new(Value::Null),
    }
}

/// No limit: `null` in json, "Unlimited" in a table.
pub fn unlimited_cell() -> Cell {
    Cell::with_text(Value::Null, "Unlimited")
}

/// Rounds away float noise (`0.30000000000000004`) so json shows what a person expects.
fn round(value: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    let rounded = (value * scale).round() / scale;
    if rounded.is_finite() {
        rounded
    } else {
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn five_hundred_thousand_quota_is_a_dollar() {
        assert_eq!(quota_to_usd(500_000.0), 1.0);
        assert_eq!(quota_to_usd(2_500_000.0), 5.0);
        let cell = quota_cell(Some(&json!(1_234)));
        assert_eq!(cell.text, "$0.002468");
        assert_eq!(cell.value, json!(0.002468));
        assert!(quota_cell(Some(&json!("x"))).is_missing());
        assert!(quota_cell(None).is_missing());
    }

    #[test]
    fn one_rule_for_every_amount() {
        assert_eq!(usd_text(1234567.891), "$1,234,567.89");
        assert_eq!(usd_text(12.5), "$12.50");
        assert_eq!(usd_text(7.4321), "$7.43");
        assert_eq!(usd_text(4.4399999999999995), "$4.44");
        assert_eq!(usd_text(10.0), "$10.00");
        assert_eq!(usd_text(0.2), "$0.20");
        assert_eq!(usd_text(0.125), "$0.125");
        assert_eq!(usd_text(0.00396), "$0.00396");
        assert_eq!(usd_text(0.000002), "$0.000002");
        assert_eq!(usd_text(0.0), "$0.00");
        assert_eq!(usd_text(-12.5), "-$12.50");
        assert_eq!(usd_text(999.999), "$1,000.00");
        assert_eq!(usd_text(0.99999), "$1.00");
        assert_eq!(usd_text(1e-15), "$0.00");
        assert_eq!(usd_text(-1e-15), "$0.00", "no minus on a zero");
        assert_eq!(usd_text(f64::NAN), "-");
    }

    /// The amount a text shows, read back: `-$1,234.5` → -1234.5.
    fn read_back(text: &str) -> f64 {
        let negative = text.starts_with('-');
        let digits: String = text
            .chars()
            .filter(|c| *c != '$' && *c != ',' && *c != '-')
            .collect();
        let number: f64 = digits.parse().expect("a number");
        if negative {
            -number
        } else {
            number
        }
    }

    fn decimals_shown(text: &str) -> usize {
        text.split_once('.').map_or(0, |(_, f)| f.len())
    }

    proptest! {
        #[test]
        fn amounts_read_back_to_the_shown_precision(
            usd in prop_oneof![-1e9f64..1e9, -1.0f64..1.0, 0.0f64..0.001, -1e-6f64..1e-6]
        ) {
            let text = usd_text(usd);
            let decimals = decimals_shown(&text);
            prop_assert!((2..=MAX_DECIMALS).contains(&decimals), "{text}");
            let half_unit = 0.5 * 10f64.powi(-(decimals as i32));
            let error = (read_back(&text) - usd).abs();
            prop_assert!(error <= half_unit + usd.abs() * 1e-12, "{usd} shown as {text}");
        }

        #[test]
        fn no_float_noise_is_shown(usd in prop_oneof![-1e9f64..1e9, -1.0f64..1.0, 0.0f64..0.001]) {
            let text = usd_text(usd);
            let fraction = text.split_once('.').map_or("", |(_, f)| f);
            if usd.abs() >= 1.0 {
                prop_assert_eq!(fraction.len(), 2, "cents only: {}", text);
            } else {
                // Past the leading zeros, at most four significant digits.
                let significant = fraction.trim_start_matches('0').len();
                prop_assert!(significant <= SIGNIFICANT as usize || fraction.len() == 2, "{}", text);
            }
        }
    }
}
