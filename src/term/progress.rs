//! The spinner on stderr that says what a long wait is waiting for ("waiting for the
//! first token", "retrying in 3s") and for how long so far (`12s`, from the start of
//! the wait). Only on a terminal; nothing at all when stderr is
//! piped. There is one per process (a command waits for one thing at a time), so
//! whoever is about to write output can [`hide`] it without holding it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

static SPINNER: Mutex<Option<ProgressBar>> = Mutex::new(None);
/// Set while a long wait owns the spinner ([`pin`]): the short waits inside it (each
/// request of a job's polling) leave it alone instead of replacing and clearing it.
static PINNED: AtomicBool = AtomicBool::new(false);

/// Shows `message` beside a spinner, starting one if none is shown.
pub fn show(message: String) {
    if !PINNED.load(Ordering::SeqCst) {
        draw(message);
    }
}

/// Shows `message` as the status of a long wait (a job being polled), with the time
/// since it began, until the returned guard is dropped; meanwhile [`show`] and [`hide`]
/// are ignored, so the requests the wait makes do not flicker over it.
pub fn pin(message: String) -> Pinned {
    hide();
    draw(message);
    PINNED.store(true, Ordering::SeqCst);
    Pinned
}

/// No spinner until the returned guard is dropped: output redrawn in place (several
/// replies drawn as they arrive) owns the screen, and a spinner line would overwrite it.
pub fn silence() -> Pinned {
    hide();
    PINNED.store(true, Ordering::SeqCst);
    Pinned
}

/// Changes the message of the pinned spinner.
pub fn update(message: String) {
    draw(message);
}

/// The pinned spinner's owner; dropping it removes the spinner.
pub struct Pinned;

impl Drop for Pinned {
    fn drop(&mut self) {
        PINNED.store(false, Ordering::SeqCst);
        hide();
    }
}

fn draw(message: String) {
    if !stderr_is_terminal() {
        return;
    }
    let mut slot = SPINNER.lock().unwrap_or_else(|e| e.into_inner());
    match slot.as_ref() {
        Some(spinner) => spinner.set_message(message),
        None => {
            let spinner = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr())
                .with_style(style())
                .with_message(message);
            spinner.enable_steady_tick(Duration::from_millis(100));
            *slot = Some(spinner);
        }
    }
}

/// The spinner, the message, then the seconds since the wait began (`⠙ waiting for
/// https://api.cometapi.com 12s`): a slow image reply shows it is still alive.
fn style() -> ProgressStyle {
    ProgressStyle::with_template("{spinner} {msg} {elapsed}")
        .unwrap_or_else(|_| ProgressStyle::default_spinner())
}

/// Removes the spinner and its line, so output starts on a clean line.
pub fn hide() {
    if PINNED.load(Ordering::SeqCst) {
        return;
    }
    let taken = SPINNER.lock().unwrap_or_else(|e| e.into_inner()).take();
    if let Some(spinner) = taken {
        spinner.finish_and_clear();
    }
}

/// Hides the spinner when dropped, however the wait ended.
pub struct HideOnDrop;

impl Drop for HideOnDrop {
    fn drop(&mut self) {
        hide();
    }
}

fn stderr_is_terminal() -> bool {
    crate::term::streams::process_terminals().stderr
}
