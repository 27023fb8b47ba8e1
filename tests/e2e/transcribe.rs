//! `transcribe`: the multipart fields and file bytes the server received, every
//! response format, `-o`/`--force`, the 25 MB and extension limits before any upload,
//! and the retry rules of a request that must not be processed twice.

use std::fs;
use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;

use crate::fake_server::media_audio::{form_text, heard};
use crate::fake_server::{multipart_parts, Fault, Recorded, API_KEY};
use crate::sandbox::{stderr_of, stdout_of, Sandbox};

const PATH: &str = "/v1/audio/transcriptions";

/// An "audio" file of `len` bytes that are not UTF-8, so a lossy copy would show.
fn audio(sandbox: &Sandbox, name: &str, len: usize) -> (PathBuf, Vec<u8>) {
    let bytes: Vec<u8> = (0..len).map(|i| (i % 251) as u8 | 0x80).collect();
    let path = sandbox.home.path().join(name);
    fs::write(&path, &bytes).expect("write audio");
    (path, bytes)
}

fn transcribe(sandbox: &Sandbox, args: &[&str]) -> std::process::Output {
    sandbox
        .cmd_with_key()
        .arg("transcribe")
        .args(args)
        .output()
        .expect("run")
}

fn only_request(sandbox: &Sandbox) -> Recorded {
    let requests = sandbox.server.requests();
    assert_eq!(requests.len(), 1, "{requests:?}");
    requests[0].clone()
}

#[test]
fn the_file_and_every_option_arrive_as_multipart_fields() {
    let sandbox = Sandbox::new();
    let (path, bytes) = audio(&sandbox, "clip.mp3", 300_000);
    let file = path.to_str().expect("utf-8 path");
    let output = transcribe(
        &sandbox,
        &[
            file,
            "-m",
            "whisper-1",
            "--language",
            "de",
            "-p",
            "Names: Ada",
            "-t",
            "0.2",
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert_eq!(
        stdout_of(&output),
        format!("{}\n", heard("clip.mp3", bytes.len(), "transcribe"))
    );
    let request = only_request(&sandbox);
    assert_eq!(request.path, PATH);
    assert_eq!(
        request.header("authorization"),
        Some(&*format!("Bearer {API_KEY}"))
    );
    assert_eq!(
        request.header("content-length"),
        Some(&*request.body_bytes.len().to_string()),
        "the streamed file's length is declared"
    );
    let parts = multipart_parts(&request);
    let names: Vec<&str> = parts.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "file",
            "model",
            "language",
            "prompt",
            "temperature",
            "response_format"
        ]
    );
    let file_part = &parts[0];
    assert_eq!(file_part.filename.as_deref(), Some("clip.mp3"));
    assert_eq!(file_part.content_type.as_deref(), Some("audio/mpeg"));
    assert!(
        file_part.data == bytes,
        "the file's bytes arrived unchanged"
    );
    for (name, value) in [
        ("model", "whisper-1"),
        ("language", "de"),
        ("prompt", "Names: Ada"),
        ("temperature", "0.2"),
        ("response_format", "text"),
    ] {
        assert_eq!(form_text(&request, name).as_deref(), Some(value), "{name}");
    }
}

