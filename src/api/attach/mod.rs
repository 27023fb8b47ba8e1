//! Files and URLs sent with a message (`-a/--attach` on `chat` and `run`, `/attach` in
//! the chat REPL): read, recognised by their bytes (src/sniff.rs) and checked against a
//! size limit before any request. Images (png, jpeg, webp, gif) and PDFs are sent as
//! the wire format wants them ([`encode`]); UTF-8 text is inlined into the message as a
//! fenced block headed by its name. Anything else is exit 2 naming the path.

mod encode;

use std::io::Read;
use std::path::Path;

use base64::Engine;
use clap::{Arg, ArgAction};
use serde_json::{json, Value};

pub use encode::{message_text, user_content};

use crate::error::{CliError, Result};
use crate::store::files;
use crate::store::sniff;
use crate::term::streams;

/// The largest image sent inline (base64 in a JSON body).
pub const MAX_IMAGE: u64 = 10 << 20;
/// The largest PDF sent inline.
pub const MAX_DOCUMENT: u64 = 20 << 20;
/// The largest text file inlined into a message.
pub const MAX_TEXT: u64 = 1 << 20;

/// The image types every wire format takes.
const IMAGE_TYPES: &[&str] = &["image/png", "image/jpeg", "image/webp", "image/gif"];

/// One thing to send with a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Attachment {
    /// An image file, base64-encoded.
    Image(InlineImage),
    /// An image by URL: the server fetches it, this CLI never does.
    ImageUrl(String),
    /// A PDF, base64-encoded.
    Document { name: String, base64: String },
    /// A text file, inlined into the message.
    Text { name: String, text: String },
}

impl Attachment {
    /// What the user called it: the path, the URL or `stdin`.
    pub fn name(&self) -> &str {
        match self {
            Attachment::Image(image) => &image.name,
            Attachment::ImageUrl(url) => url,
            Attachment::Document { name, .. } | Attachment::Text { name, .. } => name,
        }
    }
}

/// What the conversation log keeps of attachments: `[{name, sha256}]`, the hash of the
/// bytes sent (hex, as `sha256sum` prints it; `null` for a URL, which is never fetched).
pub fn fingerprints(attachments: &[Attachment]) -> Value {
    use sha2::{Digest, Sha256};
    let hex = |bytes: &[u8]| -> String {
        Sha256::digest(bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    };
    let base64 = |text: &str| {
        base64::engine::general_purpose::STANDARD
            .decode(text)
            .map(|bytes| hex(&bytes))
            .ok()
    };
    let listed: Vec<Value> = attachments
        .iter()
        .map(|attachment| {
            let sha256 = match attachment {
                Attachment::Image(image) => base64(&image.base64),
                Attachment::Document { base64: data, .. } => base64(data),
                Attachment::Text { text, .. } => Some(hex(text.as_bytes())),
                Attachment::ImageUrl(_) => None,
            };
            json!({"name": attachment.name(), "sha256": sha256})
        })
        .collect();
    Value::Array(listed)
}

/// An image to send inside a JSON body, base64-encoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InlineImage {
    pub name: String,
    pub mime: &'static str,
    pub base64: String,
}

impl InlineImage {
    /// `data:image/png;base64,...`.
    pub fn data_url(&self) -> String {
        format!("data:{};base64,{}", self.mime, self.base64)
    }
}

/// Reads an image to send inline: a regular file of at most [`MAX_IMAGE`] bytes whose
/// bytes are an image (exit 2 otherwise, before any request).
pub fn inline_image(path: &Path) -> Result<InlineImage> {
    let name = path.display().to_string();
    let bytes = read_file(path, MAX_IMAGE, "image")?;
    match sniff::kind(&bytes).filter(|k| k.mime.starts_with("image/")) {
        Some(kind) => Ok(InlineImage {
            name,
            mime: kind.mime,
            base64: encode_base64(&bytes),
        }),
        None => Err(CliError::usage(format!("{name} is not an image"))),
    }
}

/// `-a/--attach`, shared by the commands that send a message.
pub fn arg() -> Arg {
    Arg::new("attach")
        .short('a')
        .long("attach")
        .value_name("PATH|URL|-")
        .action(ArgAction::Append)
        .help(
            "Send a file or image URL with the message (repeatable): png, jpeg, webp or gif \
             images, PDFs (Responses, Anthropic and Gemini formats), text files (inlined). \
             `-` reads it from stdin; the message is then an argument",
        )
}

/// Every `--attach` value, in order. `-` (stdin) may be given once.
pub fn load_all<'a>(specs: impl IntoIterator<Item = &'a String>) -> Result<Vec<Attachment>> {
    let mut stdin_taken = false;
    let mut loaded = Vec::new();
    for spec in specs {
        if spec == "-" {
            if stdin_taken {
                return Err(CliError::usage(
                    "`--attach -` reads stdin and can be given once",
                ));
            }
            stdin_taken = true;
        }
        loaded.push(load(spec)?);
    }
    Ok(loaded)
}

/// Whether one of `specs` is `-`, the attachment that takes stdin.
pub fn takes_stdin<'a>(specs: impl IntoIterator<Item = &'a String>) -> bool {
    specs.into_iter().any(|s| s == "-")
}

