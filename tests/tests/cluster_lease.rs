//! Room ownership leases against a real `redis-server`: one holder at a time; only the
//! holder renews or releases; when the holder stops renewing (its node died), another
//! node takes over within the lease; a holder cut off from Redis counts its lease as lost
//! once it could have run out.

use std::time::Duration;

use anyhow::Result;
use hallway::cluster::{self, Lease};
use hallway_tests::redis::RedisServer;

const TTL: Duration = Duration::from_millis(1500);

async fn lease(redis: &RedisServer, holder: &str) -> Result<Lease> {
    let conn = cluster::connect(&redis.url()).await?;
    Ok(Lease::new(
        conn,
        "hallway:lobby:owner".into(),
        holder.into(),
        TTL,
    ))
}

#[tokio::test]
async fn one_holder_at_a_time_and_only_the_holder_renews_or_releases() -> Result<()> {
    let redis = RedisServer::start()?;
    let mut a = lease(&redis, "node-a").await?;
    let mut b = lease(&redis, "node-b").await?;
    assert!(a.hold().await?, "a free lease is taken");
    assert!(!b.hold().await?, "a held lease is not");
    assert!(a.hold().await?, "the holder renews");
    assert!(!b.release().await?, "only the holder releases");
    assert_eq!(b.holder().await?.as_deref(), Some("node-a"));
    assert!(a.release().await?);
    assert!(b.hold().await?, "released, it is free at once");
    // Renewed well within its time to live, it never lapses.
    for _ in 0..6 {
        tokio::time::sleep(TTL / 3).await;
        assert!(b.hold().await?);
        assert!(!a.hold().await?);
    }
    Ok(())
}

#[tokio::test]
async fn when_the_holder_dies_another_node_takes_over_within_the_lease() -> Result<()> {
    let redis = RedisServer::start()?;
    let (mut a_holds, a_task) = lease(&redis, "node-a").await?.keep();
    a_holds.wait_for(|holds| *holds).await?;
    let (mut b_holds, _b_task) = lease(&redis, "node-b").await?.keep();
    tokio::time::sleep(TTL * 2).await;
    assert!(!*b_holds.borrow(), "b waits while a renews");
    // a's node dies: nothing renews its lease any more.
    a_task.abort();
    let died = tokio::time::Instant::now();
    tokio::time::timeout(TTL * 3, b_holds.wait_for(|holds| *holds)).await??;
    let took = died.elapsed();
    println!("taken over {took:?} after the holder died (lease {TTL:?})");
    assert!(
        took <= TTL + TTL / 3 + Duration::from_secs(1),
        "took {took:?}"
    );
    Ok(())
}

#[tokio::test]
async fn a_holder_cut_off_from_redis_gives_up_once_its_lease_could_have_run_out() -> Result<()> {
    let redis = RedisServer::start()?;
    let (mut holds, _task) = lease(&redis, "node-a").await?.keep();
    holds.wait_for(|holds| *holds).await?;
    redis.freeze()?;
    let cut = tokio::time::Instant::now();
    tokio::time::timeout(TTL * 4, holds.wait_for(|holds| !*holds)).await??;
    assert!(cut.elapsed() <= TTL + TTL / 3 + Duration::from_secs(1));
    // Back in reach, with the key still its own, it holds the lease again.
    redis.thaw()?;
    tokio::time::timeout(Duration::from_secs(10), holds.wait_for(|holds| *holds)).await??;
    Ok(())
}