#[test]
fn translate_posts_to_translations_and_refuses_a_language() {
    let sandbox = Sandbox::new();
    let (path, bytes) = audio(&sandbox, "talk.WAV", 1000);
    let file = path.to_str().expect("utf-8 path");
    let output = transcribe(&sandbox, &[file, "--translate"]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert_eq!(
        stdout_of(&output),
        format!("{}\n", heard("talk.WAV", bytes.len(), "translate"))
    );
    let request = only_request(&sandbox);
    assert_eq!(request.path, "/v1/audio/translations");
    assert_eq!(form_text(&request, "model").as_deref(), Some("whisper-1"));
    assert_eq!(form_text(&request, "language"), None);

    let output = transcribe(&sandbox, &[file, "--translate", "--language", "de"]);
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    assert_eq!(sandbox.server.requests().len(), 1, "nothing more was sent");
}

#[test]
fn every_response_format_is_shown_as_the_server_wrote_it() {
    let sandbox = Sandbox::new();
    let (path, bytes) = audio(&sandbox, "clip.ogg", 64);
    let file = path.to_str().expect("utf-8 path");
    let said = heard("clip.ogg", bytes.len(), "transcribe");
    for format in ["text", "json", "srt", "vtt", "verbose_json"] {
        let output = transcribe(&sandbox, &[file, "--response-format", format]);
        assert_eq!(output.status.code(), Some(0), "{format}: {output:?}");
        let stdout = stdout_of(&output);
        match format {
            "text" => assert_eq!(stdout, format!("{said}\n")),
            "srt" => assert_eq!(
                stdout,
                format!("1\n00:00:00,000 --> 00:00:01,500\n{said}\n")
            ),
            "vtt" => assert!(
                stdout.starts_with("WEBVTT\n\n00:00:00.000 --> "),
                "{stdout}"
            ),
            _ => {
                let value: Value = serde_json::from_str(&stdout).expect("json");
                assert_eq!(value["text"], said.as_str());
                assert_eq!(value.get("segments").is_some(), format == "verbose_json");
            }
        }
        let sent = sandbox.server.requests().pop().expect("request");
        assert_eq!(form_text(&sent, "response_format").as_deref(), Some(format));
    }
}

#[test]
fn json_output_asks_for_json_and_wraps_text_formats() {
    let sandbox = Sandbox::new();
    let (path, bytes) = audio(&sandbox, "clip.m4a", 10);
    let file = path.to_str().expect("utf-8 path");
    let said = heard("clip.m4a", bytes.len(), "transcribe");
    let output = transcribe(&sandbox, &[file, "--json"]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let value: Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(value["text"], said.as_str());
    let request = only_request(&sandbox);
    assert_eq!(
        form_text(&request, "response_format").as_deref(),
        Some("json")
    );

    let output = transcribe(&sandbox, &[file, "--json", "--response-format", "srt"]);
    let value: Value = serde_json::from_slice(&output.stdout).expect("json");
    assert!(
        value["text"].as_str().is_some_and(|t| t.contains("-->")),
        "{value}"
    );
}

#[test]
fn output_file_gets_the_reply_and_is_kept_without_force() {
    let sandbox = Sandbox::new();
    let (path, bytes) = audio(&sandbox, "clip.webm", 5);
    let file = path.to_str().expect("utf-8 path");
    let out = sandbox.home.path().join("clip.srt");
    let out_arg = out.to_str().expect("utf-8 path");
    let output = transcribe(
        &sandbox,
        &[file, "--response-format", "srt", "-o", out_arg, "--json"],
    );
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let expected = format!(
        "1\n00:00:00,000 --> 00:00:01,500\n{}\n\n",
        heard("clip.webm", bytes.len(), "transcribe")
    );
    assert_eq!(fs::read_to_string(&out).expect("saved"), expected);
    let record: Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(record["path"], out_arg);
    assert_eq!(record["bytes"], expected.len());

    fs::write(&out, "keep me").expect("write");
    let output = transcribe(&sandbox, &[file, "-o", out_arg]);
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    assert!(stderr_of(&output).contains("--force"), "{output:?}");
    assert_eq!(fs::read_to_string(&out).expect("kept"), "keep me");
    assert_eq!(
        sandbox.server.requests().len(),
        1,
        "refused before uploading"
    );

    let output = transcribe(&sandbox, &[file, "-o", out_arg, "--force"]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert!(fs::read_to_string(&out)
        .expect("replaced")
        .starts_with("Transcribed"));
}

#[test]
fn a_file_over_25_mb_is_refused_before_any_upload() {
    let sandbox = Sandbox::new();
    let path = sandbox.home.path().join("long.wav");
    let file = fs::File::create(&path).expect("create");
    file.set_len((25 << 20) + 1).expect("sparse 25 MB + 1 byte");
    let output = transcribe(&sandbox, &[path.to_str().expect("utf-8 path")]);
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    assert!(stderr_of(&output).contains("over 25 MB"), "{output:?}");
    assert!(sandbox.server.requests().is_empty());
}

#[test]
fn unknown_missing_and_unreadable_files_are_refused_before_any_upload() {
    let sandbox = Sandbox::new();
    let (text, _) = audio(&sandbox, "notes.txt", 10);
    let dir = sandbox.home.path().join("folder.mp3");
    fs::create_dir(&dir).expect("mkdir");
    let missing = sandbox.home.path().join("gone.mp3");
    for (path, said) in [
        (&text, "extension .txt is not supported"),
        (&dir, "a directory"),
        (&missing, "cannot read audio file"),
    ] {
        let output = transcribe(&sandbox, &[path.to_str().expect("utf-8 path")]);
        assert_eq!(output.status.code(), Some(2), "{output:?}");
        assert!(stderr_of(&output).contains(said), "{said}: {output:?}");
    }
    let output = transcribe(&sandbox, &[text.to_str().expect("utf-8 path")]);
    assert!(stderr_of(&output).contains("flac, mp3, mp4"), "{output:?}");
    assert!(sandbox.server.requests().is_empty());
}

/// (Blank values are rows of `every_command.rs`.)
#[test]
fn bad_options_are_refused_before_any_upload() {
    let sandbox = Sandbox::new();
    let (path, _) = audio(&sandbox, "clip.mp3", 10);
    let file = path.to_str().expect("utf-8 path");
    for args in [
        &[file, "-t", "1.5"][..],
        &[file, "-t", "warm"][..],
        &[file, "--response-format", "docx"][..],
        &[file, "--force"][..],
        &[][..],
    ] {
        let output = transcribe(&sandbox, args);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {output:?}");
    }
    assert!(sandbox.server.requests().is_empty());
}

#[test]
fn a_rate_limited_upload_is_sent_again_whole() {
    let sandbox = Sandbox::new();
    let (path, bytes) = audio(&sandbox, "clip.flac", 50_000);
    let limited = Fault::RateLimited {
        retry_after_secs: None,
        retry_after_ms: Some(10),
    };
    sandbox.server.inject(PATH, limited, 1);
    let output = transcribe(&sandbox, &[path.to_str().expect("utf-8 path")]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let requests = sandbox.server.requests_to(PATH);
    assert_eq!(requests.len(), 2);
    for request in requests {
        assert!(
            multipart_parts(&request)[0].data == bytes,
            "each attempt sends the whole file"
        );
    }
}

#[test]
fn a_request_the_server_may_have_processed_is_not_sent_again() {
    let sandbox = Sandbox::new();
    let (path, bytes) = audio(&sandbox, "clip.mp3", 20_000);
    let file = path.to_str().expect("utf-8 path");
    sandbox.server.inject(PATH, Fault::ServerError, 1);
    let output = transcribe(&sandbox, &[file]);
    assert_eq!(output.status.code(), Some(69), "{output:?}");
    assert_eq!(sandbox.server.requests().len(), 1, "a 500 is not retried");

    sandbox
        .server
        .inject(PATH, Fault::CutReply(r#"{"text":"Transcr"#.into()), 1);
    let output = transcribe(&sandbox, &[file, "--response-format", "json"]);
    assert_ne!(output.status.code(), Some(0), "{output:?}");
    let requests = sandbox.server.requests();
    assert_eq!(requests.len(), 2, "a reply cut mid-body is not retried");
    assert!(
        multipart_parts(&requests[1])[0].data == bytes,
        "the server had the whole file"
    );
    assert!(stdout_of(&output).is_empty(), "{output:?}");
}

#[test]
fn a_slow_reply_past_the_time_limit_is_not_sent_again() {
    let sandbox = Sandbox::new();
    let (path, _) = audio(&sandbox, "clip.mp3", 10);
    sandbox
        .server
        .inject(PATH, Fault::Slow(Duration::from_secs(3)), 1);
    let output = transcribe(
        &sandbox,
        &[path.to_str().expect("utf-8 path"), "--timeout", "1s"],
    );
    assert_eq!(output.status.code(), Some(69), "{output:?}");
    assert!(stderr_of(&output).contains("did not answer"), "{output:?}");
    assert_eq!(sandbox.server.requests().len(), 1);
}

#[test]
fn an_error_in_a_200_or_a_reply_that_is_not_json_fails() {
    let sandbox = Sandbox::new();
    let (path, _) = audio(&sandbox, "clip.mp3", 10);
    let file = path.to_str().expect("utf-8 path");
    let reply = |body: &str| Fault::Custom {
        status: 200,
        content_type: "application/json",
        headers: Vec::new(),
        body: body.to_string(),
    };
    sandbox.server.inject(
        PATH,
        reply(r#"{"error":{"message":"audio too short","type":"invalid_request_error"}}"#),
        1,
    );
    let output = transcribe(&sandbox, &[file]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert!(stderr_of(&output).contains("audio too short"), "{output:?}");

    sandbox.server.inject(PATH, reply(r#"{"text": "cut"#), 1);
    let output = transcribe(&sandbox, &[file, "--response-format", "verbose_json"]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert!(stderr_of(&output).contains("not JSON"), "{output:?}");
    assert!(stdout_of(&output).is_empty());
}

#[test]
fn a_body_trace_names_the_fields_not_the_file_bytes() {
    let sandbox = Sandbox::new();
    let (path, _) = audio(&sandbox, "clip.mp3", 4096);
    let file = path.to_str().expect("utf-8 path");
    let output = transcribe(
        &sandbox,
        &[file, "-vv", "-p", "key sk-abcdefghijklmnopqrstuvwx"],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    let trace = stderr_of(&output);
    assert!(
        trace.contains(&format!("> file: @{file} (4096 bytes)")),
        "{trace}"
    );
    assert!(trace.contains("> model: whisper-1"), "{trace}");
    assert!(
        trace.contains("> prompt: key ****uvwx"),
        "secrets redacted: {trace}"
    );
    assert!(
        !trace.contains('\u{fffd}'),
        "no file bytes in the trace: {trace}"
    );
}
