//! The gate every attempt of the bulk engine passes before it is sent: at most `limit`
//! requests on the wire, no sooner than a server's `Retry-After` allows, and no faster
//! than `--rpm`. The limit adapts (AIMD): a 429 halves it, and each run of `limit`
//! successes in a row at the current limit grows it back by one, never above `-j`.
//!
//! The engine runs on one thread, so the state is plain `Cell`s; waiters are woken
//! through a [`Notify`] whenever a slot frees or the limit grows.

use std::cell::Cell;
use std::time::{Duration, Instant};

use tokio::sync::Notify;

pub struct Gate {
    ceiling: usize,
    limit: Cell<usize>,
    active: Cell<usize>,
    /// Successes since the limit last changed.
    streak: Cell<usize>,
    /// Bumped at every cut: a 429 to a request sent before the last cut says nothing
    /// new (it was sent at the old rate) and does not cut again.
    epoch: Cell<u64>,
    not_before: Cell<Instant>,
    /// The gap between two sends under `--rpm`, and when the next may go.
    spacing: Option<Duration>,
    next_send: Cell<Instant>,
    /// The lowest limit reached, for the summary.
    lowest: Cell<usize>,
    wake: Notify,
}

/// A slot on the wire, given back when dropped.
pub struct Permit<'a> {
    gate: &'a Gate,
    /// The gate's epoch when the attempt was sent.
    pub epoch: u64,
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        self.gate
            .active
            .set(self.gate.active.get().saturating_sub(1));
        self.gate.wake.notify_waiters();
    }
}

impl Gate {
    /// `jobs` requests at most in flight (at least 1); `rpm` requests per minute at most.
    pub fn new(jobs: usize, rpm: Option<u32>) -> Gate {
        let jobs = jobs.max(1);
        let now = Instant::now();
        Gate {
            ceiling: jobs,
            limit: Cell::new(jobs),
            active: Cell::new(0),
            streak: Cell::new(0),
            epoch: Cell::new(0),
            not_before: Cell::new(now),
            spacing: rpm.filter(|&n| n > 0).map(|n| Duration::from_secs(60) / n),
            next_send: Cell::new(now),
            lowest: Cell::new(jobs),
            wake: Notify::new(),
        }
    }

    /// Waits for a slot, for any server pause to end, and for the `--rpm` pace.
    pub async fn enter(&self) -> Permit<'_> {
        loop {
            let woken = self.wake.notified();
            let now = Instant::now();
            let ready = self.not_before.get().max(self.next_send.get());
            if ready > now {
                tokio::time::sleep_until(ready.into()).await;
                continue;
            }
            if self.active.get() < self.limit.get() {
                self.active.set(self.active.get() + 1);
                if let Some(spacing) = self.spacing {
                    self.next_send.set(now + spacing);
                }
                return Permit {
                    gate: self,
                    epoch: self.epoch.get(),
                };
            }
            woken.await;
        }
    }

    /// A 429 to an attempt sent at `epoch`: halve the limit (once per epoch) and hold
    /// every send until `pause` has passed.
    pub fn throttled(&self, epoch: u64, pause: Duration) {
        let until = Instant::now() + pause;
        if until > self.not_before.get() {
            self.not_before.set(until);
        }
        if epoch == self.epoch.get() {
            let halved = (self.limit.get() / 2).max(1);
            self.limit.set(halved);
            self.lowest.set(self.lowest.get().min(halved));
            self.streak.set(0);
            self.epoch.set(epoch + 1);
        }
    }

    /// A success: after `limit` of them in a row the limit grows by one.
    pub fn succeeded(&self) {
        let streak = self.streak.get() + 1;
        if streak >= self.limit.get() && self.limit.get() < self.ceiling {
            self.limit.set(self.limit.get() + 1);
            self.streak.set(0);
            self.wake.notify_waiters();
        } else {
            self.streak.set(streak);
        }
    }

    pub fn limit(&self) -> usize {
        self.limit.get()
    }

    /// The lowest the limit went.
    pub fn lowest(&self) -> usize {
        self.lowest.get()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_of_429s_halves_once_per_epoch_and_successes_grow_it_back() {
        let gate = Gate::new(8, None);
        for _ in 0..8 {
            gate.throttled(0, Duration::ZERO);
        }
        assert_eq!(gate.limit(), 4, "eight 429s from one round cut once");
        gate.throttled(1, Duration::ZERO);
        assert_eq!(gate.limit(), 2);
        for _ in 0..2 {
            gate.succeeded();
        }
        assert_eq!(gate.limit(), 3);
        for _ in 0..100 {
            gate.succeeded();
        }
        assert_eq!(gate.limit(), 8, "never above -j");
        assert_eq!(gate.lowest(), 2);
    }

    #[test]
    fn the_limit_never_reaches_zero() {
        let gate = Gate::new(1, Some(0));
        for epoch in 0..5 {
            gate.throttled(epoch, Duration::ZERO);
        }
        assert_eq!(gate.limit(), 1);
        assert!(gate.spacing.is_none(), "--rpm 0 sets no pace");
    }

    #[test]
    fn rpm_spaces_sends_evenly() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let gate = Gate::new(8, Some(1200));
        assert_eq!(gate.spacing, Some(Duration::from_millis(50)));
        runtime.block_on(async {
            let _first = gate.enter().await;
            let early = tokio::time::timeout(Duration::from_millis(10), gate.enter()).await;
            assert!(early.is_err(), "the second send waits for its turn");
        });
    }

    #[test]
    fn permits_are_bounded_by_the_limit() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let gate = Gate::new(2, None);
        runtime.block_on(async {
            let first = gate.enter().await;
            let _second = gate.enter().await;
            let third = tokio::time::timeout(Duration::from_millis(20), gate.enter()).await;
            assert!(third.is_err(), "a third waits");
            drop(first);
            let third = tokio::time::timeout(Duration::from_millis(200), gate.enter()).await;
            assert!(third.is_ok(), "a freed slot lets it in");
        });
    }
}
