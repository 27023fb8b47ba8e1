//! Attachments in each wire format's shape. Text files become part of the message's
//! text; images and PDFs become parts beside it:
//! - OpenAI chat: `image_url` parts (a data URL or the URL); no documents.
//! - OpenAI Responses: `input_image` and `input_file` parts of one user message.
//! - Anthropic Messages: `image` and `document` blocks (`base64` or `url` source) before the text.
//! - Gemini: `inline_data` parts (`file_data` for a URL) before the text.

use serde_json::{json, Value};

use super::{Attachment, InlineImage};
use crate::api::stream::Wire;
use crate::error::{CliError, Result};

const PDF: &str = "application/pdf";

/// `text` with every text attachment appended as a fenced block headed by its name.
pub fn message_text(text: &str, attachments: &[Attachment]) -> String {
    let mut message = text.to_string();
    for attachment in attachments {
        if let Attachment::Text { name, text } = attachment {
            message.push_str(&format!("\n\n{}", fenced(name, text)));
        }
    }
    message
}

/// `name`, then `text` in a fence longer than any run of backticks inside it, tagged
/// with the file's extension so the model (and a renderer) knows the language.
fn fenced(name: &str, text: &str) -> String {
    let longest_run = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest_run.max(2) + 1);
    let language = std::path::Path::new(name)
        .extension()
        .and_then(|e| e.to_str())
        .filter(|e| e.chars().all(|c| c.is_ascii_alphanumeric()))
        .unwrap_or("");
    let body = text.strip_suffix('\n').unwrap_or(text);
    format!("{name}:\n{fence}{language}\n{body}\n{fence}")
}

/// The user's message with its attachments, in `wire`'s shape: a chat or Anthropic
/// message's `content`, the Responses `input`, or the Gemini `parts`. With no image or
/// document it is the plain text (a string; for Gemini one text part), as before.
pub fn user_content(wire: Wire, text: &str, attachments: &[Attachment]) -> Result<Value> {
    let text = message_text(text, attachments);
    let mut parts = Vec::new();
    for attachment in attachments {
        if let Some(part) = part(wire, attachment)? {
            parts.push(part);
        }
    }
    Ok(match wire {
        Wire::Gemini => {
            parts.push(json!({"text": text}));
            Value::Array(parts)
        }
        _ if parts.is_empty() => json!(text),
        Wire::Chat => with_text_first(json!({"type": "text", "text": text}), parts),
        Wire::Responses => json!([{
            "role": "user",
            "content": with_text_first(json!({"type": "input_text", "text": text}), parts),
        }]),
        Wire::Anthropic => {
            parts.push(json!({"type": "text", "text": text}));
            Value::Array(parts)
        }
    })
}

fn with_text_first(text: Value, parts: Vec<Value>) -> Value {
    Value::Array(std::iter::once(text).chain(parts).collect())
}

/// One attachment as a part; `None` for text (already in the message).
fn part(wire: Wire, attachment: &Attachment) -> Result<Option<Value>> {
    Ok(Some(match attachment {
        Attachment::Text { .. } => return Ok(None),
        Attachment::Image(image) => image_part(wire, image),
        Attachment::ImageUrl(url) => url_part(wire, url)?,
        Attachment::Document { name, base64 } => document_part(wire, name, base64)?,
    }))
}

fn image_part(wire: Wire, image: &InlineImage) -> Value {
    match wire {
        Wire::Chat => json!({"type": "image_url", "image_url": {"url": image.data_url()}}),
        Wire::Responses => json!({"type": "input_image", "image_url": image.data_url()}),
        Wire::Anthropic => json!({"type": "image", "source": {
            "type": "base64", "media_type": image.mime, "data": image.base64,
        }}),
        Wire::Gemini => json!({"inline_data": {"mime_type": image.mime, "data": image.base64}}),
    }
}

