//! `image` and `image edit`: files with the right bytes and names, b64 and URL
//! replies, no credential to the CDN, no overwrite without `--force`, and no file left
//! by a cut download. Credentials, no retry of a create and blank arguments are rows of
//! `every_command.rs`.

use std::fs;
use std::path::Path;

use serde_json::Value;

use crate::fake_server::{image_bytes, multipart_parts, Fault};
use crate::sandbox::{stderr_of, stdout_of, Sandbox};

const GENERATIONS: &str = "/v1/images/generations";
const EDITS: &str = "/v1/images/edits";

fn run(sandbox: &Sandbox, args: &[&str]) -> std::process::Output {
    sandbox
        .cmd_with_key()
        .current_dir(sandbox.home.path())
        .args(args)
        .output()
        .expect("run")
}

/// The files in `dir` (dot files included: temporary files must not be left).
fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n != ".config" && n != ".cache")
        .collect();
    names.sort();
    names
}

fn only_body(sandbox: &Sandbox) -> Value {
    let requests = sandbox.server.requests_to(GENERATIONS);
    assert_eq!(requests.len(), 1, "one request");
    serde_json::from_str(&requests[0].body).expect("JSON body")
}

/// `<slug>-YYYYMMDDTHHMMSSZ<rest>`: the default name's shape.
fn assert_default_name(name: &str, slug: &str, rest: &str) {
    let stamp = name
        .strip_prefix(&format!("{slug}-"))
        .and_then(|n| n.strip_suffix(rest))
        .unwrap_or_else(|| panic!("{name} is not {slug}-<stamp>{rest}"));
    assert_eq!(stamp.len(), 16, "{name}");
    assert!(
        stamp.ends_with('Z') && stamp.as_bytes()[8] == b'T',
        "{name}"
    );
}

#[test]
fn a_b64_image_is_saved_under_the_prompt_time_and_type_of_its_bytes() {
    let sandbox = Sandbox::new();
    let output = run(
        &sandbox,
        &[
            "image",
            "A red fox, in snow!",
            "--output-format",
            "jpeg",
            "--size",
            "1536x1024",
            "--quality",
            "high",
            "--background",
            "opaque",
            "--json",
        ],
    );
    assert!(output.status.success(), "{output:?}");
    let files = names(sandbox.home.path());
    assert_eq!(files.len(), 1, "{files:?}");
    assert_default_name(&files[0], "a-red-fox-in-snow", ".jpg");
    let bytes = fs::read(sandbox.home.path().join(&files[0])).expect("file");
    assert_eq!(bytes, image_bytes("jpeg", 1536, 1024, 0));

    let record: Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(record["path"], files[0].as_str());
    assert_eq!(record["bytes"], bytes.len());
    assert_eq!(record["dimensions"]["width"], 1536);
    assert_eq!(record["dimensions"]["height"], 1024);
    assert_eq!(record["type"], "image/jpeg");
    assert!(!stdout_of(&output).contains("b64"), "no base64 in --json");
    assert!(stdout_of(&output).len() < 400, "{}", stdout_of(&output));

    let body = only_body(&sandbox);
    assert_eq!(body["model"], "gpt-image-1");
    assert_eq!(body["prompt"], "A red fox, in snow!");
    assert_eq!(body["size"], "1536x1024");
    assert_eq!(body["quality"], "high");
    assert_eq!(body["background"], "opaque");
    assert_eq!(body["output_format"], "jpeg");
    assert!(body.get("n").is_none(), "{body}");
}

#[test]
fn the_extension_follows_the_bytes_not_the_request() {
    let sandbox = Sandbox::new();
    sandbox.server.set_png_always(true);
    let output = run(&sandbox, &["image", "fox", "--output-format", "webp"]);
    assert!(output.status.success(), "{output:?}");
    let files = names(sandbox.home.path());
    assert_default_name(&files[0], "fox", ".png");
    assert!(stdout_of(&output).contains("1024x1024"), "{output:?}");
}

#[test]
fn several_images_are_numbered_in_a_directory() {
    let sandbox = Sandbox::new();
    let output = run(&sandbox, &["image", "three cats", "-n", "3", "-o", "out"]);
    assert!(output.status.success(), "{output:?}");
    let dir = sandbox.home.path().join("out");
    let files = names(&dir);
    assert_eq!(files.len(), 3, "{files:?}");
    for (i, name) in files.iter().enumerate() {
        assert_default_name(name, "three-cats", &format!("-{}.png", i + 1));
        assert_eq!(
            fs::read(dir.join(name)).expect("file"),
            image_bytes("png", 1024, 1024, i)
        );
        assert!(stdout_of(&output).contains(name.as_str()), "{output:?}");
    }
    assert_eq!(only_body(&sandbox)["n"], 3);
}

