//! The SQLite file behind the conversation log: opening (0600 file in a 0700 directory,
//! WAL, a short busy timeout, migrations) and every read and write of it.

use std::fs::OpenOptions;
use std::path::Path;
use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension, Row, TransactionBehavior};

use super::{ids, query, schema, Exchange};
use crate::store::files;

/// How long a write waits for another process holding the file; past it the write is
/// given up with a warning rather than delaying the command.
const BUSY_TIMEOUT: Duration = Duration::from_millis(100);

pub struct Store {
    conn: Connection,
}

/// One conversation as `list` shows it.
#[derive(Debug)]
pub struct Summary {
    pub id: String,
    pub model: String,
    pub updated_ms: i64,
    pub turns: u64,
    pub cost_usd: Option<f64>,
    pub first_prompt: String,
}

/// Which conversations `list` shows.
#[derive(Debug, Default)]
pub struct Filter {
    pub model: Option<String>,
    pub since_ms: Option<i64>,
    pub search: Option<String>,
    pub limit: usize,
}

/// A whole conversation.
#[derive(Debug)]
pub struct Stored {
    pub id: String,
    pub source: String,
    pub model: String,
    pub system: Option<String>,
    pub created_ms: i64,
    pub updated_ms: i64,
    pub exchanges: Vec<StoredExchange>,
}

#[derive(Debug)]
pub struct StoredExchange {
    pub model: String,
    pub prompt: String,
    pub attachments: String,
    pub reply: String,
    pub usage: Option<String>,
    pub prompt_tokens: Option<u64>,
    pub completion_tokens: Option<u64>,
    pub cost_usd: Option<f64>,
    pub first_token_ms: Option<u64>,
    pub total_ms: Option<u64>,
    pub status: String,
    pub created_ms: i64,
}

/// What [`Store::resolve`] found for an id or its start.
pub enum Found {
    One(String),
    None,
    Several,
}

impl Store {
    /// Opens (creating) the log at `path`. `Err` is a readable reason.
    pub fn open(path: &Path) -> Result<Store, String> {
        let target = files::regular_target(path).map_err(|e| e.to_string())?;
        if let Some(dir) = target.parent() {
            files::create_private_dir(dir).map_err(|e| e.to_string())?;
        }
        create_private_file(&target).map_err(|e| e.to_string())?;
        let mut conn = Connection::open(&target).map_err(|e| e.to_string())?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(|e| e.to_string())?;
        conn.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()))
            .map_err(|e| e.to_string())?;
        conn.execute_batch("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;")
            .map_err(|e| e.to_string())?;
        schema::migrate(&mut conn)?;
        Ok(Store { conn })
    }

    /// Adds one exchange to its conversation (a new one unless `exchange.conversation`
    /// names one) and returns the conversation's id.
    pub fn record(&mut self, exchange: &Exchange, now_ms: i64) -> rusqlite::Result<String> {
        let id = exchange
            .conversation
            .clone()
            .unwrap_or_else(|| ids::new_id(now_ms));
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT INTO conversation (id, source, model, system, created_ms, updated_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?5)
             ON CONFLICT(id) DO UPDATE SET model = excluded.model,
                 system = excluded.system, updated_ms = excluded.updated_ms",
            params![id, exchange.source, exchange.model, exchange.system, now_ms],
        )?;
        insert_exchange(&tx, &id, exchange, now_ms)?;
        tx.commit()?;
        Ok(id)
    }

    /// A conversation read from a saved chat: `pairs` of (prompt, reply), all completed.
    pub fn import(
        &mut self,
        model: &str,
        system: Option<&str>,
        pairs: &[(String, String)],
        now_ms: i64,
    ) -> rusqlite::Result<String> {
        let id = ids::new_id(now_ms);
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO conversation (id, source, model, system, created_ms, updated_ms)
             VALUES (?1, 'import', ?2, ?3, ?4, ?4)",
            params![id, model, system, now_ms],
        )?;
        for (prompt, reply) in pairs {
            let exchange = Exchange::imported(model, prompt, reply);
            insert_exchange(&tx, &id, &exchange, now_ms)?;
        }
        tx.commit()?;
        Ok(id)
    }

    /// The most recently updated conversation.
    pub fn latest(&self) -> rusqlite::Result<Option<String>> {
        self.conn
            .query_row(
                "SELECT id FROM conversation ORDER BY updated_ms DESC, id DESC LIMIT 1",
                [],
                |row| row.get(0),
            )
            .optional()
    }

    /// The conversation whose id is or starts with `typed` (already normalised).
    pub fn resolve(&self, typed: &str) -> rusqlite::Result<Found> {
        let mut statement = self
            .conn
            .prepare("SELECT id FROM conversation WHERE substr(id, 1, length(?1)) = ?1 LIMIT 2")?;
        let found: Vec<String> = statement
            .query_map([typed], |row| row.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(match found.as_slice() {
            [] => Found::None,
            [one] => Found::One(one.clone()),
            _ => Found::Several,
        })
    }

    pub fn list(&self, filter: &Filter) -> rusqlite::Result<Vec<Summary>> {
        let search = filter.search.as_deref().and_then(query::fts_query);
        let mut statement = self.conn.prepare(
            "SELECT c.id, c.model, c.updated_ms, COUNT(e.id), SUM(e.cost_usd),
                 (SELECT prompt FROM exchange WHERE conversation_id = c.id ORDER BY id LIMIT 1)
             FROM conversation c LEFT JOIN exchange e ON e.conversation_id = c.id
             WHERE (?1 IS NULL OR c.model = ?1 COLLATE NOCASE)
               AND (?2 IS NULL OR c.updated_ms >= ?2)
               AND (?3 IS NULL OR c.id IN (
                   SELECT x.conversation_id FROM exchange_text
                   JOIN exchange x ON x.id = exchange_text.rowid
                   WHERE exchange_text MATCH ?3))
             GROUP BY c.id ORDER BY c.updated_ms DESC, c.id DESC LIMIT ?4",
        )?;
        let limit = i64::try_from(filter.limit).unwrap_or(i64::MAX);
        let rows = statement.query_map(
            params![filter.model, filter.since_ms, search, limit],
            |row| {
                Ok(Summary {
                    id: row.get(0)?,
                    model: row.get(1)?,
                    updated_ms: row.get(2)?,
                    turns: row.get(3)?,
                    cost_usd: row.get(4)?,
                    first_prompt: row.get::<_, Option<String>>(5)?.unwrap_or_default(),
                })
            },
        )?;
        rows.collect()
    }

    /// The ids of every conversation, oldest first.
    pub fn all_ids(&self) -> rusqlite::Result<Vec<String>> {
        let mut statement = self
            .conn
            .prepare("SELECT id FROM conversation ORDER BY created_ms, id")?;
        let ids = statement.query_map([], |row| row.get(0))?;
        ids.collect()
    }

    pub fn load(&self, id: &str) -> rusqlite::Result<Option<Stored>> {
        let head = self
            .conn
            .query_row(
                "SELECT id, source, model, system, created_ms, updated_ms
                 FROM conversation WHERE id = ?1",
                [id],
                |row| {
                    Ok(Stored {
                        id: row.get(0)?,
                        source: row.get(1)?,
                        model: row.get(2)?,
                        system: row.get(3)?,
                        created_ms: row.get(4)?,
                        updated_ms: row.get(5)?,
                        exchanges: Vec::new(),
                    })
                },
            )
            .optional()?;
        let Some(mut stored) = head else {
            return Ok(None);
        };
        let mut statement = self.conn.prepare(
            "SELECT model, prompt, attachments, reply, usage, prompt_tokens,
                 completion_tokens, cost_usd, first_token_ms, total_ms, status, created_ms
             FROM exchange WHERE conversation_id = ?1 ORDER BY id",
        )?;
        let exchanges = statement.query_map([id], exchange_of)?;
        stored.exchanges = exchanges.collect::<rusqlite::Result<_>>()?;
        Ok(Some(stored))
    }

    /// Marks the completed exchange before the last completed one of conversation `id`
    /// as replaced (`/retry` asked its prompt again).
    pub fn mark_replaced(&mut self, id: &str) -> rusqlite::Result<usize> {
        self.conn.execute(
            "UPDATE exchange SET status = 'replaced' WHERE id = (
                 SELECT id FROM exchange WHERE conversation_id = ?1 AND status = 'completed'
                 ORDER BY id DESC LIMIT 1 OFFSET 1)",
            [id],
        )
    }

    /// Deletes conversations; returns how many existed.
    pub fn delete(&mut self, ids: &[String]) -> rusqlite::Result<usize> {
        let tx = self.conn.transaction()?;
        let mut deleted = 0;
        for id in ids {
            tx.execute("DELETE FROM exchange WHERE conversation_id = ?1", [id])?;
            deleted += tx.execute("DELETE FROM conversation WHERE id = ?1", [id])?;
        }
        tx.commit()?;
        Ok(deleted)
    }
}

