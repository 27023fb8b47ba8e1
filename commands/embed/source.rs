//! Where `embed`'s inputs come from (arguments, or one per line from a file or stdin)
//! and how they are grouped into requests: at most [`MAX_INPUTS`] and about
//! [`MAX_BATCH_BYTES`] of text each, read only as far as the requests in flight need.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use crate::error::{CliError, Result};
use crate::store::files;

/// The most inputs one embeddings request may carry (OpenAI's limit).
pub const MAX_INPUTS: usize = 2048;
/// The most text one request carries (a single longer input goes alone): about 65,000
/// tokens of English, well under the 300,000 tokens a request may hold.
pub const MAX_BATCH_BYTES: usize = 256 << 10;
/// The longest line read; a longer one is an error rather than unbounded memory.
const MAX_LINE_BYTES: usize = 1 << 20;
const READ_BUFFER: usize = 64 << 10;

/// The inputs, one at a time.
pub enum Inputs {
    Args(std::vec::IntoIter<String>),
    Lines {
        reader: Box<dyn BufRead>,
        /// The file's name (or `stdin`), for messages.
        name: String,
        line: u64,
        /// Blank lines skipped (the API refuses empty inputs).
        blank: u64,
    },
}

impl Inputs {
    /// The arguments when there are some, else the lines of `--input-file` (`-` is
    /// stdin), else piped stdin. A terminal on stdin (`stdin_is_terminal`) with nothing
    /// given is exit 2.
    pub fn open(
        texts: Vec<String>,
        file: Option<&PathBuf>,
        stdin_is_terminal: bool,
    ) -> Result<Inputs> {
        if !texts.is_empty() {
            return Ok(Inputs::Args(texts.into_iter()));
        }
        match file {
            Some(path) if path.as_os_str() == "-" => Ok(Inputs::lines(stdin(), "stdin")),
            Some(path) => {
                let file = open_file(path)?;
                let reader = BufReader::with_capacity(READ_BUFFER, file);
                Ok(Inputs::lines(Box::new(reader), &path.display().to_string()))
            }
            None if stdin_is_terminal => Err(CliError::usage("nothing to embed")
                .with_hint("pass TEXT arguments, --input-file FILE, or pipe lines on stdin")),
            None => Ok(Inputs::lines(stdin(), "stdin")),
        }
    }

    fn lines(reader: Box<dyn BufRead>, name: &str) -> Inputs {
        Inputs::Lines {
            reader,
            name: name.to_string(),
            line: 0,
            blank: 0,
        }
    }

    /// How many blank lines were skipped so far.
    pub fn blank_lines(&self) -> u64 {
        match self {
            Inputs::Args(_) => 0,
            Inputs::Lines { blank, .. } => *blank,
        }
    }

    /// The next input: a line without its line ending, blank lines skipped.
    pub fn next_input(&mut self) -> Result<Option<String>> {
        let (reader, name, line, blank) = match self {
            Inputs::Args(args) => return Ok(args.next()),
            Inputs::Lines {
                reader,
                name,
                line,
                blank,
            } => (reader, name, line, blank),
        };
        let mut buf = Vec::new();
        loop {
            buf.clear();
            let read = (&mut *reader)
                .take(MAX_LINE_BYTES as u64 + 1)
                .read_until(b'\n', &mut buf)
                .map_err(|e| CliError::failure(format!("cannot read {name}")).caused_by(e))?;
            if read == 0 {
                return Ok(None);
            }
            *line += 1;
            if buf.last() == Some(&b'\n') {
                buf.pop();
                if buf.last() == Some(&b'\r') {
                    buf.pop();
                }
            } else if buf.len() > MAX_LINE_BYTES {
                return Err(CliError::usage(format!(
                    "line {line} of {name} is longer than {} MB",
                    MAX_LINE_BYTES >> 20
                )));
            }
            let text = String::from_utf8(std::mem::take(&mut buf))
                .map_err(|_| CliError::usage(format!("line {line} of {name} is not UTF-8 text")))?;
            if text.trim().is_empty() {
                *blank += 1;
                continue;
            }
            return Ok(Some(text));
        }
    }
}

fn stdin() -> Box<dyn BufRead> {
    Box::new(BufReader::with_capacity(READ_BUFFER, io::stdin()))
}

/// A regular file to read lines from (a FIFO is refused rather than waited on).
fn open_file(path: &Path) -> Result<File> {
    let cannot =
        |e: io::Error| CliError::usage(format!("cannot read {}", path.display())).caused_by(e);
    files::check_regular(path).map_err(|e| CliError::usage(e.to_string()))?;
    File::open(path).map_err(cannot)
}

/// Groups inputs into requests.
pub struct Batcher {
    inputs: Inputs,
    /// An input read that did not fit the last batch.
    held: Option<String>,
}

impl Batcher {
    pub fn new(inputs: Inputs) -> Batcher {
        Batcher { inputs, held: None }
    }

    pub fn blank_lines(&self) -> u64 {
        self.inputs.blank_lines()
    }

