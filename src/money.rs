//! CometAPI's money units: 500,000 quota units are one US dollar.

use crate::output::Cell;

pub const QUOTA_PER_USD: f64 = 500_000.0;

pub fn quota_to_usd(quota: f64) -> f64 {
    quota / QUOTA_PER_USD
}

/// `$1,234.5678`: thousands separated, a fixed number of decimals.
pub fn usd_text(usd: f64, decimals: usize) -> String {
    let fixed = format!("{:.*}", decimals, usd.abs());
    let (whole, fraction) = fixed.split_once('.').unwrap_or((&fixed, ""));
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let sign = if usd < 0.0 { "-" } else { "" };
    if fraction.is_empty() {
        format!("{sign}${grouped}")
    } else {
        format!("{sign}${grouped}.{fraction}")
    }
}

/// A dollar amount: a number in json, `$1.2345` in a table.
pub fn usd_cell(usd: f64, decimals: usize) -> Cell {
    Cell::with_text(round(usd, 6), usd_text(usd, decimals))
}

/// A quota amount shown in dollars.
pub fn quota_cell(quota: f64, decimals: usize) -> Cell {
    usd_cell(quota_to_usd(quota), decimals)
}

/// No limit: `null` in json, "Unlimited" in a table.
pub fn unlimited_cell() -> Cell {
    Cell::with_text(serde_json::Value::Null, "Unlimited")
}

/// Rounds away float noise (`0.30000000000000004`) so json shows what a person expects.
fn round(value: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    (value * scale).round() / scale
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_hundred_thousand_quota_is_a_dollar() {
        assert_eq!(quota_to_usd(500_000.0), 1.0);
        assert_eq!(quota_to_usd(2_500_000.0), 5.0);
        let cell = quota_cell(1_234.0, 4);
        assert_eq!(cell.text, "$0.0025");
        assert_eq!(cell.value, serde_json::json!(0.002468));
    }

    #[test]
    fn dollars_read_naturally() {
        assert_eq!(usd_text(1234567.891, 2), "$1,234,567.89");
        assert_eq!(usd_text(0.5, 4), "$0.5000");
        assert_eq!(usd_text(-12.5, 2), "-$12.50");
        assert_eq!(usd_text(999.999, 2), "$1,000.00");
    }
}
