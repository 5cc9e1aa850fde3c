//! Helpers of the cluster tests: nodes of a cluster at a test Redis, circles across them,
//! and resuming through any node as a load balancer would send a client.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Result, bail};
use hallway_proto::ServerMessage;
use tokio::time::Instant;

use crate::TestClient;
use crate::process::ServerProcess;
use crate::redis::RedisServer;

/// Starts a node of the cluster at `redis`.
pub fn node(redis: &RedisServer, extra: &[(&str, &str)]) -> Result<ServerProcess> {
    let url = redis.url();
    let mut env = vec![("HALLWAY_REDIS_URL", url.as_str())];
    env.extend_from_slice(extra);
    ServerProcess::start(&[], &env)
}

/// Everyone in the room as `client`'s welcome listed them: (id, name, reconnecting).
pub fn people(client: &TestClient) -> Vec<(String, String, bool)> {
    match &client.welcome {
        Some(ServerMessage::Welcome { participants, .. }) => participants
            .iter()
            .map(|p| (p.id.clone(), p.name.clone(), p.reconnecting))
            .collect(),
        _ => Vec::new(),
    }
}

/// Waits until `client` hears of `who` standing at x.
pub async fn sees_at(client: &mut TestClient, who: &str, x: f32) -> Result<()> {
    client
        .wait_for("a position", |m| match m {
            ServerMessage::Tick { positions, .. } => positions
                .iter()
                .any(|(id, px, _)| id == who && *px == x)
                .then_some(()),
            _ => None,
        })
        .await
}

/// Walks `b` up to `a` (on whatever nodes they are) and waits until both are told of
/// their circle.
pub async fn form_circle(a: &mut TestClient, b: &mut TestClient) -> Result<u64> {
    a.move_to(500.0, 500.0).await?;
    let a_id = a.id.clone();
    sees_at(b, &a_id, 500.0).await?;
    b.move_to(550.0, 500.0).await?;
    let members = [a.id.clone(), b.id.clone()];
    let circle = a.wait_for_circle_with(&members).await?;
    assert_eq!(b.wait_for_circle_with(&members).await?, circle);
    Ok(circle)
}

/// Whether `client`'s welcome has a circle with both `a` and `b` in it.
pub fn circle_back(client: &TestClient, a: &str, b: &str) -> Result<()> {
    let Some(ServerMessage::Welcome { circles, .. }) = &client.welcome else {
        bail!("no welcome");
    };
    let together = circles
        .iter()
        .any(|c| c.members.iter().any(|m| m == a) && c.members.iter().any(|m| m == b));
    anyhow::ensure!(together, "their circle is not back: {circles:?}");
    Ok(())
}

/// Resumes through any of `nodes` (a load balancer's choice), trying until welcomed.
pub async fn resume_through(
    nodes: &[SocketAddr],
    name: &str,
    token: &str,
    within: Duration,
) -> Result<TestClient> {
    let until = Instant::now() + within;
    let mut attempt = 0usize;
    loop {
        let addr = nodes[attempt % nodes.len()];
        attempt += 1;
        let tried = tokio::time::timeout(
            Duration::from_secs(3),
            TestClient::resume_at(addr, "lobby", name, token),
        )
        .await;
        if let Ok(Ok(client)) = tried {
            return Ok(client);
        }
        if Instant::now() > until {
            bail!("{name} could not resume within {within:?}: {tried:?}");
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
