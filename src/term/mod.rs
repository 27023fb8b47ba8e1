//! The terminal: Markdown replies rendered as they stream ([`markdown`]), server text
//! neutralised before it is shown ([`sanitize`]), the styles and cursor moves of ours
//! ([`style`], the one place our escapes are written), the spinner of long waits
//! ([`progress`]), line input with hidden secrets ([`line_input`]), Ctrl-C for the whole
//! process ([`interrupt`]), the line editor the shells share ([`shell`]), and the
//! standard streams: which are terminals, the width, colour ([`streams`]).
//!
//! May use `output` (widths), `config` and `error`; never `net` or `api`. The shells'
//! completer and history masking (`shell`) read the clap tree and registry of `cli`,
//! which is what they complete and mask.

pub mod interrupt;
pub mod line_input;
pub mod markdown;
pub mod progress;
pub mod sanitize;
pub mod shell;
pub mod streams;
pub mod style;
