//! The schema of the conversation log, one migration per version. `PRAGMA user_version`
//! is the number of migrations applied; opening applies the missing ones in one
//! transaction each. A file from a newer version (more migrations than known) is refused
//! rather than guessed at.

use rusqlite::{Connection, TransactionBehavior};

/// Migration `i` takes the schema from version `i` to `i + 1`. Append only.
const MIGRATIONS: &[&str] = &[
    // 1: conversations, their exchanges, and full-text search over prompts and replies.
    "CREATE TABLE conversation (
         id TEXT PRIMARY KEY,
         source TEXT NOT NULL,
         model TEXT NOT NULL,
         system TEXT,
         created_ms INTEGER NOT NULL,
         updated_ms INTEGER NOT NULL
     );
     CREATE INDEX conversation_updated ON conversation(updated_ms);
     CREATE TABLE exchange (
         id INTEGER PRIMARY KEY,
         conversation_id TEXT NOT NULL REFERENCES conversation(id) ON DELETE CASCADE,
         model TEXT NOT NULL,
         prompt TEXT NOT NULL,
         attachments TEXT NOT NULL DEFAULT '[]',
         reply TEXT NOT NULL,
         usage TEXT,
         prompt_tokens INTEGER,
         completion_tokens INTEGER,
         cost_usd REAL,
         first_token_ms INTEGER,
         total_ms INTEGER,
         status TEXT NOT NULL,
         created_ms INTEGER NOT NULL
     );
     CREATE INDEX exchange_conversation ON exchange(conversation_id, id);
     CREATE VIRTUAL TABLE exchange_text USING fts5(
         prompt, reply, content='exchange', content_rowid='id'
     );
     CREATE TRIGGER exchange_indexed AFTER INSERT ON exchange BEGIN
         INSERT INTO exchange_text(rowid, prompt, reply) VALUES (new.id, new.prompt, new.reply);
     END;
     CREATE TRIGGER exchange_unindexed AFTER DELETE ON exchange BEGIN
         INSERT INTO exchange_text(exchange_text, rowid, prompt, reply)
             VALUES ('delete', old.id, old.prompt, old.reply);
     END;",
];

/// Brings the schema to the newest version. `Err` carries a readable reason.
pub fn migrate(conn: &mut Connection) -> Result<(), String> {
    let version = user_version(conn)?;
    if version > MIGRATIONS.len() {
        return Err(format!(
            "its schema version {version} is newer than this cometapi knows ({})",
            MIGRATIONS.len()
        ));
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(version) {
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| e.to_string())?;
        // Another process may have migrated while this one waited for the lock.
        if user_version(&tx)? > index {
            continue;
        }
        tx.execute_batch(sql).map_err(|e| e.to_string())?;
        tx.pragma_update(None, "user_version", index + 1)
            .map_err(|e| e.to_string())?;
        tx.commit().map_err(|e| e.to_string())?;
    }
    Ok(())
}

fn user_version(conn: &Connection) -> Result<usize, String> {
    conn.query_row("PRAGMA user_version", [], |row| row.get::<_, i64>(0))
        .map(|v| usize::try_from(v).unwrap_or(usize::MAX))
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrates_once_and_refuses_a_newer_schema() {
        let mut conn = Connection::open_in_memory().expect("memory db");
        migrate(&mut conn).expect("first");
        migrate(&mut conn).expect("again is a no-op");
        assert_eq!(user_version(&conn), Ok(MIGRATIONS.len()));
        conn.pragma_update(None, "user_version", 99).expect("set");
        let err = migrate(&mut conn).expect_err("newer");
        assert!(err.contains("newer"), "{err}");
    }
}