    /// The next batch: at most `max_inputs` inputs and [`MAX_BATCH_BYTES`] of text
    /// (at least one input, however long); `None` when the inputs are used up.
    pub fn next_batch(&mut self, max_inputs: usize) -> Result<Option<Vec<String>>> {
        let mut batch = Vec::new();
        let mut bytes = 0;
        while batch.len() < max_inputs.max(1) {
            let next = match self.held.take() {
                Some(input) => input,
                None => match self.inputs.next_input()? {
                    Some(input) => input,
                    None => break,
                },
            };
            if !batch.is_empty() && bytes + next.len() > MAX_BATCH_BYTES {
                self.held = Some(next);
                break;
            }
            bytes += next.len();
            batch.push(next);
        }
        Ok((!batch.is_empty()).then_some(batch))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_given_and_a_terminal_on_stdin_is_a_usage_error() {
        let err = Inputs::open(Vec::new(), None, true)
            .err()
            .expect("nothing to embed");
        assert_eq!(err.exit.code(), 2);
        assert_eq!(err.message, "nothing to embed");
        let hint = err.hint.unwrap_or_default();
        assert!(hint.contains("pipe lines on stdin"), "{hint}");
    }

    #[test]
    fn arguments_are_embedded_whatever_stdin_is() {
        for terminal in [true, false] {
            let inputs = Inputs::open(vec!["a".into(), "b".into()], None, terminal);
            let mut inputs = inputs.expect("opens");
            assert_eq!(inputs.next_input().expect("reads"), Some("a".into()));
            assert_eq!(inputs.next_input().expect("reads"), Some("b".into()));
            assert_eq!(inputs.next_input().expect("reads"), None);
        }
    }

    fn lines(text: &'static [u8]) -> Inputs {
        Inputs::lines(Box::new(text), "test")
    }

    fn all(mut inputs: Inputs) -> Result<Vec<String>> {
        let mut out = Vec::new();
        while let Some(input) = inputs.next_input()? {
            out.push(input);
        }
        Ok(out)
    }

    #[test]
    fn lines_lose_their_endings_and_blank_lines_are_skipped() {
        let mut inputs = lines(b"one\r\n\n  \ntwo\nthree");
        assert_eq!(inputs.next_input().expect("ok").as_deref(), Some("one"));
        assert_eq!(inputs.next_input().expect("ok").as_deref(), Some("two"));
        assert_eq!(inputs.blank_lines(), 2);
        assert_eq!(all(inputs).expect("ok"), ["three"]);
    }

    #[test]
    fn a_line_that_is_not_utf8_or_too_long_is_a_usage_error_naming_it() {
        let err = all(lines(b"ok\n\xff\xfe\n")).expect_err("not utf-8");
        assert_eq!(err.exit.code(), 2);
        assert!(err.message.contains("line 2 of test"), "{}", err.message);
        let long: &'static [u8] = Vec::leak(vec![b'a'; MAX_LINE_BYTES + 1]);
        let err = all(lines(long)).expect_err("too long");
        assert!(err.message.contains("longer than 1 MB"), "{}", err.message);
        let exact: &'static [u8] = Vec::leak(vec![b'a'; MAX_LINE_BYTES]);
        assert_eq!(all(lines(exact)).expect("fits")[0].len(), MAX_LINE_BYTES);
    }

    #[test]
    fn batches_keep_order_and_respect_both_limits() {
        let texts: Vec<String> = (0..5000).map(|i| format!("line {i}")).collect();
        let mut batcher = Batcher::new(Inputs::Args(texts.clone().into_iter()));
        let mut seen = Vec::new();
        let mut sizes = Vec::new();
        while let Some(batch) = batcher.next_batch(MAX_INPUTS).expect("ok") {
            sizes.push(batch.len());
            seen.extend(batch);
        }
        assert_eq!(sizes, [2048, 2048, 904]);
        assert_eq!(seen, texts);

        let big = "x".repeat(100 << 10);
        let texts = vec![
            big.clone(),
            big.clone(),
            big.clone(),
            "y".repeat(MAX_BATCH_BYTES + 1),
        ];
        let mut batcher = Batcher::new(Inputs::Args(texts.into_iter()));
        let mut sizes = Vec::new();
        while let Some(batch) = batcher.next_batch(MAX_INPUTS).expect("ok") {
            sizes.push(batch.len());
        }
        assert_eq!(
            sizes,
            [2, 1, 1],
            "bytes split batches; an oversized input goes alone"
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(500))]
        #[test]
        fn any_bytes_read_without_panicking(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..400)) {
            let leaked: &'static [u8] = Vec::leak(bytes);
            let _ = all(lines(leaked));
        }

        #[test]
        fn inputs_are_the_non_blank_lines_whatever_the_line_endings(
            texts in proptest::collection::vec("[a-z \u{e9}\u{4e2d}]{0,12}", 0..40),
            crlf in proptest::bool::ANY,
        ) {
            let end = if crlf { "\r\n" } else { "\n" };
            let joined: String = texts.iter().map(|t| format!("{t}{end}")).collect();
            let leaked: &'static [u8] = Vec::leak(joined.into_bytes());
            let expected: Vec<String> =
                texts.iter().filter(|t| !t.trim().is_empty()).cloned().collect();
            proptest::prop_assert_eq!(all(lines(leaked)).expect("valid"), expected);
        }

        #[test]
        fn batches_cover_every_input_in_order_within_both_limits(
            sizes in proptest::collection::vec(1usize..200_000, 0..30),
            max_inputs in 1usize..5,
        ) {
            let texts: Vec<String> = sizes.iter().map(|&n| "x".repeat(n)).collect();
            let mut batcher = Batcher::new(Inputs::Args(texts.clone().into_iter()));
            let mut seen = Vec::new();
            while let Some(batch) = batcher.next_batch(max_inputs).expect("ok") {
                let bytes: usize = batch.iter().map(String::len).sum();
                proptest::prop_assert!(batch.len() <= max_inputs);
                proptest::prop_assert!(batch.len() == 1 || bytes <= MAX_BATCH_BYTES);
                seen.extend(batch);
            }
            proptest::prop_assert_eq!(seen, texts);
        }
    }
}
