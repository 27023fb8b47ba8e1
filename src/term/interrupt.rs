//! Ctrl-C for the whole process: one SIGINT handler, installed the first time something
//! waits (or a shell starts), that records the interrupt and wakes every wait selecting
//! on [`Waiting::interrupted`]: HTTP requests, streamed bodies, retry pauses.
//!
//! - Outside a shell, Ctrl-C during a wait ends that wait with exit 130, so the command
//!   can tidy up (end the line, reset colour) before it returns; Ctrl-C while nothing
//!   waits ends the process with exit 130 at once, as `cometapi` always did.
//! - In a shell ([`enter_shell`], the `repl`), Ctrl-C never ends the process: it marks
//!   the running command interrupted, so its current or next wait fails with exit 130,
//!   and the shell [`clear`]s the mark before the next command.
//!
//! Plugins are not affected: while one runs, `plugins.rs` ignores SIGINT in this
//! process and the plugin handles it.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::OnceLock;

use tokio::sync::watch;

use crate::error::{CliError, ExitCode};

static PENDING: AtomicBool = AtomicBool::new(false);
static IN_SHELL: AtomicBool = AtomicBool::new(false);
static WAITS: AtomicUsize = AtomicUsize::new(0);
/// Bumped on every Ctrl-C; `None` when no handler could be installed.
static WAKE: OnceLock<Option<watch::Sender<u64>>> = OnceLock::new();

/// The error a wait ends with when Ctrl-C was pressed.
pub fn error() -> CliError {
    CliError::new(ExitCode::Interrupted, "interrupted")
}

/// Whether Ctrl-C was pressed since the last [`clear`].
pub fn is_pending() -> bool {
    PENDING.load(Ordering::SeqCst)
}

/// Forgets an earlier Ctrl-C: a shell calls this before each command it runs.
pub fn clear() {
    PENDING.store(false, Ordering::SeqCst);
}

/// From now on Ctrl-C never ends the process; it interrupts the running command.
pub fn enter_shell() {
    IN_SHELL.store(true, Ordering::SeqCst);
    sender();
}

/// Marks a wait that Ctrl-C may interrupt, for as long as it is held.
pub struct Waiting {
    wake: Option<watch::Receiver<u64>>,
}

/// Starts an interruptible wait (installing the handler on first use).
pub fn waiting() -> Waiting {
    WAITS.fetch_add(1, Ordering::SeqCst);
    Waiting {
        wake: sender().as_ref().map(watch::Sender::subscribe),
    }
}

impl Waiting {
    /// Resolves once Ctrl-C has been pressed (at once if it already was); never
    /// resolves when no handler could be installed.
    pub async fn interrupted(&mut self) {
        loop {
            if is_pending() {
                return;
            }
            // The receiver was subscribed before the check above, so a Ctrl-C between
            // the two still counts as a change here.
            let changed = match &mut self.wake {
                Some(wake) => wake.changed().await.is_ok(),
                None => false,
            };
            if !changed {
                std::future::pending::<()>().await;
            }
        }
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        WAITS.fetch_sub(1, Ordering::SeqCst);
    }
}

fn sender() -> &'static Option<watch::Sender<u64>> {
    WAKE.get_or_init(install)
}

/// What the handler thread does with one Ctrl-C.
fn on_interrupt(wake: &watch::Sender<u64>) {
    // Decide before anything can see the interrupt: once a wait is woken it may end and
    // drop its count while the command is still printing how to resume, and exiting
    // then would cut that message off.
    if !IN_SHELL.load(Ordering::SeqCst) && WAITS.load(Ordering::SeqCst) == 0 {
        std::process::exit(i32::from(ExitCode::Interrupted.code()));
    }
    PENDING.store(true, Ordering::SeqCst);
    wake.send_modify(|count| *count += 1);
}

/// `signal-hook` does the async-signal-safe part (a self-pipe); a thread turns each
/// SIGINT into [`on_interrupt`], where waking async waiters is allowed.
#[cfg(unix)]
fn install() -> Option<watch::Sender<u64>> {
    use signal_hook::consts::SIGINT;
    use signal_hook::iterator::Signals;

    let mut signals = Signals::new([SIGINT]).ok()?;
    let (wake, _) = watch::channel(0u64);
    let thread_wake = wake.clone();
    std::thread::Builder::new()
        .name("cometapi-ctrl-c".into())
        .spawn(move || {
            for _ in signals.forever() {
                on_interrupt(&thread_wake);
            }
        })
        .ok()?;
    Some(wake)
}

/// Elsewhere Ctrl-C keeps its default effect: it ends the process.
#[cfg(not(unix))]
fn install() -> Option<watch::Sender<u64>> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pending_interrupt_ends_a_wait_at_once_until_cleared() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        enter_shell(); // never exit the test process
        let (wake, _) = watch::channel(0u64);
        on_interrupt(&wake);
        assert!(is_pending());
        let mut waiting = waiting();
        runtime.block_on(waiting.interrupted());
        clear();
        let ended = runtime.block_on(async {
            tokio::time::timeout(std::time::Duration::from_millis(20), waiting.interrupted())
                .await
                .is_ok()
        });
        assert!(!ended, "a cleared interrupt does not end the next wait");
        assert_eq!(error().exit, ExitCode::Interrupted);
    }
}
