//! `-a/--attach` on `chat` and `run`, and `/attach` in the chat REPL: each image type in
//! each wire format's shape, image URLs, text files inlined, PDFs, stdin, and bad
//! attachments refused (exit 2 naming the path) before any request.

use std::fs;
use std::path::{Path, PathBuf};

use base64::Engine;
use serde_json::{json, Value};

use crate::fake_server::API_KEY;
use crate::pty::{spawn, Screen};
use crate::sandbox::{stderr_of, stdout_of, Sandbox};

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\0";
const JPEG: &[u8] = b"\xff\xd8\xff\xe0\0\x10JFIF\0\x01\x01\0\0\x01\0\x01\0\0\xff\xd9";
const WEBP: &[u8] = b"RIFF\x1a\0\0\0WEBPVP8L\x0d\0\0\0\x2f\0\0\0\0\0\0\0\0";
const GIF: &[u8] = b"GIF89a\x01\0\x01\0\0\0\0;";
const PDF: &[u8] = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n";

fn write(sandbox: &Sandbox, name: &str, bytes: &[u8]) -> PathBuf {
    let path = sandbox.home.path().join(name);
    fs::write(&path, bytes).expect("write attachment");
    path
}

fn base64_of(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn run_with(sandbox: &Sandbox, args: &[&str]) -> std::process::Output {
    sandbox
        .cmd_with_key()
        .args(args)
        .write_stdin("")
        .output()
        .expect("run")
}

/// The body of the last request the server received.
fn last_body(sandbox: &Sandbox) -> Value {
    let requests = sandbox.server.requests();
    let last = requests.last().expect("a request");
    serde_json::from_str(&last.body).expect("json body")
}

/// What each format's body must hold for an image of `mime` with bytes `data`.
fn expected_part(format: &str, mime: &str, data: &str) -> (&'static str, Value) {
    let data_url = format!("data:{mime};base64,{data}");
    match format {
        "chat" => (
            "/messages/0/content/1",
            json!({"type": "image_url", "image_url": {"url": data_url}}),
        ),
        "responses" => (
            "/input/0/content/1",
            json!({"type": "input_image", "image_url": data_url}),
        ),
        "anthropic" => (
            "/messages/0/content/0",
            json!({"type": "image", "source": {"type": "base64", "media_type": mime, "data": data}}),
        ),
        _ => (
            "/contents/0/parts/0",
            json!({"inline_data": {"mime_type": mime, "data": data}}),
        ),
    }
}

#[test]
fn each_image_type_is_encoded_for_each_wire_format() {
    let sandbox = Sandbox::new();
    let images = [
        ("a.png", PNG, "image/png"),
        ("b.jpg", JPEG, "image/jpeg"),
        ("c.webp", WEBP, "image/webp"),
        // No extension: the bytes decide.
        ("d", GIF, "image/gif"),
    ];
    for (name, bytes, mime) in images {
        let path = write(&sandbox, name, bytes);
        let path = path.to_str().expect("utf-8 path");
        for format in ["chat", "responses", "anthropic", "gemini"] {
            let output = run_with(
                &sandbox,
                &["run", "gpt-5.4", "-e", format, "-a", path, "-p", "describe"],
            );
            assert_eq!(output.status.code(), Some(0), "{format} {name}: {output:?}");
            assert_eq!(stdout_of(&output), "echo: describe\n", "{format} {name}");
            let body = last_body(&sandbox);
            let (pointer, part) = expected_part(format, mime, &base64_of(bytes));
            assert_eq!(
                body.pointer(pointer),
                Some(&part),
                "{format} {name}: {body}"
            );
        }
    }
    // `chat` sends the OpenAI chat shape, the text first.
    let path = write(&sandbox, "e.png", PNG);
    let output = run_with(
        &sandbox,
        &["chat", "-a", path.to_str().expect("path"), "what is it"],
    );
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert_eq!(stdout_of(&output), "echo: what is it\n");
    let body = last_body(&sandbox);
    assert_eq!(
        body.pointer("/messages/0/content/0"),
        Some(&json!({"type": "text", "text": "what is it"}))
    );
    let (pointer, part) = expected_part("chat", "image/png", &base64_of(PNG));
    assert_eq!(body.pointer(pointer), Some(&part), "{body}");
}

#[test]
fn an_image_url_is_sent_as_a_url_and_never_fetched() {
    let sandbox = Sandbox::new();
    let url = "https://images.example/cat.png";
    let cases = [
        (
            "chat",
            "/messages/0/content/1",
            json!({"type": "image_url", "image_url": {"url": url}}),
        ),
        (
            "responses",
            "/input/0/content/1",
            json!({"type": "input_image", "image_url": url}),
        ),
        (
            "anthropic",
            "/messages/0/content/0",
            json!({"type": "image", "source": {"type": "url", "url": url}}),
        ),
        (
            "gemini",
            "/contents/0/parts/0",
            json!({"file_data": {"mime_type": "image/png", "file_uri": url}}),
        ),
    ];
    for (format, pointer, part) in cases {
        let output = run_with(
            &sandbox,
            &["run", "m", "-e", format, "-a", url, "-p", "look"],
        );
        assert_eq!(output.status.code(), Some(0), "{format}: {output:?}");
        assert_eq!(
            last_body(&sandbox).pointer(pointer),
            Some(&part),
            "{format}"
        );
    }
    assert_eq!(
        sandbox.server.requests().len(),
        4,
        "only the four requests to the API"
    );
}

#[test]
fn a_text_file_is_inlined_as_a_fenced_block_headed_by_its_name() {
    let sandbox = Sandbox::new();
    let path = write(&sandbox, "notes.md", "# Todo\n```sh\nls\n```\n".as_bytes());
    let shown = path.to_str().expect("path");
    let output = run_with(&sandbox, &["chat", "-a", shown, "summarise"]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let expected = format!("summarise\n\n{shown}:\n````md\n# Todo\n```sh\nls\n```\n````");
    assert_eq!(
        last_body(&sandbox)["messages"][0]["content"],
        json!(expected),
        "a plain string: no image, no parts"
    );
    assert_eq!(stdout_of(&output), format!("echo: {expected}\n"));
}

#[test]
fn a_pdf_goes_where_documents_are_taken_and_is_refused_by_chat() {
    let sandbox = Sandbox::new();
    let path = write(&sandbox, "report.pdf", PDF);
    let path = path.to_str().expect("path");
    let data = base64_of(PDF);
    let cases = [
        (
            "responses",
            "/input/0/content/1",
            json!({"type": "input_file", "filename": "report.pdf", "file_data": format!("data:application/pdf;base64,{data}")}),
        ),
        (
            "anthropic",
            "/messages/0/content/0",
            json!({"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": data}}),
        ),
        (
            "gemini",
            "/contents/0/parts/0",
            json!({"inline_data": {"mime_type": "application/pdf", "data": data}}),
        ),
    ];
    for (format, pointer, part) in cases {
        let output = run_with(
            &sandbox,
            &["run", "m", "-e", format, "-a", path, "-p", "sum up"],
        );
        assert_eq!(output.status.code(), Some(0), "{format}: {output:?}");
        assert_eq!(
            last_body(&sandbox).pointer(pointer),
            Some(&part),
            "{format}"
        );
    }
    let before = sandbox.server.requests().len();
    for args in [
        vec!["chat", "-a", path, "sum up"],
        vec!["run", "m", "-a", path, "-p", "x"],
    ] {
        let output = run_with(&sandbox, &args);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {output:?}");
        let stderr = stderr_of(&output);
        assert!(stderr.contains("report.pdf is a PDF"), "{stderr}");
        assert!(stderr.contains("-e responses|anthropic|gemini"), "{stderr}");
    }
    assert_eq!(
        sandbox.server.requests().len(),
        before,
        "no request for a refused PDF"
    );
}

/// A file of `size` bytes that starts with `head` (sparse: nothing is written past it).
fn sized(sandbox: &Sandbox, name: &str, head: &[u8], size: u64) -> PathBuf {
    let path = write(sandbox, name, head);
    let file = fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .expect("open");
    file.set_len(size).expect("grow");
    path
}

fn assert_refused(sandbox: &Sandbox, path: &Path, says: &str) {
    let shown = path.to_str().expect("path");
    for args in [
        vec!["chat", "-a", shown, "hi"],
        vec!["run", "m", "-e", "gemini", "-a", shown, "-p", "hi"],
    ] {
        let output = run_with(sandbox, &args);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {output:?}");
        let stderr = stderr_of(&output);
        assert!(stderr.contains(shown), "names the path: {stderr}");
        assert!(stderr.contains(says), "{says:?} in {stderr}");
    }
    assert!(
        sandbox.server.requests().is_empty(),
        "{:?}",
        sandbox.server.requests()
    );
}

#[test]
fn bad_attachments_exit_2_naming_the_path_before_any_request() {
    let sandbox = Sandbox::new();
    let home = sandbox.home.path();
    assert_refused(&sandbox, &home.join("missing.png"), "cannot read");
    assert_refused(&sandbox, home, "is a directory");
    let zip = write(&sandbox, "archive.zip", b"PK\x03\x04\x14\0\0\0\x08\0");
    assert_refused(&sandbox, &zip, "application/zip");
    let blob = write(&sandbox, "blob.bin", &[0, 0xff, 0xfe, 0x80, 1, 2]);
    assert_refused(&sandbox, &blob, "unknown type");
    let big_png = sized(&sandbox, "big.png", PNG, (10 << 20) + 1);
    assert_refused(&sandbox, &big_png, "the limit is 10485760 bytes (10 MiB)");
    let huge = sized(&sandbox, "huge.pdf", PDF, (20 << 20) + 1);
    assert_refused(&sandbox, &huge, "the limit is 20971520 bytes (20 MiB)");
    let big_text = write(&sandbox, "big.txt", &vec![b'a'; (1 << 20) + 1]);
    assert_refused(&sandbox, &big_text, "bytes; the limit is 1048576 bytes");
    #[cfg(unix)]
    {
        let fifo = home.join("pipe");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .expect("mkfifo");
        assert!(made.success());
        assert_refused(&sandbox, &fifo, "not a regular file");
    }
}

#[test]
fn stdin_is_one_attachment_and_the_message_is_then_an_argument() {
    let sandbox = Sandbox::new();
    let run = |args: &[&str], stdin: &[u8]| {
        sandbox
            .cmd_with_key()
            .args(args)
            .write_stdin(stdin.to_vec())
            .output()
            .expect("run")
    };
    let output = run(&["chat", "-a", "-", "what is this"], PNG);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert_eq!(
        stdout_of(&output),
        "echo: what is this\n",
        "stdin is not added to the message"
    );
    let (pointer, part) = expected_part("chat", "image/png", &base64_of(PNG));
    assert_eq!(last_body(&sandbox).pointer(pointer), Some(&part));
    let sent = sandbox.server.requests().len();
    for args in [
        vec!["chat", "-a", "-"],
        vec!["chat", "-a", "-", "-"],
        vec!["chat", "-a", "-", "-a", "-", "hi"],
        vec!["run", "m", "-a", "-", "-p", "-"],
        vec!["run", "m", "-a", "-"],
    ] {
        let output = run(&args, PNG);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {output:?}");
        assert!(
            stderr_of(&output).contains("stdin") || stderr_of(&output).contains("prompt"),
            "{args:?}: {output:?}"
        );
    }
    assert_eq!(sandbox.server.requests().len(), sent);
}

#[cfg(unix)]
#[test]
fn the_repl_sends_an_attachment_with_the_next_message_only() {
    let sandbox = Sandbox::new();
    let image = write(&sandbox, "shot.png", PNG);
    let notes = write(&sandbox, "n.txt", b"remember me\n");
    let mut screen = Screen::new(spawn(&sandbox, &["chat"], &[("COMETAPI_KEY", API_KEY)]));
    let prompt = "gpt-5.4> ";
    screen.wait_for(prompt);
    screen.send("/attach ~/nope.png\r");
    screen.wait_for("nope.png");
    screen.wait_for(prompt);
    screen.send(&format!("/attach {}\r", image.display()));
    screen.wait_for("goes with the next message");
    screen.wait_for(prompt);
    screen.send(&format!("/attach {}\r", notes.display()));
    screen.wait_for("goes with the next message");
    screen.wait_for(prompt);
    screen.send("look\r");
    screen.wait_for("echo: look");
    screen.wait_for(prompt);
    screen.send("again\r");
    screen.wait_for("echo: again");
    screen.wait_for(prompt);
    screen.send("/exit\r");
    assert_eq!(screen.exit_code(), 0);

    let bodies: Vec<Value> = sandbox
        .server
        .requests_to("/v1/chat/completions")
        .iter()
        .map(|r| serde_json::from_str(&r.body).expect("json"))
        .collect();
    assert_eq!(bodies.len(), 2, "the missing file sent nothing");
    let inlined = format!("look\n\n{}:\n```txt\nremember me\n```", notes.display());
    assert_eq!(
        bodies[0]["messages"][0]["content"][0]["text"],
        json!(inlined)
    );
    let (pointer, part) = expected_part("chat", "image/png", &base64_of(PNG));
    assert_eq!(bodies[0].pointer(pointer), Some(&part));
    // The next turn keeps the text file in the history; the image went once.
    assert_eq!(bodies[1]["messages"][0]["content"], json!(inlined));
    assert_eq!(bodies[1]["messages"][2]["content"], json!("again"));
}
