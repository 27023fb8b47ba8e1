//! Safe file writes. A write goes to a temporary file in the target's directory, then
//! a rename, so a crash or a full disk never leaves a half-written file behind. A
//! symlink is followed and its target is written (dotfiles managers link config files);
//! anything that is not a regular file (a device, a FIFO, a directory) is refused
//! before anything is written. Files that several processes change are changed under
//! [`with_lock`].

use std::ffi::OsString;
use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{self, Write};
#[cfg(unix)]
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How many symlinks may lead to a file (Linux's `MAXSYMLINKS`).
const MAX_SYMLINKS: usize = 40;
/// The longest wait for another process to release a lock.
const LOCK_WAIT: Duration = Duration::from_secs(10);
const LOCK_POLL: Duration = Duration::from_millis(5);

/// Writes `bytes` to `path` atomically with mode 0600 (see [`write_atomic`]).
pub fn write_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_atomic(path, bytes, 0o600)
}

/// Writes `bytes` atomically with the given file mode (ignored off Unix) to `path`, or
/// to the file a symlink at `path` points to. Missing parent directories are created
/// with mode 0700; existing ones are left as they are.
pub fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    let target = regular_target(path)?;
    let mut file = AtomicFile::beside(&target, mode)?;
    file.write_all(bytes)?;
    file.commit(&target, Replace::Yes)
}

/// Opens `path` (or the file a symlink there points to) for appending, creating it with
/// mode 0600 and missing parent directories with 0700. For a log written line by line
/// (bulk results) that a crash may cut short but never rewrite; anything but a regular
/// file is refused.
pub fn open_append_private(path: &Path) -> io::Result<File> {
    let target = regular_target(path)?;
    create_private_dir(parent_dir(&target))?;
    let mut options = OpenOptions::new();
    options.create(true).append(true).read(true);
    #[cfg(unix)]
    options.mode(0o600);
    options.open(&target)
}

/// Whether committing an [`AtomicFile`] may replace a file already at the target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Replace {
    Yes,
    /// Fail with `AlreadyExists` instead (checked by the rename itself, so a file that
    /// appeared during a long download is not lost).
    No,
}

/// A file written as it arrives, under a hidden temporary name in its final directory
/// (`.<name>.tmp-XXXXXX`, so the rename stays on one file system), that takes its final
/// name only on [`AtomicFile::commit`]. Dropped without a commit (an error, a cut
/// download, Ctrl-C), the temporary file is deleted and nothing has the final name.
pub struct AtomicFile {
    tmp: tempfile::NamedTempFile,
}

impl AtomicFile {
    /// A temporary file beside `target` (already resolved with [`regular_target`]),
    /// created with `mode` (less the umask; ignored off Unix). Missing parent
    /// directories are created with mode 0700.
    pub fn beside(target: &Path, mode: u32) -> io::Result<AtomicFile> {
        let dir = parent_dir(target);
        create_private_dir(dir)?;
        let prefix = temp_prefix(target);
        let mut builder = tempfile::Builder::new();
        builder.prefix(&prefix);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            builder.permissions(fs::Permissions::from_mode(mode));
        }
        #[cfg(not(unix))]
        let _ = mode;
        Ok(AtomicFile {
            tmp: builder.tempfile_in(dir)?,
        })
    }

    /// The temporary file, to read back what was written (say, to sniff its type).
    pub fn file(&mut self) -> &mut File {
        self.tmp.as_file_mut()
    }

    /// Flushes to disk and renames to `target`, which must be in the same directory
    /// as the one given to [`AtomicFile::beside`] (or its final name there).
    pub fn commit(self, target: &Path, replace: Replace) -> io::Result<()> {
        self.tmp.as_file().sync_all()?;
        match replace {
            Replace::Yes => self.tmp.persist(target).map(drop).map_err(|e| e.error),
            Replace::No => self
                .tmp
                .persist_noclobber(target)
                .map(drop)
                .map_err(|e| e.error),
        }
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.tmp.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.tmp.flush()
    }
}

/// The path a write to `path` must replace: `path` itself, or the end of the chain of
/// symlinks starting there (which need not exist yet). An error when that is anything
/// but a regular file or nothing at all.
pub fn regular_target(path: &Path) -> io::Result<PathBuf> {
    let mut current = path.to_path_buf();
    for _ in 0..MAX_SYMLINKS {
        let meta = match fs::symlink_metadata(&current) {
            Ok(meta) => meta,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(current),
            Err(e) => return Err(e),
        };
        if meta.file_type().is_symlink() {
            let link = fs::read_link(&current)?;
            current = parent_dir(&current).join(link);
        } else if meta.is_file() {
            return Ok(current);
        } else {
            return Err(not_regular(&current, meta.file_type()));
        }
    }
    Err(io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("too many levels of symlinks at {}", path.display()),
    ))
}

