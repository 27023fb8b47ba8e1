//! Generation jobs (`video`, `midjourney`, `music`) against the fake server: submit once,
//! poll on the (scaled-down) schedule, download every result without the API key to
//! the CDN, and stop with a resume command on a time limit or Ctrl-C.

use std::fs;
use std::path::Path;

use tempfile::TempDir;

use crate::fake_server::{audio_bytes, image_bytes, video_bytes, Fault, API_KEY};
use crate::pty;
use crate::sandbox::{stderr_of, stdout_of, Sandbox};

/// A job command with the key, a fast poll schedule and `--out-dir` a fresh directory.
fn run(sandbox: &Sandbox, out: &TempDir, args: &[&str]) -> std::process::Output {
    sandbox
        .cmd_with_key()
        .env("COMETAPI_POLL_INTERVAL", "0.01")
        .args(args)
        .arg("--out-dir")
        .arg(out.path())
        .output()
        .expect("run")
}

/// The files in `dir`, sorted by name, with their bytes.
fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut found: Vec<(String, Vec<u8>)> = fs::read_dir(dir)
        .expect("read dir")
        .map(|entry| {
            let entry = entry.expect("entry");
            (
                entry.file_name().to_string_lossy().into_owned(),
                fs::read(entry.path()).expect("read"),
            )
        })
        .collect();
    found.sort();
    found
}

fn assert_no_key_went_to_the_cdn(sandbox: &Sandbox) {
    let hits = sandbox.server.cdn_requests();
    assert!(!hits.is_empty(), "the CDN was not asked");
    for hit in hits {
        assert_eq!(hit.header("authorization"), None, "{hit:?}");
    }
}

