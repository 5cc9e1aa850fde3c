//! The SQLite room store: a table of rooms, the settings as JSON, and a table of the
//! floor plan images operators and hosts uploaded (one per room, at most 5 MB).

use std::path::Path;
use std::sync::Mutex;

use rusqlite::{Connection, OptionalExtension, params};

use super::{RoomRecord, RoomStore, StoreError};

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
            params![room.slug, json, crate::access::now_secs() as i64],
        )?;
        Ok(())
    }

    fn delete(&self, slug: &str) -> Result<bool, StoreError> {
        let conn = self.conn();
        conn.execute("DELETE FROM floor_plans WHERE slug = ?1", params![slug])?;
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
            params![slug, image, crate::access::now_secs() as i64],
        )?;
        Ok(())
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
}
