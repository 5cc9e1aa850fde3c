//! Floor plans in a cluster, against a real `redis-server` and real nodes: a host's choice
//! reaches everyone through any node, an upload is kept in Redis and every node serves it,
//! and every node checks the room before the page.

use anyhow::{Context, Result};
use hallway_proto::{ClientMessage, ServerMessage};
use hallway_tests::TestClient;
use hallway_tests::cluster::node;
use hallway_tests::http::exchange;
use hallway_tests::redis::RedisServer;

/// A transparent one-pixel PNG.
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89\0\0\0\rIDATx\x9cc\xf8\x0f\0\x01\x01\x01\0\x18\xdd\x8d\xb0\0\0\0\0IEND\xaeB`\x82";

async fn told(client: &mut TestClient) -> Result<Option<String>> {
    client
        .wait_for("a floor_plan message", |m| match m {
            ServerMessage::FloorPlan { url } => Some(url.clone()),
            _ => None,
        })
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_node_shows_and_serves_the_rooms_floor_plan() -> Result<()> {
    let redis = RedisServer::start()?;
    let nodes = [node(&redis, &[])?, node(&redis, &[])?];
    let url = redis.url();
    let out = std::process::Command::new(hallway_tests::process::binary_path()?)
        .args(["link", "--room", "lobby", "--role", "host"])
        .env("HALLWAY_REDIS_URL", &url)
        .output()?;
    anyhow::ensure!(out.status.success(), "{out:?}");
    let link = String::from_utf8(out.stdout)?;
    let token = link.trim().split("#token=").nth(1).context("a token")?;

    // The host enters through the first node (which takes the room), a guest through the
    // second (relayed to the first).
    let mut host = TestClient::join_at(nodes[0].addr, "lobby", "Host", Some(token)).await?;
    let mut guest = TestClient::join_at(nodes[1].addr, "lobby", "Gast", None).await?;
    host.send(&ClientMessage::SetFloorPlan {
        plan: Some("builtin:garden".into()),
    })
    .await?;
    let garden = told(&mut guest).await?.context("a plan")?;
    assert!(garden.starts_with("/plans/garden.svg"), "{garden}");

    // An upload through the owner: everyone is told, and both nodes serve the image.
    let auth = format!("Bearer {token}");
    let uploaded = exchange(
        nodes[0].addr,
        "PUT",
        "/r/lobby/floor-plan",
        &[("Authorization", auth.as_str())],
        PNG,
    )
    .await?;
    assert_eq!(uploaded.status, 200, "{}", uploaded.text());
    let plan = told(&mut guest).await?.context("a plan")?;
    assert!(plan.starts_with("/r/lobby/floor-plan?v="), "{plan}");
    for n in &nodes {
        let image = exchange(n.addr, "GET", &plan, &[], b"").await?;
        assert_eq!(image.status, 200, "{}", image.text());
        assert_eq!(image.body, PNG);
        assert_eq!(image.header("content-type"), Some("image/png"));
        let about = exchange(n.addr, "GET", "/r/lobby/about", &[], b"")
            .await?
            .json()?;
        assert_eq!(about["floor_plan"], plan.as_str());
        let missing = exchange(n.addr, "GET", "/r/nowhere", &[], b"").await?;
        assert_eq!(missing.status, 404);
    }
    Ok(())
}
