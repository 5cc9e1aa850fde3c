//! The waiting room across a cluster: the queue lives with the room on its owner node, so a
//! host on one node admits someone who connected through another, and the setting, made
//! with the CLI against Redis, holds on every node.

use anyhow::{Context, Result, bail};
use hallway_proto::{ClientMessage, ServerMessage};
use hallway_tests::TestClient;
use hallway_tests::cluster::node;
use hallway_tests::redis::RedisServer;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_on_one_node_admits_someone_waiting_on_another() -> Result<()> {
    let redis = RedisServer::start()?;
    let nodes = [node(&redis, &[])?, node(&redis, &[])?];
    let url = redis.url();
    let run = |args: &[&str]| -> Result<String> {
        let out = std::process::Command::new(hallway_tests::process::binary_path()?)
            .args(args)
            .env("HALLWAY_REDIS_URL", &url)
            .env("HALLWAY_PUBLIC_URL", "https://hallway.example.org")
            .output()?;
        anyhow::ensure!(out.status.success(), "{args:?}: {out:?}");
        Ok(String::from_utf8(out.stdout)?)
    };
    run(&[
        "room",
        "create",
        "foyer",
        "--title",
        "Foyer",
        "--waiting-room",
        "true",
        "--waiting-message",
        "Gleich geht es los.",
    ])?;
    let link = run(&["link", "--room", "foyer", "--role", "host"])?;
    let token = link.trim().split("#token=").nth(1).context("a token")?;
    let mut host = TestClient::join_at(nodes[0].addr, "foyer", "Host", Some(token)).await?;
    let mut anna = TestClient::connect_to(nodes[1].addr).await?;
    anna.hello("foyer", "Anna").await?;
    match anna.recv().await? {
        ServerMessage::Waiting { title, message, .. } => {
            assert_eq!(title, "Foyer");
            assert_eq!(message.as_deref(), Some("Gleich geht es los."));
        }
        other => bail!("expected waiting, got {other:?}"),
    }
    let id = host
        .wait_for("Anna in the queue", |m| match m {
            ServerMessage::WaitingRoom { people, .. } if people.len() == 1 => {
                Some(people[0].id.clone())
            }
            _ => None,
        })
        .await?;
    host.send(&ClientMessage::Admit {
        ids: vec![id.clone()],
        all: false,
    })
    .await?;
    anna.welcomed().await?;
    assert_eq!(anna.id, id);
    // Admitted, a resume through the other node brings her back without waiting.
    let token = anna.resume_token().context("a resume token")?.to_owned();
    drop(anna);
    let back = TestClient::resume_at(nodes[0].addr, "foyer", "Anna", &token).await?;
    assert!(back.resumed());
    Ok(())
}