#[test]
fn a_sora_video_is_submitted_once_polled_and_downloaded_from_the_api() {
    let (sandbox, out) = (Sandbox::new(), tempfile::tempdir().expect("out"));
    let output = run(
        &sandbox,
        &out,
        &[
            "video",
            "create",
            "a cat surfing",
            "--seconds",
            "4",
            "--size",
            "720x1280",
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let submits = sandbox.server.requests_to("/v1/videos");
    assert_eq!(submits.len(), 1);
    let fields: Vec<(String, String)> = crate::fake_server::multipart_parts(&submits[0])
        .into_iter()
        .map(|p| (p.name, String::from_utf8_lossy(&p.data).into_owned()))
        .collect();
    for expected in [
        ("model", "sora-2"),
        ("prompt", "a cat surfing"),
        ("seconds", "4"),
        ("size", "720x1280"),
    ] {
        assert!(
            fields.contains(&(expected.0.into(), expected.1.into())),
            "{fields:?}"
        );
    }
    assert_eq!(
        sandbox
            .server
            .requests_to("/v1/videos/video_fake_0001")
            .len(),
        3,
        "three polls: queued, running, done"
    );
    let content = sandbox
        .server
        .requests_to("/v1/videos/video_fake_0001/content");
    assert_eq!(content.len(), 1);
    assert_eq!(
        content[0].header("authorization"),
        Some(format!("Bearer {API_KEY}").as_str()),
        "the API's own host gets the key"
    );
    assert_eq!(
        files(out.path()),
        vec![(
            "a-cat-surfing-video_fake_0001.mp4".to_string(),
            video_bytes("video_fake_0001")
        )]
    );
    let stdout = stdout_of(&output);
    assert!(
        stdout.contains("a-cat-surfing-video_fake_0001.mp4") && stdout.contains("65,536"),
        "{stdout}"
    );
    let stderr = stderr_of(&output);
    assert!(
        stderr.contains("job video_fake_0001: queued 0%") && stderr.contains("completed 100%"),
        "{stderr}"
    );
}

#[test]
fn a_kling_video_goes_to_kling_and_comes_from_the_cdn_without_the_key() {
    let (sandbox, out) = (Sandbox::new(), tempfile::tempdir().expect("out"));
    let args = [
        "video",
        "create",
        "waves",
        "-m",
        "kling-v2-master",
        "--mode",
        "pro",
        "--duration",
        "10",
        "--aspect-ratio",
        "9:16",
        "--negative-prompt",
        "boats",
    ];
    let output = run(&sandbox, &out, &args);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let submits = sandbox.server.requests_to("/kling/v1/videos/text2video");
    assert_eq!(submits.len(), 1);
    let body: serde_json::Value = serde_json::from_str(&submits[0].body).expect("json");
    assert_eq!(
        body,
        serde_json::json!({"prompt": "waves", "model_name": "kling-v2-master", "mode": "pro", "duration": "10", "aspect_ratio": "9:16", "negative_prompt": "boats"})
    );
    assert_eq!(
        files(out.path()),
        vec![("waves-kling0001.mp4".to_string(), video_bytes("kling0001"))]
    );
    assert_no_key_went_to_the_cdn(&sandbox);
}

#[test]
fn a_midjourney_grid_lists_its_buttons_and_an_action_makes_a_new_job() {
    let (sandbox, out) = (Sandbox::new(), tempfile::tempdir().expect("out"));
    let output = run(
        &sandbox,
        &out,
        &["mj", "imagine", "a red fox --ar 1:1", "--niji"],
    );
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let body: serde_json::Value =
        serde_json::from_str(&sandbox.server.requests_to("/mj/submit/imagine")[0].body)
            .expect("json");
    assert_eq!(
        body,
        serde_json::json!({"botType": "NIJI_JOURNEY", "prompt": "a red fox --ar 1:1"})
    );
    let grid = "a-red-fox-ar-1-1-170000000000001.png";
    assert_eq!(
        files(out.path()),
        vec![(grid.to_string(), image_bytes("png", 2048, 2048, 0))]
    );
    assert!(
        stdout_of(&output).contains("U1 V1 U2 V2 U3 V3 U4 V4 🔄"),
        "{output:?}"
    );
    assert_no_key_went_to_the_cdn(&sandbox);

    let output = run(&sandbox, &out, &["mj", "action", "170000000000001", "u2"]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let action: serde_json::Value =
        serde_json::from_str(&sandbox.server.requests_to("/mj/submit/action")[0].body)
            .expect("json");
    assert_eq!(
        action,
        serde_json::json!({"taskId": "170000000000001", "customId": "MJ::JOB::upsample::2::170000000000001"})
    );
    assert!(out
        .path()
        .join("a-red-fox-ar-1-1-170000000000002.png")
        .exists());

    let output = run(&sandbox, &out, &["mj", "action", "170000000000001", "U9"]);
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    assert!(
        stderr_of(&output).contains("its buttons are U1 V1 U2"),
        "{output:?}"
    );
    assert_eq!(
        sandbox.server.requests_to("/mj/submit/action").len(),
        1,
        "nothing sent for a bad label"
    );
}

#[test]
fn music_downloads_every_clip_and_with_images_their_covers() {
    let (sandbox, out) = (Sandbox::new(), tempfile::tempdir().expect("out"));
    let lyrics = out.path().join("lyrics.txt");
    fs::write(&lyrics, "la la la\n").expect("lyrics");
    let dir = tempfile::tempdir().expect("dir");
    let output = sandbox
        .cmd_with_key()
        .env("COMETAPI_POLL_INTERVAL", "0.01")
        .args(["music", "create", "--lyrics"])
        .arg(&lyrics)
        .args([
            "--tags",
            "synthwave",
            "--title",
            "Night Drive",
            "--instrumental",
            "--images",
            "--out-dir",
        ])
        .arg(dir.path())
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let body: serde_json::Value =
        serde_json::from_str(&sandbox.server.requests_to("/suno/submit/music")[0].body)
            .expect("json");
    assert_eq!(
        body,
        serde_json::json!({"prompt": "la la la\n", "tags": "synthwave", "title": "Night Drive", "make_instrumental": true, "mv": "chirp-v4"})
    );
    let names: Vec<String> = files(dir.path())
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    assert_eq!(
        names,
        [
            "night-drive-suno-0001-1.mp3",
            "night-drive-suno-0001-2.mp3",
            "night-drive-suno-0001-3.jpg",
            "night-drive-suno-0001-4.jpg"
        ]
    );
    assert_eq!(
        fs::read(dir.path().join(&names[0])).expect("clip"),
        audio_bytes("suno-0001 clip 1")
    );
}

#[test]
fn a_failed_job_is_exit_1_with_the_servers_reason() {
    let (sandbox, out) = (Sandbox::new(), tempfile::tempdir().expect("out"));
    sandbox
        .server
        .set_job_failure(Some("prompt rejected by moderation"));
    for args in [
        &["video", "create", "x"][..],
        &["video", "create", "x", "-m", "kling-v1"],
        &["mj", "imagine", "x"],
        &["music", "create", "--description", "x"],
    ] {
        let output = run(&sandbox, &out, args);
        assert_eq!(output.status.code(), Some(1), "{args:?}: {output:?}");
        assert!(
            stderr_of(&output).contains("failed: prompt rejected by moderation"),
            "{args:?}: {output:?}"
        );
    }
    assert!(files(out.path()).is_empty());
}

#[test]
fn a_modal_midjourney_job_says_what_to_do_instead_of_waiting() {
    let (sandbox, out) = (Sandbox::new(), tempfile::tempdir().expect("out"));
    sandbox.server.set_job_modal(true);
    let output = run(&sandbox, &out, &["mj", "imagine", "x"]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert!(
        stderr_of(&output).contains("needs an action: Midjourney asks for more input"),
        "{output:?}"
    );
}

#[test]
fn no_wait_then_wait_resumes_and_downloads() {
    let (sandbox, out) = (Sandbox::new(), tempfile::tempdir().expect("out"));
    let output = run(
        &sandbox,
        &out,
        &["video", "create", "slow clouds", "-m", "veo3", "--no-wait"],
    );
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert!(
        stdout_of(&output).contains("cometapi video wait video_fake_0001 --provider openai"),
        "{output:?}"
    );
    assert!(
        sandbox
            .server
            .requests_to("/v1/videos/video_fake_0001")
            .is_empty(),
        "no poll with --no-wait"
    );
    let output = run(&sandbox, &out, &["video", "wait", "video_fake_0001"]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert_eq!(
        files(out.path()),
        vec![(
            "slow-clouds-video_fake_0001.mp4".to_string(),
            video_bytes("video_fake_0001")
        )]
    );
}

#[test]
fn the_number_of_polls_follows_the_stages() {
    let (sandbox, out) = (Sandbox::new(), tempfile::tempdir().expect("out"));
    sandbox.server.set_job_polls_per_stage(3);
    let output = run(
        &sandbox,
        &out,
        &["music", "create", "--description", "rain"],
    );
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    // Done on fetch 2 × 3 + 1; the wait stops at once then.
    assert_eq!(sandbox.server.requests_to("/suno/fetch/suno-0001").len(), 7);
}

#[test]
fn waiting_on_many_uses_one_batch_request_per_round() {
    let (sandbox, out) = (Sandbox::new(), tempfile::tempdir().expect("out"));
    for prompt in ["one", "two"] {
        let output = run(&sandbox, &out, &["mj", "imagine", prompt, "--no-wait"]);
        assert_eq!(output.status.code(), Some(0), "{output:?}");
    }
    let output = run(
        &sandbox,
        &out,
        &["mj", "wait", "170000000000001", "170000000000002"],
    );
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert_eq!(
        sandbox
            .server
            .requests_to("/mj/task/list-by-condition")
            .len(),
        3
    );
    assert!(sandbox
        .server
        .requests_to("/mj/task/170000000000001/fetch")
        .is_empty());
    assert_eq!(files(out.path()).len(), 2);
}

#[test]
fn a_rate_limited_poll_does_not_end_the_wait() {
    let (sandbox, out) = (Sandbox::new(), tempfile::tempdir().expect("out"));
    let limited = Fault::RateLimited {
        retry_after_secs: None,
        retry_after_ms: Some(5),
    };
    sandbox.server.inject("/suno/fetch/suno-0001", limited, 4);
    let output = run(
        &sandbox,
        &out,
        &["music", "create", "--description", "rain"],
    );
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert_eq!(files(out.path()).len(), 2);
    assert!(
        stderr_of(&output).contains("poll failed, retrying"),
        "{output:?}"
    );
}

#[test]
fn a_time_limit_on_a_stuck_job_is_exit_124_with_the_resume_command() {
    let (sandbox, out) = (Sandbox::new(), tempfile::tempdir().expect("out"));
    sandbox.server.set_jobs_stuck(true);
    let output = run(
        &sandbox,
        &out,
        &["music", "create", "--description", "x", "--timeout", "3s"],
    );
    assert_eq!(output.status.code(), Some(124), "{output:?}");
    let stderr = stderr_of(&output);
    assert!(
        stderr.contains("gave up waiting after 3s: suno-0001 still QUEUED"),
        "{stderr}"
    );
    assert!(
        stderr.contains("cometapi music wait suno-0001 --provider suno"),
        "{stderr}"
    );
}

#[test]
fn a_cut_download_leaves_no_file_under_the_final_name() {
    let (sandbox, out) = (Sandbox::new(), tempfile::tempdir().expect("out"));
    sandbox.server.set_media_cut_after(1000);
    let output = run(&sandbox, &out, &["video", "create", "x", "-m", "kling-v1"]);
    assert_eq!(output.status.code(), Some(69), "{output:?}");
    assert!(files(out.path()).is_empty(), "{:?}", files(out.path()));
}

/// (Blank values are rows of `every_command.rs`.)
#[test]
fn bad_input_is_refused_before_any_request() {
    let (sandbox, out) = (Sandbox::new(), tempfile::tempdir().expect("out"));
    let long = "x".repeat(501);
    let missing = out.path().join("missing.txt");
    let missing = missing.to_str().expect("utf-8");
    for args in [
        &["video", "create", long.as_str(), "-m", "kling-v1"][..],
        &["video", "create", "x", "-m", "dall-e-3"],
        &["video", "create", "x", "--mode", "pro"],
        &["video", "create", "x", "--image", missing],
        &["video", "wait", "x", "--provider", "nobody"],
        &["music", "create", "--lyrics", missing],
        &["music", "create", "--description", "x", "--tags", "rock"],
        &["mj", "imagine", "x", "--image", missing],
    ] {
        let output = run(&sandbox, &out, args);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {output:?}");
    }
    // Read before the submit: a job is never made and then not waited for.
    for args in [
        &["music", "wait", "suno-0001"][..],
        &["mj", "imagine", "x"],
        &["video", "create", "x"],
    ] {
        let output = sandbox
            .cmd_with_key()
            .env("COMETAPI_POLL_INTERVAL", "soon")
            .args(args)
            .output()
            .expect("run");
        assert_eq!(output.status.code(), Some(2), "{args:?}: {output:?}");
        let stderr = stderr_of(&output);
        assert!(stderr.contains("COMETAPI_POLL_INTERVAL"), "{stderr}");
    }
    assert!(
        sandbox.server.requests().is_empty(),
        "{:?}",
        sandbox.server.requests()
    );
}

#[test]
fn an_unknown_job_is_said_plainly() {
    let (sandbox, out) = (Sandbox::new(), tempfile::tempdir().expect("out"));
    let output = run(&sandbox, &out, &["mj", "wait", "123"]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stderr = stderr_of(&output);
    assert!(stderr.contains("midjourney has no job 123"), "{stderr}");
    assert!(!stderr.contains("/v1"), "no base-URL hint: {stderr}");
}

#[test]
fn ctrl_c_while_waiting_prints_the_resume_command_and_exits_130() {
    let sandbox = Sandbox::new();
    sandbox.server.set_jobs_stuck(true);
    let out = tempfile::tempdir().expect("out");
    let out_dir = out.path().to_str().expect("utf-8");
    let mut session = pty::spawn(
        &sandbox,
        &["video", "create", "x", "--out-dir", out_dir],
        &[
            ("COMETAPI_KEY", API_KEY),
            ("COMETAPI_POLL_INTERVAL", "0.05"),
        ],
    );
    pty::expect(&mut session, "queued");
    session.send("\x03").expect("Ctrl-C");
    let seen = pty::strip_ansi(&pty::expect(&mut session, "--provider openai"));
    assert!(
        seen.contains("video_fake_0001 keeps running on the server"),
        "{seen:?}"
    );
    assert!(
        seen.contains("cometapi video wait video_fake_0001"),
        "{seen:?}"
    );
    assert_eq!(pty::exit_code(&session), 130);
}

#[test]
fn a_kling_job_from_an_image_is_image2video_and_is_found_again_by_id() {
    let (sandbox, out) = (Sandbox::new(), tempfile::tempdir().expect("out"));
    let image = out.path().join("first.png");
    fs::write(&image, image_bytes("png", 4, 4, 0)).expect("image");
    let image = image.to_str().expect("utf-8").to_string();
    let output = run(
        &sandbox,
        &out,
        &[
            "video",
            "create",
            "pan left",
            "-m",
            "kling-v1",
            "--image",
            &image,
            "--no-wait",
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let body: serde_json::Value =
        serde_json::from_str(&sandbox.server.requests_to("/kling/v1/videos/image2video")[0].body)
            .expect("json");
    use base64::Engine;
    let sent = base64::engine::general_purpose::STANDARD
        .decode(body["image"].as_str().expect("image"))
        .expect("base64");
    assert_eq!(sent, image_bytes("png", 4, 4, 0));

    // The id does not say which endpoint made it: text2video says 404, image2video knows it.
    let output = sandbox
        .cmd_with_key()
        .args(["video", "status", "kling0001", "--json"])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let status: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(
        status["task_id"], "kling0001",
        "the server's own reply: {status}"
    );
    assert_eq!(status["task_status"], "submitted");
    assert_eq!(
        sandbox
            .server
            .requests_to("/kling/v1/videos/text2video/kling0001")
            .len(),
        1
    );
}

#[test]
fn status_and_fetch_show_one_job_without_waiting() {
    let (sandbox, out) = (Sandbox::new(), tempfile::tempdir().expect("out"));
    for args in [
        &["mj", "imagine", "x", "--no-wait"][..],
        &["music", "create", "--description", "y", "--no-wait"],
    ] {
        assert_eq!(run(&sandbox, &out, args).status.code(), Some(0));
    }
    let output = sandbox
        .cmd_with_key()
        .args(["mj", "fetch", "170000000000001"])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let stdout = stdout_of(&output);
    assert!(
        stdout.contains("SUBMITTED") && stdout.contains("0%"),
        "{stdout}"
    );
    let output = sandbox
        .cmd_with_key()
        .args(["music", "fetch", "suno-0002", "-f", "yaml"])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert!(stdout_of(&output).contains("status: QUEUED"), "{output:?}");
    let output = run(&sandbox, &out, &["video", "download", "video_fake_0009"]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert!(
        stderr_of(&output).contains("openai has no job video_fake_0009"),
        "{output:?}"
    );
}

#[test]
fn an_expired_result_url_is_an_error_and_saves_nothing() {
    let (sandbox, out) = (Sandbox::new(), tempfile::tempdir().expect("out"));
    sandbox.server.set_cdn_status(403);
    let output = run(&sandbox, &out, &["mj", "imagine", "x"]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stderr = stderr_of(&output);
    assert!(
        stderr.contains("HTTP 403") && stderr.contains("may have expired"),
        "{stderr}"
    );
    assert!(files(out.path()).is_empty());
}

#[test]
fn an_out_dir_that_is_a_file_is_refused_before_the_submit() {
    let sandbox = Sandbox::new();
    let file = sandbox.home.path().join("taken");
    fs::write(&file, "mine").expect("file");
    let file = file.to_str().expect("utf-8");
    for args in [
        &["video", "create", "x"][..],
        &["music", "wait", "suno-0001"],
    ] {
        let output = sandbox
            .cmd_with_key()
            .args(args)
            .args(["--out-dir", file])
            .output()
            .expect("run");
        assert_eq!(output.status.code(), Some(2), "{args:?}: {output:?}");
        assert!(
            stderr_of(&output).contains("exists and is not a directory"),
            "{output:?}"
        );
    }
    assert!(sandbox.server.requests().is_empty(), "nothing submitted");
    assert_eq!(fs::read_to_string(file).expect("file"), "mine");
}
