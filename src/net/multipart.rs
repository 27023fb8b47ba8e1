//! `multipart/form-data` request bodies whose file parts are streamed from disk, never
//! read whole. A [`Form`] is a plan: every file is checked when it is added (it exists,
//! is a regular file, has an allowed extension and is within the size limit), before
//! any request; [`Form::to_reqwest`] opens the files afresh for each attempt, since a
//! streamed body cannot be sent twice.

use std::fs::File;
use std::path::{Path, PathBuf};

use crate::error::{CliError, Result};

/// What a command accepts as a file part.
#[derive(Clone, Copy, Debug)]
pub struct FileRules {
    /// What the file is, for messages ("audio file").
    pub what: &'static str,
    /// The largest size accepted, in bytes.
    pub max_bytes: u64,
    /// The extensions accepted, lower case and without the dot; matched ignoring case.
    pub extensions: &'static [&'static str],
}

/// The fields of a multipart body, in the order they are sent.
#[derive(Debug, Default)]
pub struct Form {
    parts: Vec<(String, Part)>,
}

#[derive(Debug)]
enum Part {
    Text(String),
    File(FilePart),
}

#[derive(Debug)]
struct FilePart {
    path: PathBuf,
    rules: FileRules,
    /// The size when checked, for the `-vv` trace.
    bytes: u64,
}

impl Form {
    pub fn new() -> Form {
        Form::default()
    }

    /// Adds a text field.
    pub fn text(mut self, name: &str, value: impl Into<String>) -> Form {
        self.parts
            .push((name.to_string(), Part::Text(value.into())));
        self
    }

    /// Adds a file field after checking the file against `rules`: a missing or
    /// unreadable file, a directory, FIFO or device, an extension not in the list
    /// and a file over the limit are each an exit-2 error naming the rule broken.
    pub fn file(mut self, name: &str, path: &Path, rules: FileRules) -> Result<Form> {
        let (_, bytes) = open_checked(path, &rules)?;
        let part = FilePart {
            path: path.to_path_buf(),
            rules,
            bytes,
        };
        self.parts.push((name.to_string(), Part::File(part)));
        Ok(self)
    }

    /// A fresh reqwest form for one attempt: text fields as they are, each file opened
    /// and checked again, then streamed with its length declared (so the request has a
    /// `Content-Length`), named after the file, its type guessed from the extension.
    pub fn to_reqwest(&self) -> Result<reqwest::multipart::Form> {
        let mut form = reqwest::multipart::Form::new();
        for (name, part) in &self.parts {
            let part = match part {
                Part::Text(value) => reqwest::multipart::Part::text(value.clone()),
                Part::File(file) => file.streamed()?,
            };
            form = form.part(name.clone(), part);
        }
        Ok(form)
    }

    /// One line per field for the `-vv` trace: `name: value`, or `name: @path (N bytes)`.
    pub fn describe(&self) -> Vec<String> {
        self.parts
            .iter()
            .map(|(name, part)| match part {
                Part::Text(value) => format!("{name}: {value}"),
                Part::File(file) => {
                    format!("{name}: @{} ({} bytes)", file.path.display(), file.bytes)
                }
            })
            .collect()
    }
}

impl FilePart {
    fn streamed(&self) -> Result<reqwest::multipart::Part> {
        let (file, bytes) = open_checked(&self.path, &self.rules)?;
        let name = self
            .path
            .file_name()
            .map_or_else(|| "file".to_string(), |n| n.to_string_lossy().into_owned());
        let mime = mime_guess::from_path(&self.path).first_or_octet_stream();
        let body = tokio::fs::File::from_std(file);
        reqwest::multipart::Part::stream_with_length(body, bytes)
            .file_name(name)
            .mime_str(mime.essence_str())
            .map_err(|e| CliError::failure("cannot build the upload").caused_by(e))
    }
}

/// Opens `path` for reading once it passes `rules`, and gives its size. The type is
/// checked before opening (a FIFO would block the open) and again on the open file.
pub fn open_checked(path: &Path, rules: &FileRules) -> Result<(File, u64)> {
    check_extension(path, rules)?;
    crate::store::files::check_regular(path).map_err(|e| CliError::usage(e.to_string()))?;
    let file = File::open(path).map_err(|e| {
        CliError::usage(format!("cannot read {} {}", rules.what, path.display())).caused_by(e)
    })?;
    let meta = file.metadata().map_err(|e| {
        CliError::usage(format!("cannot read {} {}", rules.what, path.display())).caused_by(e)
    })?;
    if !meta.is_file() {
        return Err(CliError::usage(format!(
            "{} is not a regular file; refusing to upload it",
            path.display()
        )));
    }
    if meta.len() > rules.max_bytes {
        return Err(CliError::usage(format!(
            "{} is {}; {}s over {} are refused",
            path.display(),
            megabytes(meta.len()),
            rules.what,
            megabytes(rules.max_bytes)
        ))
        .with_hint("split or compress the file first"));
    }
    Ok((file, meta.len()))
}