/// One attachment: `-` (stdin), an `http(s)://` image URL, or a file.
pub fn load(spec: &str) -> Result<Attachment> {
    if spec == "-" {
        return from_stdin();
    }
    let lower = spec.get(..8).unwrap_or(spec).to_ascii_lowercase();
    if lower.starts_with("https://") || lower.starts_with("http://") {
        return Ok(Attachment::ImageUrl(spec.to_string()));
    }
    let path = Path::new(spec);
    let bytes = read_file(path, MAX_DOCUMENT.max(MAX_IMAGE), "attachment")?;
    classify(spec, bytes)
}

fn from_stdin() -> Result<Attachment> {
    if streams::process_terminals().stdin {
        return Err(
            CliError::usage("`--attach -` reads stdin, but stdin is a terminal")
                .with_hint("pipe the file in: `cometapi chat -a - \"describe this\" < photo.png`"),
        );
    }
    let mut bytes = Vec::new();
    std::io::stdin()
        .lock()
        .take(MAX_DOCUMENT + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| CliError::usage("cannot read the attachment from stdin").caused_by(e))?;
    classify("stdin", bytes)
}

/// A regular file of at most `limit` bytes, read whole; exit 2 naming the path otherwise.
fn read_file(path: &Path, limit: u64, what: &str) -> Result<Vec<u8>> {
    let shown = path.display();
    let unreadable =
        |e: std::io::Error| CliError::usage(format!("cannot read the {what} {shown}: {e}"));
    let meta = std::fs::metadata(path).map_err(unreadable)?;
    if meta.is_dir() {
        return Err(CliError::usage(format!(
            "the {what} {shown} is a directory"
        )));
    }
    files::check_regular(path).map_err(|e| CliError::usage(e.to_string()))?;
    too_big(&shown.to_string(), meta.len(), limit)?;
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|file| file.take(limit + 1).read_to_end(&mut bytes))
        .map_err(unreadable)?;
    too_big(&shown.to_string(), bytes.len() as u64, limit)?;
    Ok(bytes)
}

/// Exit 2 when `size` is over `limit`, saying both.
fn too_big(name: &str, size: u64, limit: u64) -> Result<()> {
    if size <= limit {
        return Ok(());
    }
    Err(CliError::usage(format!(
        "{name} is {size} bytes; the limit is {limit} bytes ({} MiB)",
        limit >> 20
    ))
    .with_hint("pass an image by URL, or send a smaller file"))
}

/// What the bytes are: an image, a PDF, UTF-8 text, or exit 2.
fn classify(name: &str, bytes: Vec<u8>) -> Result<Attachment> {
    let size = bytes.len() as u64;
    let kind = sniff::kind(&bytes);
    match kind {
        Some(kind) if IMAGE_TYPES.contains(&kind.mime) => {
            too_big(name, size, MAX_IMAGE)?;
            return Ok(Attachment::Image(InlineImage {
                name: name.to_string(),
                mime: kind.mime,
                base64: encode_base64(&bytes),
            }));
        }
        Some(kind) if kind.mime == "application/pdf" => {
            too_big(name, size, MAX_DOCUMENT)?;
            return Ok(Attachment::Document {
                name: name.to_string(),
                base64: encode_base64(&bytes),
            });
        }
        _ => {}
    }
    match String::from_utf8(bytes) {
        Ok(text) if !text.contains('\0') => {
            too_big(name, size, MAX_TEXT)?;
            Ok(Attachment::Text {
                name: name.to_string(),
                text,
            })
        }
        _ => {
            let what = kind.map_or("binary data of an unknown type", |k| k.mime);
            Err(CliError::usage(format!(
                "{name} is {what}; attachments are images (png, jpeg, webp, gif), PDFs or UTF-8 text"
            )))
        }
    }
}

fn encode_base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0";

    #[test]
    fn bytes_decide_the_kind() {
        let image = classify("a.bin", PNG.to_vec()).expect("png");
        assert!(matches!(&image, Attachment::Image(i) if i.mime == "image/png"));
        let pdf = classify("doc", b"%PDF-1.7\n...".to_vec()).expect("pdf");
        assert!(matches!(pdf, Attachment::Document { .. }));
        let text = classify("notes.md", "é ok\n".as_bytes().to_vec()).expect("text");
        assert_eq!(
            text,
            Attachment::Text {
                name: "notes.md".into(),
                text: "é ok\n".into()
            }
        );
    }

    #[test]
    fn unknown_binary_and_oversized_text_are_usage_errors_naming_the_file() {
        let err = classify("blob", vec![0, 159, 146, 150]).expect_err("binary");
        assert_eq!(err.exit, crate::error::ExitCode::Usage);
        assert!(err.message.contains("blob"), "{}", err.message);
        let big = "a".repeat(MAX_TEXT as usize + 1).into_bytes();
        let err = classify("big.txt", big).expect_err("too big");
        assert!(
            err.message.contains("the limit is 1048576 bytes"),
            "{}",
            err.message
        );
    }

    proptest::proptest! {
        #[test]
        fn any_bytes_are_classified_or_refused_without_a_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..64)) {
            if let Err(err) = classify("x", bytes) {
                proptest::prop_assert_eq!(err.exit, crate::error::ExitCode::Usage);
            }
        }
    }

    #[test]
    fn urls_are_kept_as_urls() {
        assert_eq!(
            load("HTTPS://example.com/cat.png").expect("url"),
            Attachment::ImageUrl("HTTPS://example.com/cat.png".into())
        );
    }
}
