//! The fake server's image and speech endpoints (`/v1/images/generations`,
//! `/v1/images/edits`, `/v1/audio/speech`), and a second loopback server standing for
//! the CDN that dall-e result URLs point to. That host records every request, so a
//! test can check that no `Authorization` header reached it.
//!
//! GPT image models answer with `b64_json` in the format asked for (`output_format`);
//! `dall-e-*` models answer with a `url` on the CDN, always a PNG (as dall-e does),
//! and dall-e-3 adds a `revised_prompt`. Image bytes carry the requested size in their
//! header. Speech is a deterministic body per format (see [`speech_audio`]).

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU16, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread;

use base64::Engine;
use serde_json::{json, Value};

use super::{
    guarded, openai_error, require_json, Auth, Call, FakeServer, Recorded, Reply, State,
    FIXED_CREATED,
};

/// A reply written by hand to the connection.
pub type ByHand = Box<dyn FnOnce(&mut dyn Write) + Send>;

const SPEECH_LIMIT: usize = 4096;
/// Speech bodies are at least this long, so they arrive in several reads.
const SPEECH_BYTES: usize = 96 * 1024;

/// The knobs and the CDN host.
#[derive(Default)]
pub struct Media {
    cdn: OnceLock<Cdn>,
    /// What the CDN answers instead of the image (0: the image).
    cdn_status: AtomicU16,
    /// Cut speech bodies and CDN downloads after this many bytes (0: whole).
    cut_after: AtomicUsize,
    /// Serve `b64_json` in the wrong format (always PNG), whatever was asked.
    png_always: AtomicBool,
    cdn_redirect: AtomicBool,
    /// Speech bodies of exactly this many bytes, generated as read (0: [`speech_audio`]).
    speech_bytes: AtomicUsize,
}

pub(super) struct Cdn {
    server: Arc<tiny_http::Server>,
    addr: SocketAddr,
    shared: Arc<CdnShared>,
}

#[derive(Default)]
struct CdnShared {
    hits: Mutex<Vec<Recorded>>,
    images: Mutex<HashMap<String, Vec<u8>>>,
    status: AtomicU16,
    cut_after: AtomicUsize,
    /// Hand out `/moved/...` URLs, which redirect to `localhost` (another origin).
    redirect: AtomicBool,
    port: AtomicU16,
}

impl Drop for Media {
    fn drop(&mut self) {
        if let Some(cdn) = self.cdn.get() {
            cdn.server.unblock();
        }
    }
}

impl FakeServer {
    /// Every request the CDN host received, in order.
    pub fn cdn_requests(&self) -> Vec<Recorded> {
        match self.state.media_images.cdn.get() {
            Some(cdn) => cdn.shared.hits.lock().expect("hits").clone(),
            None => Vec::new(),
        }
    }

    /// Make the CDN answer `status` (e.g. 404) instead of the image; 0 restores it.
    pub fn set_cdn_status(&self, status: u16) {
        let media = &self.state.media_images;
        media.cdn_status.store(status, Ordering::SeqCst);
        if let Some(cdn) = media.cdn.get() {
            cdn.shared.status.store(status, Ordering::SeqCst);
        }
    }

    /// Cut speech bodies and CDN downloads after `bytes` (a broken connection); 0: whole.
    pub fn set_media_cut_after(&self, bytes: usize) {
        let media = &self.state.media_images;
        media.cut_after.store(bytes, Ordering::SeqCst);
        if let Some(cdn) = media.cdn.get() {
            cdn.shared.cut_after.store(bytes, Ordering::SeqCst);
        }
    }

    /// Make speech replies an MP3 header and then `bytes` in all, produced as they are
    /// sent and never held (benchmarks); 0 restores [`speech_audio`].
    #[allow(dead_code)] // only `examples/fake-server.rs` (`--speech-bytes`) sets it
    pub fn set_speech_bytes(&self, bytes: usize) {
        self.state
            .media_images
            .speech_bytes
            .store(bytes, Ordering::SeqCst);
    }