fn check_extension(path: &Path, rules: &FileRules) -> Result<()> {
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    if extension
        .as_deref()
        .is_some_and(|e| rules.extensions.contains(&e))
    {
        return Ok(());
    }
    let found = match extension {
        Some(e) => format!("its extension .{e} is not supported"),
        None => "it has no file extension".to_string(),
    };
    Err(
        CliError::usage(format!("{} cannot be sent: {found}", path.display())).with_hint(format!(
            "{}s must end in one of: {}",
            rules.what,
            rules.extensions.join(", ")
        )),
    )
}

/// A size in megabytes (2^20 bytes): `25 MB`, `25.3 MB`.
fn megabytes(bytes: u64) -> String {
    let mb = bytes as f64 / f64::from(1 << 20);
    if mb.fract() == 0.0 {
        format!("{mb:.0} MB")
    } else {
        format!("{mb:.1} MB")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ExitCode;

    const AUDIO: FileRules = FileRules {
        what: "audio file",
        max_bytes: 25 << 20,
        extensions: &["mp3", "wav"],
    };

    fn refused(path: &Path) -> CliError {
        Form::new()
            .file("file", path, AUDIO)
            .expect_err("must be refused")
    }

    #[test]
    fn an_allowed_file_is_accepted_whatever_the_case_of_its_extension() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("Clip.MP3");
        std::fs::write(&path, b"ID3 audio").expect("write");
        let form = Form::new()
            .text("model", "whisper-1")
            .file("file", &path, AUDIO)
            .expect("accepted");
        assert_eq!(
            form.describe(),
            [
                "model: whisper-1".to_string(),
                format!("file: @{} (9 bytes)", path.display())
            ]
        );
        let built = form.to_reqwest().expect("form");
        assert!(!built.boundary().is_empty());
    }

    #[test]
    fn a_file_over_the_limit_is_a_usage_error_naming_the_limit() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("long.wav");
        let file = File::create(&path).expect("create");
        // Sparse: no 25 MB are written.
        file.set_len((25 << 20) + 1).expect("grow");
        let err = refused(&path);
        assert_eq!(err.exit, ExitCode::Usage);
        assert!(err.message.contains("over 25 MB"), "{}", err.message);
        assert!(err.message.contains("is 25.0 MB"), "{}", err.message);
        file.set_len(25 << 20).expect("shrink");
        Form::new()
            .file("file", &path, AUDIO)
            .expect("exactly the limit is allowed");
    }

    #[test]
    fn unknown_or_missing_extensions_are_refused_listing_the_allowed_ones() {
        let dir = tempfile::tempdir().expect("tempdir");
        for name in ["notes.txt", "noext", "clip.mp3.bak"] {
            let path = dir.path().join(name);
            std::fs::write(&path, b"x").expect("write");
            let err = refused(&path);
            assert_eq!(err.exit, ExitCode::Usage, "{name}");
            assert!(
                err.hint.as_deref().is_some_and(|h| h.contains("mp3, wav")),
                "{name}: {err:?}"
            );
        }
        assert!(refused(&dir.path().join("noext"))
            .message
            .contains("no file extension"));
    }

    #[test]
    fn missing_files_and_directories_are_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let missing = refused(&dir.path().join("gone.mp3"));
        assert_eq!(missing.exit, ExitCode::Usage);
        assert!(missing.message.contains("cannot read audio file"));
        let folder = dir.path().join("folder.mp3");
        std::fs::create_dir(&folder).expect("mkdir");
        let err = refused(&folder);
        assert_eq!(err.exit, ExitCode::Usage);
        assert!(err.message.contains("a directory"), "{}", err.message);
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_is_refused_without_blocking() {
        let dir = tempfile::tempdir().expect("tempdir");
        let fifo = dir.path().join("pipe.wav");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        assert!(made.expect("mkfifo").success());
        let err = refused(&fifo);
        assert!(err.message.contains("a FIFO"), "{}", err.message);
    }

    #[test]
    fn megabytes_are_shown_whole_or_to_one_decimal() {
        assert_eq!(megabytes(25 << 20), "25 MB");
        assert_eq!(megabytes((25 << 20) + (1 << 19)), "25.5 MB");
    }
}
