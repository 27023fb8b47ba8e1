//! What a bulk run adds up: tokens, cost from the catalog's prices, outcomes, and
//! latency percentiles.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::{json, Value};

use crate::api::catalog;

/// Input and output tokens a reply reports, in any of the wire formats: OpenAI chat and
/// embeddings (`prompt_tokens`, `completion_tokens`), Responses and Anthropic
/// (`input_tokens`, `output_tokens`).
pub fn tokens_of(reply: &Value) -> (u64, u64) {
    let Some(usage) = reply.get("usage") else {
        return (0, 0);
    };
    let count = |keys: [&str; 2]| {
        keys.iter()
            .find_map(|k| usage.get(*k).and_then(Value::as_u64))
            .unwrap_or(0)
    };
    (
        count(["prompt_tokens", "input_tokens"]),
        count(["completion_tokens", "output_tokens"]),
    )
}

/// Per-million-token prices by model, looked up once per model in the catalog.
pub struct Prices {
    catalog: Vec<Value>,
    known: HashMap<String, Option<(f64, f64)>>,
}

impl Prices {
    /// Prices from the catalog's models; an empty list prices nothing.
    pub fn new(catalog: Vec<Value>) -> Prices {
        Prices {
            catalog,
            known: HashMap::new(),
        }
    }

    /// The cost in USD of `input` and `output` tokens on `model`, when the catalog
    /// prices it by the token.
    pub fn cost(&mut self, model: &str, input: u64, output: u64) -> Option<f64> {
        let catalog = &self.catalog;
        let prices = *self
            .known
            .entry(model.to_string())
            .or_insert_with(|| catalog::token_prices(catalog, model));
        let (per_in, per_out) = prices?;
        Some((input as f64 * per_in + output as f64 * per_out) / 1_000_000.0)
    }
}

/// The running totals of a bulk run.
#[derive(Default)]
pub struct Totals {
    pub succeeded: u64,
    pub failed: u64,
    pub skipped: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// USD, from the results that could be priced; `unpriced` counts the others.
    pub cost: f64,
    pub unpriced: u64,
    /// Every latency in milliseconds, for the percentiles.
    latencies_ms: Vec<u32>,
}

impl Totals {
    pub fn record_latency(&mut self, latency: Duration) {
        let ms = u32::try_from(latency.as_millis()).unwrap_or(u32::MAX);
        self.latencies_ms.push(ms);
    }

    /// The `p`th percentile latency in milliseconds (nearest rank), 0 with no results.
    pub fn percentile(&mut self, p: f64) -> u32 {
        if self.latencies_ms.is_empty() {
            return 0;
        }
        self.latencies_ms.sort_unstable();
        let rank = (p / 100.0 * self.latencies_ms.len() as f64).ceil() as usize;
        self.latencies_ms[rank.clamp(1, self.latencies_ms.len()) - 1]
    }

    /// The summary as JSON: counts, tokens, cost, wall time, rate and percentiles.
    pub fn summary(&mut self, wall: Duration) -> Value {
        let done = self.succeeded + self.failed;
        let secs = wall.as_secs_f64();
        let rate = if secs > 0.0 { done as f64 / secs } else { 0.0 };
        json!({
            "succeeded": self.succeeded,
            "failed": self.failed,
            "skipped": self.skipped,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cost_usd": (self.unpriced < done || done == 0).then_some(self.cost),
            "unpriced": self.unpriced,
            "wall_seconds": (secs * 1000.0).round() / 1000.0,
            "requests_per_second": (rate * 10.0).round() / 10.0,
            "latency_p50_ms": self.percentile(50.0),
            "latency_p95_ms": self.percentile(95.0),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_from_every_wire_format() {
        let chat = json!({"usage": {"prompt_tokens": 3, "completion_tokens": 5}});
        let responses = json!({"usage": {"input_tokens": 7, "output_tokens": 2}});
        let embeddings = json!({"usage": {"prompt_tokens": 9, "total_tokens": 9}});
        assert_eq!(tokens_of(&chat), (3, 5));
        assert_eq!(tokens_of(&responses), (7, 2));
        assert_eq!(tokens_of(&embeddings), (9, 0));
        assert_eq!(tokens_of(&json!({"usage": "bad"})), (0, 0));
        assert_eq!(tokens_of(&json!(null)), (0, 0));
    }

    #[test]
    fn percentiles_by_nearest_rank() {
        let mut totals = Totals::default();
        assert_eq!(totals.percentile(50.0), 0);
        for ms in 1..=100 {
            totals.record_latency(Duration::from_millis(ms));
        }
        assert_eq!(totals.percentile(50.0), 50);
        assert_eq!(totals.percentile(95.0), 95);
        assert_eq!(totals.percentile(100.0), 100);
    }

    #[test]
    fn cost_from_catalog_prices() {
        let catalog = vec![json!({"id": "m1", "pricing": {"input": 2.0, "output": 8.0}})];
        let mut prices = Prices::new(catalog);
        let cost = prices.cost("m1", 1_000_000, 500_000).unwrap_or_default();
        assert!((cost - 6.0).abs() < 1e-9);
        assert_eq!(prices.cost("unknown", 1, 1), None);
    }
}