    /// Make CDN URLs redirect once to the same CDN as `localhost`: another origin.
    pub fn set_cdn_redirect(&self, on: bool) {
        self.state
            .media_images
            .cdn_redirect
            .store(on, Ordering::SeqCst);
    }

    /// Make `b64_json` images PNG whatever format was asked for.
    pub fn set_png_always(&self, on: bool) {
        self.state
            .media_images
            .png_always
            .store(on, Ordering::SeqCst);
    }
}

/// The reply to a request for one of the routes here, `None` for any other path.
pub(super) fn route(call: &Call) -> Option<Reply> {
    let (state, req) = (call.state, call.req);
    let answer: fn(&State, &Recorded) -> Reply = match (req.method.as_str(), call.path) {
        ("POST", "/v1/audio/speech") => speech,
        ("POST", "/v1/images/generations") => generations,
        ("POST", "/v1/images/edits") => edits,
        _ => return None,
    };
    Some(guarded(req, Auth::BearerKey, || answer(state, req)))
}

// ---------------------------------------------------------------------------
// Speech
// ---------------------------------------------------------------------------

/// The audio the server sends for `input` in `format`: a header that identifies the
/// format by its bytes, then the input repeated to at least 96 KiB.
pub fn speech_audio(format: &str, input: &str) -> Vec<u8> {
    let mut bytes: Vec<u8> = match format {
        "opus" => b"OggS\0\x02\0\0\0\0\0\0\0\0".to_vec(),
        "aac" => vec![0xFF, 0xF1, 0x50, 0x80, 0x02, 0x1F, 0xFC],
        "flac" => b"fLaC\0\0\0\x22".to_vec(),
        "wav" => b"RIFF\x24\0\0\0WAVEfmt ".to_vec(),
        "pcm" => Vec::new(),
        _ => b"ID3\x04\0\0\0\0\0\0".to_vec(),
    };
    let input = if input.is_empty() { "." } else { input };
    while bytes.len() < SPEECH_BYTES {
        bytes.extend_from_slice(input.as_bytes());
    }
    bytes
}

fn audio_type(format: &str) -> &'static str {
    match format {
        "opus" => "audio/ogg",
        "aac" => "audio/aac",
        "flac" => "audio/flac",
        "wav" => "audio/wav",
        "pcm" => "audio/pcm",
        _ => "audio/mpeg",
    }
}

fn speech(state: &State, req: &Recorded) -> Reply {
    let body = match require_json(
        req,
        &[
            ("model", Value::is_string, "a string"),
            ("input", Value::is_string, "a string"),
            ("voice", Value::is_string, "a string"),
        ],
    ) {
        Ok(body) => body,
        Err(reply) => return reply,
    };
    let input = body["input"].as_str().unwrap_or_default();
    if input.chars().count() > SPEECH_LIMIT {
        return openai_error(
            400,
            "input is longer than 4096 characters",
            "invalid_request_error",
            None,
        );
    }
    let format = body
        .get("response_format")
        .and_then(Value::as_str)
        .unwrap_or("mp3");
    let generated = state.media_images.speech_bytes.load(Ordering::SeqCst);
    if generated > 0 {
        let mut reply = Reply::raw(200, "audio/mpeg", String::new());
        let head = b"ID3\x04\0\0\0\0\0\0".to_vec();
        let rest = std::io::repeat(0x55).take(generated.saturating_sub(head.len()) as u64);
        reply.stream = Some(Box::new(std::io::Cursor::new(head).chain(rest)));
        return reply;
    }
    let audio = speech_audio(format, input);
    let cut = state.media_images.cut_after.load(Ordering::SeqCst);
    if cut > 0 {
        return cut_reply(audio_type(format), audio, cut);
    }
    binary(audio_type(format), audio)
}

/// A 200 of `content_type` sent chunked from memory.
pub(super) fn binary(content_type: &'static str, bytes: Vec<u8>) -> Reply {
    let mut reply = Reply::raw(200, content_type, String::new());
    reply.stream = Some(Box::new(std::io::Cursor::new(bytes)));
    reply
}