fn url_part(wire: Wire, url: &str) -> Result<Value> {
    Ok(match wire {
        Wire::Chat => json!({"type": "image_url", "image_url": {"url": url}}),
        Wire::Responses => json!({"type": "input_image", "image_url": url}),
        Wire::Anthropic => json!({"type": "image", "source": {"type": "url", "url": url}}),
        Wire::Gemini => {
            // Gemini needs the type up front; only the URL's extension can tell it here.
            let mime = mime_guess::from_path(url.split(['?', '#']).next().unwrap_or(url))
                .first_raw()
                .filter(|m| super::IMAGE_TYPES.contains(m))
                .ok_or_else(|| {
                    CliError::usage(format!(
                        "cannot tell the image type of {url} for Gemini (it needs .png, .jpg, .webp or .gif)"
                    ))
                    .with_hint("download the image and attach the file instead")
                })?;
            json!({"file_data": {"mime_type": mime, "file_uri": url}})
        }
    })
}

fn document_part(wire: Wire, name: &str, base64: &str) -> Result<Value> {
    Ok(match wire {
        Wire::Chat => {
            return Err(CliError::usage(format!(
                "{name} is a PDF, and the OpenAI chat format takes no documents"
            ))
            .with_hint(
                "send it with `cometapi run -e responses|anthropic|gemini -a FILE -p TEXT`",
            ))
        }
        Wire::Responses => json!({
            "type": "input_file",
            "filename": file_name(name),
            "file_data": format!("data:{PDF};base64,{base64}"),
        }),
        Wire::Anthropic => json!({"type": "document", "source": {
            "type": "base64", "media_type": PDF, "data": base64,
        }}),
        Wire::Gemini => json!({"inline_data": {"mime_type": PDF, "data": base64}}),
    })
}

/// The last component of a path (`docs/a.pdf` → `a.pdf`).
fn file_name(name: &str) -> &str {
    std::path::Path::new(name)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image() -> Attachment {
        Attachment::Image(InlineImage {
            name: "a.png".into(),
            mime: "image/png",
            base64: "QUJD".into(),
        })
    }

    #[test]
    fn text_files_are_fenced_under_their_name() {
        let notes = Attachment::Text {
            name: "src/main.rs".into(),
            text: "fn main() {}\n".into(),
        };
        assert_eq!(
            message_text("review", &[notes]),
            "review\n\nsrc/main.rs:\n```rs\nfn main() {}\n```"
        );
        assert_eq!(fenced("x", "a ```` b"), "x:\n`````\na ```` b\n`````");
    }

    #[test]
    fn images_take_each_formats_shape() {
        let one = [image()];
        let chat = user_content(Wire::Chat, "hi", &one).expect("chat");
        assert_eq!(chat[1]["image_url"]["url"], "data:image/png;base64,QUJD");
        let responses = user_content(Wire::Responses, "hi", &one).expect("responses");
        assert_eq!(responses[0]["content"][1]["type"], "input_image");
        let anthropic = user_content(Wire::Anthropic, "hi", &one).expect("anthropic");
        assert_eq!(anthropic[0]["source"]["media_type"], "image/png");
        assert_eq!(anthropic[1]["text"], "hi");
        let gemini = user_content(Wire::Gemini, "hi", &one).expect("gemini");
        assert_eq!(gemini[0]["inline_data"]["data"], "QUJD");
        assert_eq!(
            user_content(Wire::Chat, "hi", &[]).expect("plain"),
            json!("hi")
        );
    }

    #[test]
    fn pdfs_need_a_format_with_documents_and_gemini_urls_need_a_type() {
        let pdf = [Attachment::Document {
            name: "d/a.pdf".into(),
            base64: "JVBER".into(),
        }];
        let err = user_content(Wire::Chat, "x", &pdf).expect_err("chat has no documents");
        assert!(err.message.contains("d/a.pdf"), "{}", err.message);
        let responses = user_content(Wire::Responses, "x", &pdf).expect("responses");
        assert_eq!(responses[0]["content"][1]["filename"], "a.pdf");
        let url = [Attachment::ImageUrl("https://h/x".into())];
        assert!(user_content(Wire::Gemini, "x", &url).is_err());
        let url = [Attachment::ImageUrl("https://h/x.JPG?s=1".into())];
        let gemini = user_content(Wire::Gemini, "x", &url).expect("typed url");
        assert_eq!(gemini[0]["file_data"]["mime_type"], "image/jpeg");
    }
}