/// An error when `path` exists (symlinks followed) and is not a regular file, so a
/// reader never blocks on a FIFO or reads a device forever.
pub fn check_regular(path: &Path) -> io::Result<()> {
    match fs::metadata(path) {
        Ok(meta) if !meta.is_file() => Err(not_regular(path, meta.file_type())),
        _ => Ok(()),
    }
}

fn not_regular(path: &Path, kind: fs::FileType) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!(
            "{} is {}, not a regular file; refusing to use it",
            path.display(),
            describe(kind)
        ),
    )
}

fn describe(kind: fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return "a FIFO";
        }
        if kind.is_char_device() {
            return "a character device";
        }
        if kind.is_block_device() {
            return "a block device";
        }
        if kind.is_socket() {
            return "a socket";
        }
    }
    if kind.is_dir() {
        "a directory"
    } else {
        "a special file"
    }
}

/// Runs `change` holding an exclusive lock on `.<name>.lock` beside `target` (created
/// with mode 0600 and kept, since deleting a lock file races with the next locker).
/// Waits at most [`LOCK_WAIT`] for another process. Every writer of the file takes the
/// lock, so a temporary file found while holding it is a leftover of a killed write
/// and is removed first.
pub fn with_lock<R>(target: &Path, change: impl FnOnce() -> R) -> io::Result<R> {
    let dir = parent_dir(target);
    create_private_dir(dir)?;
    let mut name = OsString::from(".");
    name.push(target.file_name().unwrap_or_default());
    name.push(".lock");
    let lock_path = dir.join(name);
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    options.mode(0o600);
    let mut lock = fd_lock::RwLock::new(options.open(&lock_path)?);
    let started = Instant::now();
    let _guard = loop {
        match lock.try_write() {
            Ok(guard) => break guard,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock && started.elapsed() < LOCK_WAIT => {
                std::thread::sleep(LOCK_POLL);
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!(
                        "{} is still locked by another process after {}s",
                        lock_path.display(),
                        LOCK_WAIT.as_secs()
                    ),
                ));
            }
            Err(e) => return Err(e),
        }
    };
    remove_leftovers(target);
    Ok(change())
}