/// A 200 whose body breaks off after `cut` bytes: the chunked framing is broken there,
/// so the client sees a failed read, not a clean end.
fn cut_reply(content_type: &'static str, bytes: Vec<u8>, cut: usize) -> Reply {
    let mut reply = Reply::raw(200, content_type, String::new());
    reply.by_hand = Some(Box::new(move |out: &mut dyn Write| {
        write_cut(out, content_type, &bytes, cut);
    }));
    reply
}

fn write_cut(out: &mut dyn Write, content_type: &str, bytes: &[u8], cut: usize) {
    let part = &bytes[..cut.min(bytes.len())];
    let _ = write!(
        out,
        "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n",
        part.len()
    )
    .and_then(|()| out.write_all(part))
    .and_then(|()| out.write_all(b"\r\nzz\r\n"))
    .and_then(|()| out.flush());
}

// ---------------------------------------------------------------------------
// Images
// ---------------------------------------------------------------------------

/// An image of `format` (`png`, `jpeg`, `webp`) whose header says `width` x `height`,
/// followed by `i` so that several images differ.
pub fn image_bytes(format: &str, width: u32, height: u32, i: usize) -> Vec<u8> {
    let mut bytes = match format {
        "jpeg" | "jpg" => {
            let mut b = vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10];
            b.extend_from_slice(b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
            b.extend_from_slice(&[0xFF, 0xC0, 0, 0x11, 8]);
            b.extend_from_slice(&(height as u16).to_be_bytes());
            b.extend_from_slice(&(width as u16).to_be_bytes());
            b.extend_from_slice(&[3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
            b
        }
        "webp" => {
            let mut b = b"RIFF\0\0\0\0WEBPVP8X\x0a\0\0\0\0\0\0\0".to_vec();
            b.extend_from_slice(&(width - 1).to_le_bytes()[..3]);
            b.extend_from_slice(&(height - 1).to_le_bytes()[..3]);
            b
        }
        _ => {
            let mut b = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
            b.extend_from_slice(&width.to_be_bytes());
            b.extend_from_slice(&height.to_be_bytes());
            b.extend_from_slice(&[8, 6, 0, 0, 0, 0, 0, 0, 0]);
            b
        }
    };
    bytes.extend_from_slice(format!("image {i}").as_bytes());
    bytes
}

/// `1536x1024` → (1536, 1024); anything else (`auto`) → 1024 x 1024.
fn size_of(body: &Value) -> (u32, u32) {
    body.get("size")
        .and_then(Value::as_str)
        .and_then(|s| s.split_once('x'))
        .and_then(|(w, h)| Some((w.parse().ok()?, h.parse().ok()?)))
        .filter(|&(w, h): &(u32, u32)| w > 0 && h > 0 && w <= 8192 && h <= 8192)
        .unwrap_or((1024, 1024))
}

fn generations(state: &State, req: &Recorded) -> Reply {
    let body = match require_json(
        req,
        &[
            ("model", Value::is_string, "a string"),
            ("prompt", Value::is_string, "a string"),
        ],
    ) {
        Ok(body) => body,
        Err(reply) => return reply,
    };
    images_reply(state, &body)
}

/// `{created, data: [...], usage}` for the request `body` (model, prompt, n, size,
/// output_format).
fn images_reply(state: &State, body: &Value) -> Reply {
    let n = body.get("n").and_then(Value::as_u64).unwrap_or(1);
    if !(1..=10).contains(&n) {
        return openai_error(
            400,
            "n must be between 1 and 10",
            "invalid_request_error",
            None,
        );
    }
    let model = body["model"].as_str().unwrap_or_default();
    let prompt = body["prompt"].as_str().unwrap_or_default();
    let (width, height) = size_of(body);
    let media = &state.media_images;
    let format = match body.get("output_format").and_then(Value::as_str) {
        _ if media.png_always.load(Ordering::SeqCst) => "png",
        Some(format) => format,
        None => "png",
    };
    let data: Vec<Value> = (0..n as usize)
        .map(|i| {
            if model.starts_with("dall-e") {
                let url = cdn(state).publish(image_bytes("png", width, height, i));
                let mut item = json!({ "url": url });
                if model == "dall-e-3" {
                    item["revised_prompt"] = json!(format!("A vivid rendering of: {prompt}"));
                }
                item
            } else {
                let bytes = image_bytes(format, width, height, i);
                json!({ "b64_json": base64::engine::general_purpose::STANDARD.encode(bytes) })
            }
        })
        .collect();
    Reply::json(
        200,
        json!({
            "created": FIXED_CREATED,
            "data": data,
            "usage": {"input_tokens": 10, "output_tokens": 100, "total_tokens": 110},
        }),
    )
}

/// `image` (or `image[]`) files and a `prompt` are required; the reply is as for a
/// generation, from the fields sent.
fn edits(state: &State, req: &Recorded) -> Reply {
    let parts = multipart_parts(req);
    if parts.is_empty() {
        return openai_error(
            400,
            "expected a multipart/form-data body",
            "invalid_request_error",
            None,
        );
    }
    let has_image = parts
        .iter()
        .any(|p| (p.name == "image" || p.name == "image[]") && p.filename.is_some());
    let text = |name: &str| {
        parts
            .iter()
            .find(|p| p.name == name && p.filename.is_none())
            .map(|p| String::from_utf8_lossy(&p.data).into_owned())
    };
    let Some(prompt) = text("prompt") else {
        return openai_error(400, "'prompt' is required", "invalid_request_error", None);
    };
    if !has_image {
        return openai_error(400, "'image' is required", "invalid_request_error", None);
    }
    let mut body = json!({
        "model": text("model").unwrap_or_else(|| "gpt-image-1".to_string()),
        "prompt": prompt,
    });
    if let Some(n) = text("n").and_then(|n| n.parse::<u64>().ok()) {
        body["n"] = json!(n);
    }
    for field in ["size", "output_format"] {
        if let Some(value) = text(field) {
            body[field] = json!(value);
        }
    }
    images_reply(state, &body)
}

// ---------------------------------------------------------------------------
// Multipart
// ---------------------------------------------------------------------------

/// One part of a multipart/form-data body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Part {
    pub name: String,
    pub filename: Option<String>,
    pub content_type: Option<String>,
    pub data: Vec<u8>,
}

/// The parts of a recorded multipart/form-data body, in order (empty if it is not one).
pub fn multipart_parts(req: &Recorded) -> Vec<Part> {
    let Some(boundary) = req
        .header("content-type")
        .and_then(|t| t.split("boundary=").nth(1))
        .map(|b| b.trim_matches('"').to_string())
    else {
        return Vec::new();
    };
    let delimiter = format!("--{boundary}").into_bytes();
    split(&req.body_bytes, &delimiter)
        .into_iter()
        .skip(1)
        .filter_map(parse_part)
        .collect()
}

fn split<'a>(body: &'a [u8], delimiter: &[u8]) -> Vec<&'a [u8]> {
    let mut pieces = Vec::new();
    let mut rest = body;
    while let Some(at) = find(rest, delimiter) {
        pieces.push(&rest[..at]);
        rest = &rest[at + delimiter.len()..];
    }
    pieces.push(rest);
    pieces
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// `\r\nheaders\r\n\r\ndata\r\n` → a part; the closing `--` piece → None.
fn parse_part(piece: &[u8]) -> Option<Part> {
    let piece = piece.strip_prefix(b"\r\n")?;
    let end = find(piece, b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&piece[..end]).into_owned();
    let data = piece[end + 4..]
        .strip_suffix(b"\r\n")
        .unwrap_or(&piece[end + 4..]);
    let param = |name: &str| {
        let key = format!("{name}=\"");
        let start = head.find(&key)? + key.len();
        let len = head[start..].find('"')?;
        Some(head[start..start + len].to_string())
    };
    let content_type = head.lines().find_map(|line| {
        let (k, v) = line.split_once(':')?;
        k.trim()
            .eq_ignore_ascii_case("content-type")
            .then(|| v.trim().to_string())
    });
    Some(Part {
        name: param("name")?,
        filename: param("filename"),
        content_type,
        data: data.to_vec(),
    })
}