fn insert_exchange(
    conn: &Connection,
    id: &str,
    exchange: &Exchange,
    now_ms: i64,
) -> rusqlite::Result<usize> {
    conn.execute(
        "INSERT INTO exchange (conversation_id, model, prompt, attachments, reply, usage,
             prompt_tokens, completion_tokens, cost_usd, first_token_ms, total_ms, status,
             created_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        params![
            id,
            exchange.model,
            exchange.prompt,
            exchange.attachments.to_string(),
            exchange.reply,
            exchange.usage.as_ref().map(ToString::to_string),
            exchange.prompt_tokens,
            exchange.completion_tokens,
            exchange.cost_usd,
            exchange.first_token_ms,
            exchange.total_ms,
            exchange.status.as_str(),
            now_ms,
        ],
    )
}

fn exchange_of(row: &Row<'_>) -> rusqlite::Result<StoredExchange> {
    Ok(StoredExchange {
        model: row.get(0)?,
        prompt: row.get(1)?,
        attachments: row.get(2)?,
        reply: row.get(3)?,
        usage: row.get(4)?,
        prompt_tokens: row.get(5)?,
        completion_tokens: row.get(6)?,
        cost_usd: row.get(7)?,
        first_token_ms: row.get(8)?,
        total_ms: row.get(9)?,
        status: row.get(10)?,
        created_ms: row.get(11)?,
    })
}

/// Creates the file with mode 0600 if it is missing, so SQLite never creates it with
/// the umask's mode (its -wal and -shm files take this file's mode), and takes group
/// and other access away from an existing one.
fn create_private_file(path: &Path) -> std::io::Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        options.mode(0o600);
        let file = options.open(path)?;
        let mode = file.metadata()?.permissions().mode();
        if mode & 0o077 != 0 {
            file.set_permissions(std::fs::Permissions::from_mode(mode & 0o700))?;
        }
        Ok(())
    }
    #[cfg(not(unix))]
    options.open(path).map(drop)
}
