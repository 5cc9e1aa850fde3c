//! A removal or ban applies to the person, not to one connection: every participant
//! admitted with the same link goes, on one server and across the nodes of a cluster.

use anyhow::Result;
use hallway::access::{TokenRole, Tokens};
use hallway::clock::now_secs;
use hallway_proto::{ClientMessage, ErrorCode, ServerMessage, close};
use hallway_tests::cluster::node;
use hallway_tests::redis::RedisServer;
use hallway_tests::{Closed, TestClient, TestServer};

/// Waits until `host` has seen both leave.
async fn both_left(host: &mut TestClient, a: &str, b: &str) -> Result<()> {
    let mut gone = Vec::new();
    while gone.len() < 2 {
        let id = host
            .wait_for("someone left", |m| match m {
                ServerMessage::Left { id } if id == a || id == b => Some(id.clone()),
                _ => None,
            })
            .await?;
        if !gone.contains(&id) {
            gone.push(id);
        }
    }
    Ok(())
}

#[tokio::test]
async fn removing_one_tab_removes_the_other_tab_of_the_same_link() -> Result<()> {
    let server = TestServer::start().await?;
    let mut hanna = TestClient::join_host(&server, "lobby", "Hanna").await?;
    let link = server.token("lobby", TokenRole::Participant, None);
    let mut first = TestClient::join_with_token(&server, "lobby", "Max", &link).await?;
    let mut second = TestClient::join_with_token(&server, "lobby", "Max", &link).await?;
    let mut bystander = TestClient::join(&server, "Bea").await?;
    hanna
        .send(&ClientMessage::Remove {
            id: first.id.clone(),
            ban: false,
        })
        .await?;
    assert_eq!(first.wait_closed().await?, Closed::with(close::REMOVED));
    assert_eq!(second.wait_closed().await?, Closed::with(close::REMOVED));
    both_left(&mut hanna, &first.id, &second.id).await?;
    // Someone admitted without that link stays.
    bystander.send(&ClientMessage::Ping).await?;
    bystander
        .wait_for("pong", |m| matches!(m, ServerMessage::Pong).then_some(()))
        .await?;
    server.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ban_closes_the_same_link_on_every_node_of_a_cluster() -> Result<()> {
    let redis = RedisServer::start()?;
    let secret = "a-cluster-secret-for-the-ban-test-0123456789";
    let env = [("HALLWAY_SECRET", secret)];
    let nodes = [node(&redis, &env)?, node(&redis, &env)?];
    let tokens = Tokens::new(secret.as_bytes());
    let in_a_day = now_secs() + 24 * 3600;
    let host_link = tokens.mint("lobby", TokenRole::Host, None, in_a_day);
    let link = tokens.mint("lobby", TokenRole::Participant, Some("Mallory"), in_a_day);
    let mut hanna = TestClient::join_at(nodes[0].addr, "lobby", "Hanna", Some(&host_link)).await?;
    let mut here = TestClient::join_at(nodes[0].addr, "lobby", "x", Some(&link)).await?;
    let mut there = TestClient::join_at(nodes[1].addr, "lobby", "x", Some(&link)).await?;
    hanna
        .send(&ClientMessage::Remove {
            id: here.id.clone(),
            ban: true,
        })
        .await?;
    assert_eq!(here.wait_closed().await?, Closed::with(close::BANNED));
    assert_eq!(there.wait_closed().await?, Closed::with(close::BANNED));
    both_left(&mut hanna, &here.id, &there.id).await?;
    // And the link stays out, through either node.
    for n in &nodes {
        let mut again = TestClient::connect_to(n.addr).await?;
        again.hello_with_token("lobby", "x", &link).await?;
        assert_eq!(again.expect_error().await?.0, ErrorCode::Banned);
    }
    Ok(())
}
