//! Where a binary reply goes: a file written as it arrives and renamed into place
//! only when whole, or stdout when stdout is not a terminal (binary is never written
//! to a terminal), and the names such files are given. The download of a result URL
//! is `api::download`'s; this writes what it fetches.
//!
//! Files the user asked for (an image, speech) are created with mode 0644 less the
//! umask, like any file a program saves for its user: they are not secrets, unlike the
//! config and cache files (0600, [`files::write_private`]).

use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::error::{CliError, Result};
use crate::store::files::{self, AtomicFile, Replace};
use crate::term::streams::Streams;

/// The mode of a file saved for the user (less the umask).
pub const USER_FILE_MODE: u32 = 0o644;

/// The file a write to `path` lands in (symlinks followed). Exit 2 before anything is
/// sent when it is not a regular file, or exists and `force` was not given.
pub fn check_target(path: &Path, force: bool) -> Result<PathBuf> {
    let target = files::regular_target(path)
        .map_err(|e| CliError::usage(format!("cannot write to {}", path.display())).caused_by(e))?;
    if !force && target.exists() {
        return Err(
            CliError::usage(format!("{} already exists", path.display()))
                .with_hint("pass --force to overwrite it, or choose another name with -o"),
        );
    }
    Ok(target)
}

/// The replace rule `force` stands for.
pub fn replace_rule(force: bool) -> Replace {
    if force {
        Replace::Yes
    } else {
        Replace::No
    }
}

/// A temporary file beside `target` for a user file.
pub fn temp_file(target: &Path) -> Result<AtomicFile> {
    AtomicFile::beside(target, USER_FILE_MODE).map_err(|e| write_error(target, e))
}

/// Gives the temporary file its final name; with [`Replace::No`], a file that appeared
/// there meanwhile is kept and this fails.
pub fn commit(file: AtomicFile, target: &Path, replace: Replace) -> Result<()> {
    file.commit(target, replace).map_err(|e| {
        if e.kind() == io::ErrorKind::AlreadyExists {
            CliError::failure(format!(
                "{} appeared while writing; left as it was",
                target.display()
            ))
            .with_hint("pass --force to overwrite it")
        } else {
            write_error(target, e)
        }
    })
}

pub fn write_error(path: &Path, err: io::Error) -> CliError {
    CliError::failure(format!("cannot write {}", path.display())).caused_by(err)
}

/// A binary body's destination: a file (atomic) or stdout (not a terminal).
pub enum Sink<'a> {
    File {
        file: AtomicFile,
        target: PathBuf,
        replace: Replace,
    },
    Stdout(BufWriter<Box<dyn Write + 'a>>),
}

impl<'a> Sink<'a> {
    /// A file at `path` (see [`check_target`]), or `streams`' stdout when no path is
    /// given; a terminal on stdout is exit 2 with a hint naming `-o` and a redirect
    /// (`example` is a file name to show in it).
    pub fn open(
        path: Option<&Path>,
        force: bool,
        example: &str,
        streams: &'a Streams,
    ) -> Result<Sink<'a>> {
        match path {
            Some(path) => {
                let target = check_target(path, force)?;
                Ok(Sink::File {
                    file: temp_file(&target)?,
                    target,
                    replace: replace_rule(force),
                })
            }
            None if streams.stdout_is_terminal() => Err(CliError::usage(
                "refusing to write binary data to the terminal",
            )
            .with_hint(format!(
                "save it with -o {example}, or redirect: > {example}"
            ))),
            None => Ok(Sink::Stdout(BufWriter::with_capacity(
                64 * 1024,
                streams.out(),
            ))),
        }
    }

    /// Ends the output: the file takes its name, stdout is flushed. The file, if any.
    pub fn finish(self) -> Result<Option<PathBuf>> {
        match self {
            Sink::File {
                file,
                target,
                replace,
            } => {
                commit(file, &target, replace)?;
                Ok(Some(target))
            }
            Sink::Stdout(mut out) => {
                out.flush().map_err(CliError::from_output)?;
                Ok(None)
            }
        }
    }
}

impl Write for Sink<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Sink::File { file, .. } => file.write(buf),
            Sink::Stdout(out) => out.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Sink::File { file, .. } => file.flush(),
            Sink::Stdout(out) => out.flush(),
        }
    }
}

/// The longest slug of a prompt in a file name, in characters.
const SLUG_CHARS: usize = 40;

/// A prompt as the start of a file name: its lower-case ASCII letters and digits, other
/// runs as one `-`, at most 40 characters; `fallback` when nothing is left.
pub fn slug(prompt: &str, fallback: &str) -> String {
    let mut slug = String::new();
    for c in prompt.chars() {
        if c.is_ascii_alphanumeric() {
            if slug.len() >= SLUG_CHARS {
                break;
            }
            slug.push(c.to_ascii_lowercase());
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    match slug.trim_end_matches('-') {
        "" => fallback.to_string(),
        slug => slug.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::term::streams::Terminals;

    const STDOUT_A_TERMINAL: Terminals = Terminals {
        stdin: false,
        stdout: true,
        stderr: false,
    };

    #[test]
    fn slugs_keep_ascii_words_and_fall_back_when_none_are_left() {
        assert_eq!(slug("A red fox, jumping!", "x"), "a-red-fox-jumping");
        assert_eq!(slug("  --ar 16:9 ", "x"), "ar-16-9");
        assert_eq!(slug("日本語", "video"), "video");
        assert_eq!(slug(&"ab ".repeat(50), "x").len(), 40);
    }

    #[test]
    fn binary_is_refused_on_a_terminal_and_an_existing_file_without_force() {
        let (streams, _) = Streams::test();
        let terminal = streams.with_terminals(STDOUT_A_TERMINAL, 80);
        let Err(err) = Sink::open(None, false, "speech.mp3", &terminal) else {
            panic!("a terminal must be refused");
        };
        assert_eq!(err.exit.code(), 2);
        assert!(err
            .hint
            .as_deref()
            .unwrap_or_default()
            .contains("-o speech.mp3"));

        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("a.mp3");
        std::fs::write(&path, b"old").expect("write");
        let (piped, _) = Streams::test();
        let Err(err) = Sink::open(Some(&path), false, "a.mp3", &piped) else {
            panic!("an existing file must be refused");
        };
        assert_eq!(err.exit.code(), 2);
        assert!(err.message.contains("already exists"), "{}", err.message);

        let mut sink = Sink::open(Some(&path), true, "a.mp3", &terminal).expect("forced");
        sink.write_all(b"new").expect("write");
        assert_eq!(std::fs::read(&path).expect("read"), b"old", "not yet");
        assert_eq!(sink.finish().expect("finish"), Some(path.clone()));
        assert_eq!(std::fs::read(&path).expect("read"), b"new");
    }

    #[test]
    fn binary_goes_to_a_piped_stdout_as_it_is() {
        let (streams, captured) = Streams::test();
        let mut sink = Sink::open(None, false, "speech.mp3", &streams).expect("a pipe");
        sink.write_all(b"ID3\x00\xff").expect("write");
        assert_eq!(sink.finish().expect("finish"), None, "no file");
        assert_eq!(captured.stdout(), "ID3\u{0}\u{fffd}");
    }

    #[test]
    fn a_directory_is_not_a_target() {
        let dir = tempfile::tempdir().expect("tempdir");
        let err = check_target(dir.path(), true).expect_err("a directory");
        assert_eq!(err.exit.code(), 2);
    }
}
