//! A panic in one REPL line is a bug in that command, not a reason to lose the shell:
//! it is caught, reported as an internal error with exit 101 (what `cometapi` exits
//! with after a panic), and the shell goes on.

use std::cell::RefCell;
use std::ffi::OsString;
use std::panic::{self, AssertUnwindSafe};

use crate::cli::app;
use crate::error::CliError;

/// The exit code Rust gives a process that panicked.
pub const PANIC_EXIT: u8 = 101;

thread_local! {
    /// What the hook saw of the last panic on this thread: message and place.
    static LAST: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Panics on this thread are kept for [`run_caught`] to report instead of being
/// printed; other threads' panics print as before.
pub fn report_instead_of_printing() {
    let default = panic::take_hook();
    let main = std::thread::current().id();
    panic::set_hook(Box::new(move |info| {
        if std::thread::current().id() != main {
            return default(info);
        }
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".to_string());
        let place = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        LAST.with(|last| *last.borrow_mut() = Some(format!("{message}{place}")));
    }));
}

/// Runs one line as `cometapi <args>`; a panic becomes an error message and exit 101.
pub fn run_caught(args: Vec<OsString>) -> u8 {
    // Nothing of the line's state outlives it (each line has its own context), so a
    // half-finished line cannot leave anything broken behind.
    let no_color = args.iter().any(|a| a == "--no-color");
    match panic::catch_unwind(AssertUnwindSafe(|| {
        test_panic(&args);
        app::main(args)
    })) {
        Ok(code) => code,
        Err(_) => {
            let what = LAST
                .with(|last| last.borrow_mut().take())
                .unwrap_or_else(|| "unknown panic".to_string());
            let err = CliError::failure(format!("internal error: {what}"))
                .with_hint("this is a bug in cometapi; please report it with the line you ran");
            app::report(&err, false, no_color);
            PANIC_EXIT
        }
    }
}

/// Debug builds only: `COMETAPI_TEST_PANIC=<command>` makes that command panic, so the
/// tests can show a panic is caught without depending on a real bug.
fn test_panic(args: &[OsString]) {
    if cfg!(debug_assertions) {
        let command = std::env::var_os("COMETAPI_TEST_PANIC");
        if command.is_some_and(|c| args.iter().skip(1).any(|a| *a == c)) {
            panic!("test panic requested by COMETAPI_TEST_PANIC");
        }
    }
}
