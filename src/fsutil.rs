//! Atomic, private file writes: a temporary file in the same directory, then a rename,
//! so a crash or a full disk never leaves a half-written config behind.

use std::fs::{self, DirBuilder, OpenOptions};
use std::io::{self, Write};
#[cfg(unix)]
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::Path;

/// Writes `bytes` to `path` atomically with mode 0600. Missing parent directories
/// are created with mode 0700; existing ones are left as they are.
pub fn write_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_atomic(path, bytes, 0o600)
}

/// Writes `bytes` to `path` atomically with the given file mode (ignored off Unix).
/// Missing parent directories are created with mode 0700.
pub fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if !dir.exists() {
        let mut builder = DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        builder.mode(0o700);
        builder.create(dir)?;
    }
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{file_name}.tmp-{}", std::process::id()));
    let result = write_new(&tmp, bytes, mode).and_then(|()| fs::rename(&tmp, path));
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

fn write_new(tmp: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    let _ = fs::remove_file(tmp); // a leftover from a crashed run of the same pid
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    options.mode(mode);
    #[cfg(not(unix))]
    let _ = mode;
    let mut file = options.open(tmp)?;
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn writes_private_file_in_private_new_directory() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let path = tmp.path().join("a/b/config.toml");
        write_private(&path, b"x = 1\n").expect("write");
        assert_eq!(fs::read(&path).expect("read"), b"x = 1\n");
        let mode = |p: &Path| fs::metadata(p).expect("metadata").permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(&tmp.path().join("a/b")), 0o700);
        write_private(&path, b"x = 2\n").expect("overwrite");
        assert_eq!(fs::read(&path).expect("read"), b"x = 2\n");
        let leftovers = fs::read_dir(tmp.path().join("a/b")).expect("dir").count();
        assert_eq!(leftovers, 1, "no temporary file is left behind");
    }
}
