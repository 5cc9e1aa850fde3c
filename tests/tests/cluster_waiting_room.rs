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

/// An operator's change through the admin API of a node that does not run the room takes
/// effect live on the node that does: turning the waiting room off there lets in whoever
/// waits, and deleting the room there closes it for everyone in it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_api_of_any_node_changes_a_running_room() -> Result<()> {
    const KEY: &str = "an-admin-key-for-the-cluster-tests-0456";
    let redis = RedisServer::start()?;
    let admin = [("HALLWAY_ADMIN_KEY", KEY)];
    let nodes = [node(&redis, &admin)?, node(&redis, &admin)?];
    let auth = format!("Bearer {KEY}");
    let headers = [
        ("Authorization", auth.as_str()),
        ("Content-Type", "application/json"),
    ];
    let api = |at: usize, method: &'static str, path: &'static str, body: &'static [u8]| {
        let addr = nodes[at].addr;
        async move { hallway_tests::process::http_request(addr, method, path, &headers, body).await }
    };
    let (status, body) = api(
        0,
        "POST",
        "/api/rooms",
        br#"{"slug":"foyer","title":"Foyer","waiting_room":true}"#,
    )
    .await?;
    assert_eq!(status, 201, "{body}");
    // Node 0 runs the room (the first visit takes it); Ben reaches it through node 1.
    let mut anna = TestClient::connect_to(nodes[0].addr).await?;
    anna.hello("foyer", "Anna").await?;
    match anna.recv().await? {
        ServerMessage::Waiting { .. } => {}
        other => bail!("expected waiting, got {other:?}"),
    }
    let (status, body) = api(1, "PATCH", "/api/rooms/foyer", br#"{"waiting_room":false}"#).await?;
    assert_eq!(status, 200, "{body}");
    anna.welcomed().await?;
    let mut ben = TestClient::join_at(nodes[1].addr, "foyer", "Ben", None).await?;
    let (status, body) = api(1, "DELETE", "/api/rooms/foyer", b"").await?;
    assert!(status == 200 || status == 204, "{status} {body}");
    for (who, client) in [("Anna", &mut anna), ("Ben", &mut ben)] {
        let closed = client.wait_closed().await?;
        assert_eq!(closed.code, Some(1001), "{who}: {closed:?}");
        assert_eq!(closed.reason, "room closed", "{who}");
    }
    // Made again under the same name, the room starts empty: nobody of the deleted one
    // comes back as reconnecting.
    let (status, body) = api(
        0,
        "POST",
        "/api/rooms",
        br#"{"slug":"foyer","title":"Foyer"}"#,
    )
    .await?;
    assert_eq!(status, 201, "{body}");
    let cleo = TestClient::join_at(nodes[1].addr, "foyer", "Cleo", None).await?;
    let names: Vec<String> = hallway_tests::cluster::people(&cleo)
        .into_iter()
        .map(|(_, name, _)| name)
        .collect();
    assert_eq!(names, ["Cleo"]);
    Ok(())
}
