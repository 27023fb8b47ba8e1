//! The terminal: Markdown replies rendered as they stream ([`markdown`]), server text
//! neutralised before it is shown ([`sanitize`]), the styles and cursor moves of ours
//! ([`style`], the one place our escapes are written), the spinner of long waits
//! ([`progress`]), line input with hidden secrets ([`line_input`]), Ctrl-C for the whole
//! process ([`interrupt`]) and the line editor the shells share ([`shell`]).
//!
//! May use `output` (widths), `config` and `error`; never `net` or `api`.

pub mod interrupt;
pub mod line_input;
pub mod markdown;
pub mod progress;
pub mod sanitize;
pub mod shell;
pub mod style;