// ---------------------------------------------------------------------------
// The CDN host
// ---------------------------------------------------------------------------

pub(super) fn cdn(state: &State) -> &Cdn {
    let media = &state.media_images;
    media.cdn.get_or_init(|| {
        let cdn = Cdn::start();
        cdn.shared
            .status
            .store(media.cdn_status.load(Ordering::SeqCst), Ordering::SeqCst);
        cdn.shared
            .cut_after
            .store(media.cut_after.load(Ordering::SeqCst), Ordering::SeqCst);
        cdn.shared
            .redirect
            .store(media.cdn_redirect.load(Ordering::SeqCst), Ordering::SeqCst);
        cdn
    })
}

impl Cdn {
    fn start() -> Cdn {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").expect("CDN: bind"));
        let addr = server.server_addr().to_ip().expect("CDN: an IP address");
        let shared = Arc::new(CdnShared::default());
        shared.port.store(addr.port(), Ordering::SeqCst);
        {
            let server = Arc::clone(&server);
            let shared = Arc::clone(&shared);
            let _ = thread::Builder::new()
                .name("fake-cdn".into())
                .spawn(move || {
                    while let Ok(request) = server.recv() {
                        serve_cdn(&shared, request);
                    }
                });
        }
        Cdn {
            server,
            addr,
            shared,
        }
    }

