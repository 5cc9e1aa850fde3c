//! The SQLite room store: a table of rooms, the settings as JSON, and a table of the
//! floor plan images operators and hosts uploaded (one per room, at most 5 MB).

use std::path::Path;
use std::sync::Mutex;

use rusqlite::{Connection, OptionalExtension, params};

use super::feedback::{Feedback, KeptFeedback, MAX_KEPT};
use super::{RoomRecord, RoomStore, StoreError, feedback_cutoff};
use crate::room::summary::Summary;

/// Rooms in a SQLite file.
#[derive(Debug)]
pub struct SqliteStore {
    /// One connection; a std mutex because calls are short and never span an `.await`.
    conn: Mutex<Connection>,
}

impl SqliteStore {
    /// Opens (or creates) `hallway.db` in the data folder.
    pub fn open(data_dir: &Path) -> Result<SqliteStore, StoreError> {
        std::fs::create_dir_all(data_dir)?;
        let conn = Connection::open(data_dir.join("hallway.db"))?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS rooms (
                slug TEXT PRIMARY KEY,
                settings TEXT NOT NULL,
                updated_at INTEGER NOT NULL
            );
            CREATE TABLE IF NOT EXISTS floor_plans (
                slug TEXT PRIMARY KEY,
                image BLOB NOT NULL,
                updated_at INTEGER NOT NULL
            );
            CREATE TABLE IF NOT EXISTS summaries (
                slug TEXT PRIMARY KEY,
                summary TEXT NOT NULL,
                updated_at INTEGER NOT NULL
            );
            CREATE TABLE IF NOT EXISTS feedback (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                received INTEGER NOT NULL,
                feedback TEXT NOT NULL
            )",
        )?;
        Ok(SqliteStore {
            conn: Mutex::new(conn),
        })
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic mid-call leaves SQLite consistent (it is transactional), so the
        // connection stays usable.
        self.conn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl RoomStore for SqliteStore {
    fn list(&self) -> Result<Vec<RoomRecord>, StoreError> {
        let conn = self.conn();
        let mut statement = conn.prepare("SELECT settings FROM rooms ORDER BY slug")?;
        let rows = statement.query_map([], |row| row.get::<_, String>(0))?;
        let mut rooms = Vec::new();
        for json in rows {
            rooms.push(serde_json::from_str(&json?)?);
        }
        Ok(rooms)
    }

    fn get(&self, slug: &str) -> Result<Option<RoomRecord>, StoreError> {
        let json: Option<String> = self
            .conn()
            .query_row(
                "SELECT settings FROM rooms WHERE slug = ?1",
                params![slug],
                |row| row.get(0),
            )
            .optional()?;
        Ok(json.map(|json| serde_json::from_str(&json)).transpose()?)
    }

    fn put(&self, room: &RoomRecord) -> Result<(), StoreError> {
        let json = serde_json::to_string(room)?;
        self.conn().execute(
            "INSERT INTO rooms (slug, settings, updated_at) VALUES (?1, ?2, ?3)
             ON CONFLICT(slug) DO UPDATE SET settings = excluded.settings, updated_at = excluded.updated_at",
            params![room.slug, json, crate::clock::now_secs() as i64],
        )?;
        Ok(())
    }

    fn delete(&self, slug: &str) -> Result<bool, StoreError> {
        let conn = self.conn();
        conn.execute("DELETE FROM floor_plans WHERE slug = ?1", params![slug])?;
        conn.execute("DELETE FROM summaries WHERE slug = ?1", params![slug])?;
        Ok(conn.execute("DELETE FROM rooms WHERE slug = ?1", params![slug])? > 0)
    }

    fn floor_plan_image(&self, slug: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT image FROM floor_plans WHERE slug = ?1",
                params![slug],
                |row| row.get(0),
            )
            .optional()?)
    }

    fn put_floor_plan_image(&self, slug: &str, image: &[u8]) -> Result<(), StoreError> {
        self.conn().execute(
            "INSERT INTO floor_plans (slug, image, updated_at) VALUES (?1, ?2, ?3)
             ON CONFLICT(slug) DO UPDATE SET image = excluded.image, updated_at = excluded.updated_at",
            params![slug, image, crate::clock::now_secs() as i64],
        )?;
        Ok(())
    }

    fn add_feedback(&self, feedback: &Feedback, received: u64) -> Result<u64, StoreError> {
        let json = serde_json::to_string(feedback)?;
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute(
            "INSERT INTO feedback (received, feedback) VALUES (?1, ?2)",
            params![received as i64, json],
        )?;
        let id = tx.last_insert_rowid();
        tx.execute(
            "DELETE FROM feedback WHERE received < ?1 OR id <= ?2 - ?3",
            params![feedback_cutoff(received) as i64, id, MAX_KEPT as i64],
        )?;
        tx.commit()?;
        Ok(u64::try_from(id).unwrap_or_default())
    }

    fn feedback(&self, now: u64) -> Result<Vec<KeptFeedback>, StoreError> {
        let conn = self.conn();
        // Past their time: gone from the file, not only from the answer.
        conn.execute(
            "DELETE FROM feedback WHERE received < ?1",
            params![feedback_cutoff(now) as i64],
        )?;
        let mut statement = conn.prepare(
            "SELECT id, received, feedback FROM feedback WHERE received >= ?1 ORDER BY id",
        )?;
        let rows = statement.query_map(params![feedback_cutoff(now) as i64], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, i64>(1)?,
                row.get::<_, String>(2)?,
            ))
        })?;
        let mut kept = Vec::new();
        for row in rows {
            let (id, received, json) = row?;
            kept.push(KeptFeedback {
                id: u64::try_from(id).unwrap_or_default(),
                received: u64::try_from(received).unwrap_or_default(),
                feedback: serde_json::from_str(&json)?,
            });
        }
        Ok(kept)
    }

    fn delete_feedback(&self, id: u64) -> Result<bool, StoreError> {
        let id = i64::try_from(id).unwrap_or(i64::MAX);
        Ok(self
            .conn()
            .execute("DELETE FROM feedback WHERE id = ?1", params![id])?
            > 0)
    }

    fn summary(&self, slug: &str) -> Result<Option<Summary>, StoreError> {
        let json: Option<String> = self
            .conn()
            .query_row(
                "SELECT summary FROM summaries WHERE slug = ?1",
                params![slug],
                |row| row.get(0),
            )
            .optional()?;
        Ok(json.map(|json| serde_json::from_str(&json)).transpose()?)
    }

    fn put_summary(&self, slug: &str, summary: &Summary) -> Result<(), StoreError> {
        let json = serde_json::to_string(summary)?;
        self.conn().execute(
            "INSERT INTO summaries (slug, summary, updated_at) VALUES (?1, ?2, ?3)
             ON CONFLICT(slug) DO UPDATE SET summary = excluded.summary, updated_at = excluded.updated_at",
            params![slug, json, crate::clock::now_secs() as i64],
        )?;
        Ok(())
    }

    fn delete_summary(&self, slug: &str) -> Result<bool, StoreError> {
        Ok(self
            .conn()
            .execute("DELETE FROM summaries WHERE slug = ?1", params![slug])?
            > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rooms_survive_reopening() {
        let dir = std::env::temp_dir().join(format!("hallway-store-{}", rand::random::<u64>()));
        let store = SqliteStore::open(&dir).expect("opens");
        let room = RoomRecord {
            slug: "coffee".into(),
            title: "Kaffeeecke".into(),
            width: 2400.0,
            height: 1600.0,
            max_participants: 100,
            max_circle_size: 8,
            areas: vec![],
            ..Default::default()
        };
        store.put(&room).expect("put");
        drop(store);
        let store = SqliteStore::open(&dir).expect("reopens");
        assert_eq!(store.get("coffee").expect("get"), Some(room.clone()));
        assert_eq!(store.list().expect("list"), vec![room]);
        store
            .put_floor_plan_image("coffee", b"\x89PNG\r\n\x1a\n")
            .expect("put image");
        drop(store);
        let store = SqliteStore::open(&dir).expect("reopens");
        assert_eq!(
            store.floor_plan_image("coffee").expect("image").as_deref(),
            Some(&b"\x89PNG\r\n\x1a\n"[..])
        );
        assert!(store.delete("coffee").expect("delete"));
        assert_eq!(store.floor_plan_image("coffee").expect("image"), None);
        assert!(!store.delete("coffee").expect("delete again"));
        assert_eq!(store.get("coffee").expect("get"), None);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn feedback_is_kept_numbered_and_forgotten_after_its_time() {
        let dir = std::env::temp_dir().join(format!("hallway-store-{}", rand::random::<u64>()));
        let store = SqliteStore::open(&dir).expect("opens");
        let day = 24 * 60 * 60;
        let now = 100 * day;
        let note = |text: &str| Feedback {
            message: text.into(),
            contact: Some("a@example.org".into()),
            lang: "de".into(),
        };
        let old = store
            .add_feedback(&note("alt"), now - 95 * day)
            .expect("add");
        let first = store.add_feedback(&note("eins"), now - day).expect("add");
        let second = store.add_feedback(&note("zwei"), now).expect("add");
        assert!(old < first && first < second);
        drop(store);
        let store = SqliteStore::open(&dir).expect("reopens");
        let kept = store.feedback(now).expect("list");
        assert_eq!(
            kept.iter()
                .map(|k| k.feedback.message.as_str())
                .collect::<Vec<_>>(),
            ["eins", "zwei"]
        );
        assert_eq!(kept[1].received, now);
        // Deleted from the file, not only left out: asked about a time when "alt" was
        // still young, it is not there.
        assert_eq!(store.feedback(now - 95 * day).expect("list").len(), 2);
        assert!(store.delete_feedback(first).expect("delete"));
        assert!(!store.delete_feedback(first).expect("delete again"));
        assert_eq!(store.feedback(now).expect("list").len(), 1);
        for i in 0..MAX_KEPT + 5 {
            store.add_feedback(&note(&i.to_string()), now).expect("add");
        }
        let kept = store.feedback(now).expect("list");
        assert_eq!(kept.len(), MAX_KEPT);
        assert_eq!(kept[0].feedback.message, "5");
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn a_kept_summary_survives_reopening_and_goes_with_its_room() {
        let dir = std::env::temp_dir().join(format!("hallway-store-{}", rand::random::<u64>()));
        let store = SqliteStore::open(&dir).expect("opens");
        let room = RoomRecord {
            slug: "day".into(),
            title: "Day".into(),
            ..RoomRecord::default()
        };
        store.put(&room).expect("puts");
        let mut summary = Summary::new(1000, 60_000);
        summary.arrived = 12;
        store.put_summary("day", &summary).expect("keeps");
        drop(store);
        let store = SqliteStore::open(&dir).expect("opens again");
        assert_eq!(store.summary("day").expect("reads"), Some(summary));
        assert!(store.delete("day").expect("deletes"));
        assert_eq!(store.summary("day").expect("reads"), None);
        let _ = std::fs::remove_dir_all(dir);
    }
}
