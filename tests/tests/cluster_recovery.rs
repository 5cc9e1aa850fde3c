//! How a cluster recovers what Redis pub/sub and a dying owner lose: a batch lost between
//! nodes is found by the next one's number and its clients resume with everything; what
//! changed just before an owner died (someone arrived, a circle formed) was written down
//! at once and comes back with the room.

use std::time::Duration;

use anyhow::{Context, Result};
use hallway::cluster::wire::{self, Sequence};
use hallway_proto::{ServerMessage, close};
use hallway_tests::TestClient;
use hallway_tests::cluster::{circle_back, form_circle, node, resume_through, sees_at};
use hallway_tests::process::metric_reaches;
use hallway_tests::redis::RedisServer;

/// The next message on a subscription, as bytes.
async fn next_published(watch: &mut redis::aio::PubSub) -> Result<bytes::Bytes> {
    use futures_util::StreamExt;
    let msg = tokio::time::timeout(Duration::from_secs(10), watch.on_message().next())
        .await
        .context("nothing published within 10 s")?
        .context("the subscription ended")?;
    Ok(bytes::Bytes::copy_from_slice(msg.get_payload_bytes()))
}

/// Publishes `payload` on `channel`, as a node would.
async fn publish(redis: &redis::Client, channel: &str, payload: Vec<u8>) -> Result<()> {
    let mut conn = redis.get_multiplexed_async_connection().await?;
    redis::cmd("PUBLISH")
        .arg(channel)
        .arg(payload)
        .query_async::<i64>(&mut conn)
        .await?;
    Ok(())
}

/// The place 1,000 batches after `at` in the same stream: a batch there says that the
/// ones in between were lost.
fn far_ahead(at: Sequence) -> Sequence {
    Sequence {
        stream: at.stream,
        number: at.number + 1000,
    }
}

/// Redis pub/sub delivers at most once (a publish that fails, a subscriber whose
/// connection drops for a moment): a receiver finds a lost batch by the next one's number,
/// and the clients concerned resume with everything. Here a batch numbered far ahead of
/// the last one stands for the lost ones, once up (entry node to owner) and once down.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_batch_is_found_and_its_clients_resume_with_everything() -> Result<()> {
    let redis = RedisServer::start()?;
    let owner = node(&redis, &[])?;
    let entry = node(&redis, &[])?;
    let mut anna = TestClient::join_at(owner.addr, "lobby", "Anna", None).await?;
    let mut ben = TestClient::join_at(entry.addr, "lobby", "Ben", None).await?;
    form_circle(&mut anna, &mut ben).await?;
    let (anna_id, ben_id) = (anna.id.clone(), ben.id.clone());
    let client = redis::Client::open(redis.url())?;

    // Up: the entry node's next batch to the room (it sends one every second at least).
    let mut watch = client.get_async_pubsub().await?;
    watch.subscribe("hallway:room:lobby:in").await?;
    let seen = wire::decode_up(next_published(&mut watch).await?)?;
    let entry_node = seen.node.clone();
    let forged = wire::encode_up(&entry_node, far_ahead(seen.at), &[]);
    let token = ben.resume_token().context("a token")?.to_owned();
    publish(&client, "hallway:room:lobby:in", forged).await?;
    // The owner takes Ben for lost (Anna sees him reconnecting) and has his node tell him
    // to reconnect.
    assert_eq!(ben.wait_closed().await?.code, Some(close::SERVICE_RESTART));
    anna.wait_for("Ben reconnecting", |m| match m {
        ServerMessage::Reconnecting { id, on: true } if *id == ben_id => Some(()),
        _ => None,
    })
    .await?;
    let mut ben = resume_through(&[entry.addr], "Ben", &token, Duration::from_secs(10)).await?;
    assert!(ben.resumed() && ben.id == ben_id);
    circle_back(&ben, &anna_id, &ben_id)?;
    metric_reaches(
        owner.addr,
        "hallway_cluster_gaps_total",
        1.0,
        Duration::from_secs(5),
    )
    .await?;

    // Down: the owner's next batch to the entry node (a tick with Anna's move).
    let mut watch = client.get_async_pubsub().await?;
    watch
        .subscribe(format!("hallway:node:{entry_node}"))
        .await?;
    anna.move_to(520.0, 500.0).await?;
    let seen = wire::decode_down(next_published(&mut watch).await?)?;
    let forged = wire::encode_down(&seen.node, far_ahead(seen.at), &[]);
    let token = ben.resume_token().context("a token")?.to_owned();
    publish(&client, &format!("hallway:node:{entry_node}"), forged).await?;
    // The entry node has its clients in the owner's rooms reconnect.
    assert_eq!(ben.wait_closed().await?.code, Some(close::SERVICE_RESTART));
    let mut ben = resume_through(&[entry.addr], "Ben", &token, Duration::from_secs(10)).await?;
    assert!(ben.resumed() && ben.id == ben_id);
    circle_back(&ben, &anna_id, &ben_id)?;
    metric_reaches(
        entry.addr,
        "hallway_cluster_gaps_total",
        1.0,
        Duration::from_secs(5),
    )
    .await?;
    // And on it goes: Anna, on the owner all along, sees Ben's next step.
    ben.move_to(560.0, 500.0).await?;
    sees_at(&mut anna, &ben_id, 560.0).await
}

/// The owner writes a room down every second, and soon after someone arrives or a circle
/// forms: Ben, who arrived and walked up to Anna less than a second before the owner died,
/// resumes as himself, in their circle, on the node that takes the room over.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn who_arrived_and_formed_a_circle_just_before_the_owner_died_comes_back() -> Result<()> {
    let redis = RedisServer::start()?;
    let owner = node(&redis, &[])?;
    let other = node(&redis, &[])?;
    // Every write of the room's state, as Redis tells of it.
    let mut writes = redis.state_writes("lobby").await?;
    let mut anna = TestClient::join_at(owner.addr, "lobby", "Anna", None).await?;
    // After the writes of Anna's arrival, a regular one; then, before the next regular
    // one would come, Ben arrives through the other node, they form a circle, and the
    // owner dies.
    writes.with_all_so_far().await?;
    let regular = tokio::time::Instant::now();
    let mut ben = TestClient::join_at(other.addr, "lobby", "Ben", None).await?;
    form_circle(&mut anna, &mut ben).await?;
    let (anna_id, ben_id) = (anna.id.clone(), ben.id.clone());
    let tokens = [
        anna.resume_token().context("a token")?.to_owned(),
        ben.resume_token().context("a token")?.to_owned(),
    ];
    // The prompt write follows within a fifth of a second. (A sleep, not a wait for the
    // write: a wait could not tell the prompt write from the next regular one, which
    // would have the circle too, and the test would pass without prompt writes.)
    tokio::time::sleep(Duration::from_millis(300)).await;
    println!(
        "the owner dies {:?} after its last regular write",
        regular.elapsed()
    );
    drop(owner); // SIGKILL
    drop(anna);
    assert_eq!(ben.wait_closed().await?.code, Some(close::SERVICE_RESTART));
    let nodes = [other.addr];
    let ben = resume_through(&nodes, "Ben", &tokens[1], Duration::from_secs(20)).await?;
    assert!(ben.resumed(), "Ben's token was written down");
    assert_eq!(ben.id, ben_id);
    circle_back(&ben, &anna_id, &ben_id)?;
    let anna = resume_through(&nodes, "Anna", &tokens[0], Duration::from_secs(10)).await?;
    assert!(anna.resumed() && anna.id == anna_id);
    Ok(())
}
