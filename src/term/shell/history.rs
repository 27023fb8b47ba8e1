//! REPL history: a reedline `FileBackedHistory` in a 0600 file, with secrets masked
//! before a line is stored.
//!
//! Why `FileBackedHistory` and not `SqliteBackedHistory`: its `sync` takes an exclusive
//! lock on the file (`fd_lock`), re-reads what other sessions appended, and appends only
//! this session's new lines, so two REPLs at the same time interleave their lines
//! without losing any; it needs no bundled SQLite (a C build and ~1 MB), and the file
//! stays a plain text file that `grep` can check for secrets.

use std::fs::OpenOptions;
use std::path::Path;

use reedline::{
    FileBackedHistory, History, HistoryItem, HistoryItemId, HistorySessionId, SearchQuery,
};

pub const CAPACITY: usize = 1000;

/// A history that never stores a secret: every line passes through `mask` (one of
/// [`super::mask`]'s rules) before it is kept.
pub struct MaskedHistory {
    inner: FileBackedHistory,
    mask: fn(&str) -> String,
}

impl MaskedHistory {
    /// Opens (or creates, mode 0600) the history file; its directory is created 0700.
    pub fn open(path: &Path, mask: fn(&str) -> String) -> std::io::Result<MaskedHistory> {
        if let Some(dir) = path.parent() {
            if !dir.exists() {
                let mut builder = std::fs::DirBuilder::new();
                builder.recursive(true);
                #[cfg(unix)]
                std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
                builder.create(dir)?;
            }
        }
        let mut options = OpenOptions::new();
        options.create(true).append(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        drop(options.open(path)?);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
        }
        let history = FileBackedHistory::with_file(CAPACITY, path.to_path_buf())
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        Ok(MaskedHistory {
            inner: history,
            mask,
        })
    }
}

impl History for MaskedHistory {
    fn save(&mut self, mut item: HistoryItem) -> reedline::Result<HistoryItem> {
        item.command_line = (self.mask)(&item.command_line);
        let saved = self.inner.save(item)?;
        // Write at once, so a second REPL sees the line and a crash loses nothing.
        let _ = self.inner.sync();
        Ok(saved)
    }

    fn load(&self, id: HistoryItemId) -> reedline::Result<HistoryItem> {
        self.inner.load(id)
    }

    fn count(&self, query: SearchQuery) -> reedline::Result<i64> {
        self.inner.count(query)
    }

    fn search(&self, query: SearchQuery) -> reedline::Result<Vec<HistoryItem>> {
        self.inner.search(query)
    }

    fn update(
        &mut self,
        id: HistoryItemId,
        updater: &dyn Fn(HistoryItem) -> HistoryItem,
    ) -> reedline::Result<()> {
        let mask = self.mask;
        self.inner.update(id, &|item| {
            let mut item = updater(item);
            item.command_line = mask(&item.command_line);
            item
        })
    }

    fn clear(&mut self) -> reedline::Result<()> {
        self.inner.clear()
    }

    fn delete(&mut self, id: HistoryItemId) -> reedline::Result<()> {
        self.inner.delete(id)
    }

    fn sync(&mut self) -> std::io::Result<()> {
        self.inner.sync()
    }

    fn session(&self) -> Option<HistorySessionId> {
        self.inner.session()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn history_file_is_private_and_never_holds_a_secret() {
        use reedline::HistoryItem;
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("cfg/repl_history");
        let mut history =
            MaskedHistory::open(&path, super::super::mask::command_line).expect("open");
        history
            .save(HistoryItem::from_command_line(
                "config set api_key sk-secret-1234567890",
            ))
            .expect("save");
        let mut second =
            MaskedHistory::open(&path, super::super::mask::command_line).expect("second session");
        second
            .save(HistoryItem::from_command_line("models"))
            .expect("save");
        history
            .save(HistoryItem::from_command_line("balance"))
            .expect("save");
        let text = std::fs::read_to_string(&path).expect("read");
        assert!(!text.contains("sk-secret"), "{text}");
        assert_eq!(
            text.lines().collect::<Vec<_>>(),
            ["config set api_key '****7890'", "models", "balance"]
        );
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
}