#[test]
fn a_url_is_downloaded_without_the_api_key_from_another_host() {
    let sandbox = Sandbox::new();
    let output = run(
        &sandbox,
        &[
            "image",
            "a lighthouse",
            "-m",
            "dall-e-3",
            "-o",
            "light.png",
            "--json",
        ],
    );
    assert!(output.status.success(), "{output:?}");
    let file = sandbox.home.path().join("light.png");
    assert_eq!(
        fs::read(file).expect("file"),
        image_bytes("png", 1024, 1024, 0)
    );
    let record: Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(
        record["revised_prompt"],
        "A vivid rendering of: a lighthouse"
    );
    let api = sandbox.server.requests_to(GENERATIONS);
    assert!(
        api[0].header("authorization").is_some(),
        "the API gets the key"
    );
    let cdn = sandbox.server.cdn_requests();
    assert_eq!(cdn.len(), 1, "{cdn:?}");
    assert_eq!(cdn[0].query, "sig=abc", "the URL is used as given");
    assert!(
        cdn[0].header("authorization").is_none(),
        "no Authorization to the other host: {:?}",
        cdn[0].headers
    );
}

#[test]
fn a_url_may_redirect_to_another_host_and_still_gets_no_key() {
    let sandbox = Sandbox::new();
    sandbox.server.set_cdn_redirect(true);
    let output = run(
        &sandbox,
        &["image", "moved", "-m", "dall-e-2", "-o", "moved.png"],
    );
    assert!(output.status.success(), "{output:?}");
    let file = sandbox.home.path().join("moved.png");
    assert_eq!(
        fs::read(file).expect("file"),
        image_bytes("png", 1024, 1024, 0)
    );
    let cdn = sandbox.server.cdn_requests();
    let paths: Vec<&str> = cdn.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(paths, ["/moved/img-1.png", "/files/img-1.png"]);
    assert!(
        cdn.iter().all(|r| r.header("authorization").is_none()),
        "{cdn:?}"
    );
}

#[test]
fn a_url_on_the_api_origin_gets_the_key() {
    let sandbox = Sandbox::new();
    let url = format!("{}/mj/image/42", sandbox.server.root_url());
    let fault = Fault::Custom {
        status: 200,
        content_type: "application/json",
        headers: Vec::new(),
        body: serde_json::json!({"data": [{"url": url}]}).to_string(),
    };
    sandbox.server.inject(GENERATIONS, fault, 1);
    let output = run(&sandbox, &["image", "own host"]);
    assert_eq!(
        output.status.code(),
        Some(1),
        "the fake has no such file: {output:?}"
    );
    let fetched = sandbox.server.requests_to("/mj/image/42");
    assert_eq!(fetched.len(), 1);
    assert_eq!(
        fetched[0].header("authorization"),
        Some(format!("Bearer {}", crate::fake_server::API_KEY).as_str())
    );
}

