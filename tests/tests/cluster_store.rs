//! What every node of a cluster shares through Redis, against a real `redis-server`: the
//! rooms (the same store interface as SQLite's) and the secret that signs links.

use anyhow::Result;
use hallway::cluster::RedisStore;
use hallway::store::{RoomStore, StoreError};
use hallway_tests::redis::RedisServer;

#[test]
fn every_node_sees_the_rooms_any_node_keeps() -> Result<()> {
    let redis = RedisServer::start()?;
    let (a, b) = (
        RedisStore::open(&redis.url())?,
        RedisStore::open(&redis.url())?,
    );
    let config = hallway::Config::defaults();
    let mut lobby = config.room_defaults("lobby");
    a.put(&lobby)?;
    a.put(&config.room_defaults("coffee"))?;
    assert_eq!(
        b.get("lobby")?,
        Some(lobby.clone()),
        "another node reads it"
    );
    let slugs: Vec<String> = b.list()?.into_iter().map(|r| r.slug).collect();
    assert_eq!(slugs, ["coffee", "lobby"]);
    lobby.title = "Foyer".into();
    b.put(&lobby)?;
    assert_eq!(a.get("lobby")?.map(|r| r.title), Some("Foyer".into()));
    assert!(a.delete("coffee")?);
    assert!(!b.delete("coffee")?);
    assert_eq!(b.get("coffee")?, None);
    Ok(())
}

#[test]
fn an_unreadable_room_is_a_typed_error_and_the_others_stay_readable() -> Result<()> {
    let redis = RedisServer::start()?;
    let store = RedisStore::open(&redis.url())?;
    store.put(&hallway::Config::defaults().room_defaults("lobby"))?;
    let mut raw = redis::Client::open(redis.url())?.get_connection()?;
    redis::cmd("HSET")
        .arg("hallway:rooms")
        .arg("broken")
        .arg("{not json")
        .query::<i64>(&mut raw)?;
    assert!(matches!(store.get("broken"), Err(StoreError::Corrupt(_))));
    assert!(store.get("lobby")?.is_some());
    Ok(())
}

#[test]
fn the_first_node_to_ask_sets_the_secret_every_node_signs_with() -> Result<()> {
    let redis = RedisServer::start()?;
    let (a, b) = (
        RedisStore::open(&redis.url())?,
        RedisStore::open(&redis.url())?,
    );
    let first = "a".repeat(64);
    assert_eq!(a.shared_secret(&first)?, first);
    assert_eq!(b.shared_secret(&"b".repeat(64))?, first);
    Ok(())
}

#[test]
fn every_node_serves_the_floor_plan_any_node_kept() -> Result<()> {
    let redis = RedisServer::start()?;
    let (a, b) = (
        RedisStore::open(&redis.url())?,
        RedisStore::open(&redis.url())?,
    );
    let mut lobby = hallway::Config::defaults().room_defaults("lobby");
    let image = b"\x89PNG\r\n\x1a\n and the rest of a picture".to_vec();
    lobby.floor_plan = Some(hallway::floor_plan::FloorPlan::Upload {
        version: hallway::floor_plan::version_of(&image),
    });
    a.put_floor_plan_image("lobby", &image)?;
    a.put(&lobby)?;
    assert_eq!(b.floor_plan_image("lobby")?, Some(image));
    assert_eq!(b.get("lobby")?.and_then(|r| r.floor_plan), lobby.floor_plan);
    assert!(b.delete("lobby")?);
    assert_eq!(a.floor_plan_image("lobby")?, None, "gone with its room");
    Ok(())
}
