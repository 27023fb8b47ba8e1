//! A finished job's results saved into a directory: each URL downloaded to a temporary
//! file beside its final name (the API key only to the API's own origin), named
//! `<prompt slug>-<job id>[-<n>].<ext>` with the extension its bytes show, and renamed
//! into place when whole. A download that fails leaves nothing under the final name.

use std::fs;
use std::path::{Path, PathBuf};

use crate::api::download;
use crate::api::jobs::Snapshot;
use crate::cli::context::Context;
use crate::error::{CliError, Result};
use crate::store::files::Replace;
use crate::store::save;
use crate::store::sniff;

/// One result on disk.
#[derive(Clone, Debug)]
pub struct Saved {
    pub job: String,
    pub path: PathBuf,
    pub bytes: u64,
    pub url: String,
}

/// Downloads every result of every job into `dir` (created if missing). `prompt`
/// names the files when the server does not repeat the job's prompt; `fallback` when
/// there is neither (`video`).
pub fn save_all(
    ctx: &Context,
    jobs: &[Snapshot],
    dir: &Path,
    prompt: Option<&str>,
    fallback: &str,
) -> Result<Vec<Saved>> {
    fs::create_dir_all(dir).map_err(|e| {
        CliError::failure(format!("cannot create the directory {}", dir.display())).caused_by(e)
    })?;
    let mut saved = Vec::new();
    for job in jobs {
        let named = job.prompt.as_deref().or(prompt).unwrap_or_default();
        let stem = format!("{}-{}", save::slug(named, fallback), file_safe(&job.id));
        for (i, url) in job.results.iter().enumerate() {
            let stem = match job.results.len() {
                1 => stem.clone(),
                _ => format!("{stem}-{}", i + 1),
            };
            saved.push(save_one(ctx, &job.id, url, dir, &stem)?);
        }
    }
    Ok(saved)
}

fn save_one(ctx: &Context, job: &str, url: &str, dir: &Path, stem: &str) -> Result<Saved> {
    // The temporary file's name only needs the right directory; the extension is not
    // known until the bytes are in.
    let mut file = save::temp_file(&dir.join(stem))?;
    let bytes = download::fetch_result(ctx, url, &mut file)?;
    let head = sniff::head_of(file.file()).map_err(|e| save::write_error(dir, e))?;
    let extension = sniff::kind(&head)
        .map(|kind| kind.extension)
        .or_else(|| extension_in(url))
        .unwrap_or("bin");
    let target = dir.join(format!("{stem}.{extension}"));
    save::commit(file, &target, Replace::No)?;
    Ok(Saved {
        job: job.to_string(),
        path: target,
        bytes,
        url: url.to_string(),
    })
}

/// A job id as part of a file name: anything but letters, digits, `-` and `_` as `_`.
fn file_safe(id: &str) -> String {
    id.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The extension of the URL's last path segment, when it is a short known one.
fn extension_in(url: &str) -> Option<&'static str> {
    let path = url.split(['?', '#']).next()?;
    let (_, extension) = path.rsplit_once('/')?.1.rsplit_once('.')?;
    [
        "mp4", "webm", "mov", "mp3", "wav", "m4a", "png", "jpg", "jpeg", "webp", "gif",
    ]
    .into_iter()
    .find(|known| known.eq_ignore_ascii_case(extension))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_cannot_escape_the_directory() {
        assert_eq!(file_safe("../../etc/passwd"), "______etc_passwd");
        assert_eq!(file_safe("task_01-ab"), "task_01-ab");
    }

    #[test]
    fn url_extensions_are_taken_only_when_known() {
        assert_eq!(extension_in("https://cdn/x/clip.MP4?sig=1"), Some("mp4"));
        assert_eq!(extension_in("https://cdn/x/clip.exe"), None);
        assert_eq!(extension_in("https://cdn/x/clip"), None);
        assert_eq!(extension_in("not a url"), None);
    }
}