    /// Keeps `bytes` and returns the URL they are served at.
    pub(super) fn publish(&self, bytes: Vec<u8>) -> String {
        let mut images = self.shared.images.lock().expect("images");
        let name = format!("img-{}.png", images.len() + 1);
        images.insert(name.clone(), bytes);
        let dir = if self.shared.redirect.load(Ordering::SeqCst) {
            "moved"
        } else {
            "files"
        };
        format!("http://{}/{dir}/{name}?sig=abc", self.addr)
    }
}

fn serve_cdn(shared: &CdnShared, request: tiny_http::Request) {
    let url = request.url().to_string();
    let (path, query) = url.split_once('?').unwrap_or((&url, ""));
    let recorded = Recorded {
        method: request.method().as_str().to_ascii_uppercase(),
        path: path.to_string(),
        query: query.to_string(),
        headers: request
            .headers()
            .iter()
            .map(|h| {
                (
                    h.field.as_str().as_str().to_ascii_lowercase(),
                    h.value.as_str().to_string(),
                )
            })
            .collect(),
        body: String::new(),
        body_bytes: Vec::new(),
    };
    shared.hits.lock().expect("hits").push(recorded);
    let name = path.rsplit('/').next().unwrap_or_default();
    let image = shared.images.lock().expect("images").get(name).cloned();
    let status = shared.status.load(Ordering::SeqCst);
    let cut = shared.cut_after.load(Ordering::SeqCst);
    if path.starts_with("/moved/") {
        let port = shared.port.load(Ordering::SeqCst);
        let location = format!("http://localhost:{port}/files/{name}?{query}");
        let header =
            tiny_http::Header::from_bytes(&b"Location"[..], location.as_bytes()).expect("header");
        let _ = request.respond(
            tiny_http::Response::from_string("")
                .with_status_code(302)
                .with_header(header),
        );
        return;
    }
    match image {
        Some(bytes) if status == 0 && cut > 0 => {
            write_cut(&mut request.into_writer(), "image/png", &bytes, cut);
        }
        Some(bytes) if status == 0 => {
            let header = tiny_http::Header::from_bytes(&b"Content-Type"[..], &b"image/png"[..])
                .expect("header");
            let _ = request.respond(tiny_http::Response::from_data(bytes).with_header(header));
        }
        _ => {
            let status = if status == 0 { 404 } else { status };
            let body = "<Error><Code>NoSuchKey</Code></Error>";
            let _ =
                request.respond(tiny_http::Response::from_string(body).with_status_code(status));
        }
    }
}