#[test]
fn a_url_that_404s_is_an_error_and_leaves_no_file() {
    let sandbox = Sandbox::new();
    sandbox.server.set_cdn_status(404);
    let output = run(&sandbox, &["image", "gone", "-m", "dall-e-2"]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert!(stderr_of(&output).contains("HTTP 404"), "{output:?}");
    assert_eq!(names(sandbox.home.path()), Vec::<String>::new());
}

#[test]
fn a_cut_download_leaves_no_file_under_the_final_name() {
    let sandbox = Sandbox::new();
    sandbox.server.set_media_cut_after(10);
    let output = run(
        &sandbox,
        &["image", "cut", "-m", "dall-e-2", "-o", "cut.png"],
    );
    assert_eq!(output.status.code(), Some(69), "{output:?}");
    assert!(
        stderr_of(&output).contains("cut off after 10 bytes"),
        "{output:?}"
    );
    assert_eq!(names(sandbox.home.path()), Vec::<String>::new());
    assert_eq!(
        sandbox.server.requests_to(GENERATIONS).len(),
        1,
        "not re-created"
    );
}

#[test]
fn an_existing_file_is_kept_without_force() {
    let sandbox = Sandbox::new();
    let file = sandbox.home.path().join("fox.png");
    fs::write(&file, b"mine").expect("write");
    let output = run(&sandbox, &["image", "fox", "-o", "fox.png"]);
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    assert!(stderr_of(&output).contains("--force"), "{output:?}");
    assert_eq!(fs::read(&file).expect("file"), b"mine");
    assert!(sandbox.server.requests().is_empty(), "nothing sent");

    let output = run(&sandbox, &["image", "fox", "-o", "fox.png", "--force"]);
    assert!(output.status.success(), "{output:?}");
    assert_eq!(
        fs::read(&file).expect("file"),
        image_bytes("png", 1024, 1024, 0)
    );
}

#[test]
fn the_prompt_comes_from_stdin() {
    let sandbox = Sandbox::new();
    for args in [&["image", "-"][..], &["image"]] {
        let output = sandbox
            .cmd_with_key()
            .current_dir(sandbox.home.path())
            .args(args)
            .write_stdin("a piped prompt\n")
            .output()
            .expect("run");
        assert!(output.status.success(), "{output:?}");
    }
    let requests = sandbox.server.requests_to(GENERATIONS);
    for request in requests {
        let body: Value = serde_json::from_str(&request.body).expect("json");
        assert_eq!(body["prompt"], "a piped prompt\n");
    }
}

/// (Blank values are rows of `every_command.rs`.)
#[test]
fn bad_values_are_usage_errors_before_any_request() {
    let sandbox = Sandbox::new();
    fs::write(sandbox.home.path().join("file"), b"x").expect("write");
    for args in [
        &["image", "x", "-n", "0"][..],
        &["image", "x", "-n", "11"],
        &["image", "x", "--quality", "ultra"],
        &["image", "x", "--output-format", "gif"],
        &["image", "x", "--background", "green"],
        &["image", "x", "-n", "2", "-o", "file"],
    ] {
        let output = run(&sandbox, args);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {output:?}");
    }
    assert!(sandbox.server.requests().is_empty(), "nothing sent");
}

#[test]
fn replies_without_images_are_errors() {
    let sandbox = Sandbox::new();
    for (body, said) in [
        (r#"{"data":[]}"#, "no images"),
        (
            r#"{"error":{"message":"blocked by content policy"}}"#,
            "blocked by content policy",
        ),
        (r#"{"data":[{"b64_json":"@@@"}]}"#, "not valid base64"),
        (r#"{"data":[{"revised_prompt":"x"}]}"#, "neither"),
    ] {
        let fault = Fault::Custom {
            status: 200,
            content_type: "application/json",
            headers: Vec::new(),
            body: body.to_string(),
        };
        sandbox.server.inject(GENERATIONS, fault, 1);
        let output = run(&sandbox, &["image", "x"]);
        assert_eq!(output.status.code(), Some(1), "{body}: {output:?}");
        assert!(stderr_of(&output).contains(said), "{body}: {output:?}");
    }
    assert_eq!(names(sandbox.home.path()), Vec::<String>::new());
}

#[test]
fn edit_sends_files_and_fields_as_multipart() {
    let sandbox = Sandbox::new();
    let image = image_bytes("png", 512, 512, 7);
    let mask = image_bytes("png", 512, 512, 8);
    fs::write(sandbox.home.path().join("cat.png"), &image).expect("image");
    fs::write(sandbox.home.path().join("mask.png"), &mask).expect("mask");
    let output = run(
        &sandbox,
        &[
            "image",
            "edit",
            "cat.png",
            "make it blue",
            "--mask",
            "mask.png",
            "--size",
            "1024x1536",
            "-o",
            "blue.png",
            "--json",
        ],
    );
    assert!(output.status.success(), "{output:?}");
    let requests = sandbox.server.requests_to(EDITS);
    assert_eq!(requests.len(), 1);
    let parts = multipart_parts(&requests[0]);
    let names: Vec<&str> = parts.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["image", "mask", "prompt", "model", "size"]);
    assert_eq!(parts[0].filename.as_deref(), Some("cat.png"));
    assert_eq!(parts[0].data, image);
    assert_eq!(parts[1].data, mask);
    assert_eq!(parts[2].data, b"make it blue");
    assert_eq!(parts[3].data, b"gpt-image-1");
    assert_eq!(parts[4].data, b"1024x1536");
    let saved = fs::read(sandbox.home.path().join("blue.png")).expect("saved");
    assert_eq!(saved, image_bytes("png", 1024, 1536, 0));
    let record: Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(record["dimensions"]["height"], 1536);
}

#[test]
fn edit_with_several_images_sends_image_brackets() {
    let sandbox = Sandbox::new();
    for name in ["a.png", "b.jpg"] {
        fs::write(sandbox.home.path().join(name), image_bytes("png", 8, 8, 0)).expect("write");
    }
    let output = run(
        &sandbox,
        &[
            "image", "edit", "a.png", "b.jpg", "combine", "-n", "2", "-o", "out/",
        ],
    );
    assert!(output.status.success(), "{output:?}");
    let parts = multipart_parts(&sandbox.server.requests_to(EDITS)[0]);
    let images: Vec<_> = parts.iter().filter(|p| p.name == "image[]").collect();
    assert_eq!(images.len(), 2, "{parts:?}");
    assert_eq!(images[1].filename.as_deref(), Some("b.jpg"));
    assert!(parts.iter().any(|p| p.name == "n" && p.data == b"2"));
    assert_eq!(names(&sandbox.home.path().join("out")).len(), 2);
}

#[test]
fn edit_refuses_bad_files_before_any_request() {
    let sandbox = Sandbox::new();
    fs::write(sandbox.home.path().join("anim.gif"), b"GIF89a").expect("write");
    fs::write(sandbox.home.path().join("ok.png"), b"png").expect("write");
    fs::create_dir(sandbox.home.path().join("dir.png")).expect("dir");
    for args in [
        &["image", "edit", "missing.png", "x"][..],
        &["image", "edit", "anim.gif", "x"],
        &["image", "edit", "dir.png", "x"],
        &["image", "edit", "ok.png", "x", "--mask", "anim.gif"],
        &["image", "edit", "ok.png"],
    ] {
        let output = run(&sandbox, args);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {output:?}");
    }
    assert!(sandbox.server.requests().is_empty(), "nothing sent");
}