/// Removes `.<name>.tmp-*` files beside `target`; failures are ignored (the next write
/// tries again).
fn remove_leftovers(target: &Path) {
    let prefix = temp_prefix(target);
    let Ok(entries) = fs::read_dir(parent_dir(target)) else {
        return;
    };
    for entry in entries.flatten() {
        let is_leftover = entry
            .file_name()
            .as_encoded_bytes()
            .starts_with(prefix.as_encoded_bytes());
        if is_leftover && entry.file_type().is_ok_and(|t| t.is_file()) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// `.<name>.tmp-`: hidden, and recognisable as belonging to `<name>`.
fn temp_prefix(target: &Path) -> OsString {
    let mut prefix = OsString::from(".");
    prefix.push(target.file_name().unwrap_or_default());
    prefix.push(".tmp-");
    prefix
}

fn parent_dir(path: &Path) -> &Path {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// Creates `dir` and its missing parents with mode 0700; an existing one is left as it is.
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    if dir.exists() {
        return Ok(());
    }
    let mut builder = DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    builder.mode(0o700);
    builder.create(dir)
}

/// Reads a file that must be regular (see [`check_regular`]).
pub fn read_regular(path: &Path) -> io::Result<String> {
    check_regular(path)?;
    io::read_to_string(File::open(path)?)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::{symlink, FileTypeExt, PermissionsExt};

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).expect("metadata").permissions().mode() & 0o777
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .expect("dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn writes_private_file_in_private_new_directory() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let path = tmp.path().join("a/b/config.toml");
        write_private(&path, b"x = 1\n").expect("write");
        assert_eq!(fs::read(&path).expect("read"), b"x = 1\n");
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(&tmp.path().join("a/b")), 0o700);
        write_private(&path, b"x = 2\n").expect("overwrite");
        assert_eq!(fs::read(&path).expect("read"), b"x = 2\n");
        assert_eq!(names(&tmp.path().join("a/b")), ["config.toml"]);
        write_atomic(&path, b"x = 3\n", 0o644).expect("other mode");
        assert_eq!(mode(&path), 0o644);
    }

    #[test]
    fn an_atomic_file_has_its_name_only_once_committed() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let target = tmp.path().join("out.bin");
        let mut file = AtomicFile::beside(&target, 0o644).expect("create");
        file.write_all(b"half").expect("write");
        assert!(!target.exists(), "no final name while writing");
        drop(file);
        assert!(
            names(tmp.path()).is_empty(),
            "an abandoned file leaves nothing"
        );

        let mut file = AtomicFile::beside(&target, 0o644).expect("create");
        file.write_all(b"whole").expect("write");
        file.commit(&target, Replace::No).expect("commit");
        assert_eq!(fs::read(&target).expect("read"), b"whole");
        assert_eq!(mode(&target), 0o644);

        let mut second = AtomicFile::beside(&target, 0o644).expect("create");
        second.write_all(b"other").expect("write");
        let err = second.commit(&target, Replace::No).expect_err("exists");
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(fs::read(&target).expect("read"), b"whole", "kept");
        assert_eq!(names(tmp.path()), ["out.bin"], "temp file removed");
    }

    #[test]
    fn a_symlink_is_followed_and_its_target_written_in_place() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dotfiles = tmp.path().join("dotfiles");
        fs::create_dir(&dotfiles).expect("dir");
        let target = dotfiles.join("cometapi.toml");
        fs::write(&target, "old\n").expect("target");
        let link = tmp.path().join("config.toml");
        symlink("dotfiles/cometapi.toml", &link).expect("relative symlink");
        write_private(&link, b"new\n").expect("write");
        assert!(fs::symlink_metadata(&link).expect("link").is_symlink());
        assert_eq!(fs::read(&target).expect("target"), b"new\n");
        assert_eq!(
            names(&dotfiles),
            ["cometapi.toml"],
            "temp file in the target's dir"
        );

        // A dangling link: the target is created.
        fs::remove_file(&target).expect("remove");
        write_private(&link, b"again\n").expect("write");
        assert_eq!(fs::read(&target).expect("target"), b"again\n");
    }

    #[test]
    fn anything_but_a_regular_file_is_refused_untouched() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let fifo = tmp.path().join("fifo");
        let status = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .expect("mkfifo");
        assert!(status.success());
        let err = write_private(&fifo, b"x").expect_err("FIFO refused");
        assert!(
            err.to_string().contains("is a FIFO, not a regular file"),
            "{err}"
        );
        assert!(fs::metadata(&fifo).expect("fifo").file_type().is_fifo());
        let err = read_regular(&fifo).expect_err("never blocks reading a FIFO");
        assert!(err.to_string().contains("a FIFO"), "{err}");

        let dir = tmp.path().join("dir");
        fs::create_dir(&dir).expect("dir");
        let err = write_private(&dir, b"x").expect_err("directory refused");
        assert!(err.to_string().contains("a directory"), "{err}");

        let link = tmp.path().join("to-null");
        symlink("/dev/null", &link).expect("symlink");
        let err = regular_target(&link).expect_err("device behind a link refused");
        assert!(
            err.to_string().contains("/dev/null is a character device"),
            "{err}"
        );
        assert_eq!(
            names(tmp.path()),
            ["dir", "fifo", "to-null"],
            "nothing written"
        );

        let looped = tmp.path().join("loop");
        symlink("loop", &looped).expect("symlink");
        let err = write_private(&looped, b"x").expect_err("a loop ends");
        assert!(err.to_string().contains("too many levels"), "{err}");
    }

    #[test]
    fn lock_removes_leftovers_and_is_exclusive() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let target = tmp.path().join("config.toml");
        fs::write(tmp.path().join(".config.toml.tmp-12345"), "half").expect("leftover");
        fs::write(tmp.path().join(".other.toml.tmp-1"), "not ours").expect("other");
        let inner = with_lock(&target, || {
            // A second lock on the same file cannot be taken while this one is held.
            let lock_file = File::open(tmp.path().join(".config.toml.lock")).expect("open");
            let mut second = fd_lock::RwLock::new(lock_file);
            let refused = second.try_write().is_err();
            refused
        })
        .expect("lock");
        assert!(inner, "the lock is exclusive");
        assert_eq!(
            names(tmp.path()),
            [".config.toml.lock", ".other.toml.tmp-1"],
            "only our leftover is removed"
        );
        assert_eq!(mode(&tmp.path().join(".config.toml.lock")), 0o600);
    }
}
