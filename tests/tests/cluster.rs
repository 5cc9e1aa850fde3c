//! Cluster mode against a real `redis-server` and three `hallway` processes: one room,
//! participants spread over the nodes, circles and signalling across nodes; the owner
//! killed with SIGKILL; Redis frozen for ten seconds. (Lost batches and prompt writes of a
//! room's state: `cluster_recovery.rs`.)

use std::collections::HashSet;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use hallway_proto::{ErrorCode, ServerMessage, close};
use hallway_tests::TestClient;
use hallway_tests::cluster::{circle_back, form_circle, node, people, resume_through, sees_at};
use hallway_tests::redis::RedisServer;
use tokio::time::Instant;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn participants_on_three_nodes_meet_in_one_room() -> Result<()> {
    let redis = RedisServer::start()?;
    let nodes = [node(&redis, &[])?, node(&redis, &[])?, node(&redis, &[])?];
    // Anna's node takes the room; Ben and Cleo are relayed to it by theirs.
    let mut anna = TestClient::join_at(nodes[0].addr, "lobby", "Anna", None).await?;
    let mut ben = TestClient::join_at(nodes[1].addr, "lobby", "Ben", None).await?;
    let mut cleo = TestClient::join_at(nodes[2].addr, "lobby", "Cleo", None).await?;
    let names: HashSet<String> = people(&cleo).into_iter().map(|(_, n, _)| n).collect();
    assert_eq!(
        names,
        HashSet::from(["Anna".into(), "Ben".into(), "Cleo".into()])
    );
    let cleo_id = cleo.id.clone();
    anna.wait_for("Cleo's arrival", |m| match m {
        ServerMessage::Joined { participant } => (participant.id == cleo_id).then_some(()),
        _ => None,
    })
    .await?;

    // A circle across two nodes; a signal across nodes reaches its member...
    form_circle(&mut anna, &mut ben).await?;
    ben.signal(&anna.id, r#"{"kind":"offer","sdp":"v=0"}"#)
        .await?;
    let ben_id = ben.id.clone();
    anna.wait_for("Ben's signal", |m| match m {
        ServerMessage::Signal { from, .. } => (*from == ben_id).then_some(()),
        _ => None,
    })
    .await?;
    // ... and stays circle-scoped: Cleo, on a third node and in no circle, cannot.
    cleo.signal(&anna.id, r#"{"kind":"offer","sdp":"v=0"}"#)
        .await?;
    assert_eq!(cleo.expect_error().await?.0, ErrorCode::NotInCircle);

    // Positions cross nodes both ways.
    cleo.move_to(1234.0, 800.0).await?;
    sees_at(&mut anna, &cleo_id, 1234.0).await?;
    sees_at(&mut ben, &cleo_id, 1234.0).await?;

    // Leaving through a relay is a leave, seen at once.
    let ben_id = ben.id.clone();
    ben.close().await?;
    anna.wait_for("Ben's leave", |m| match m {
        ServerMessage::Left { id } => (*id == ben_id).then_some(()),
        _ => None,
    })
    .await?;

    // A node started later serves the room that is already running.
    let late = node(&redis, &[])?;
    let dana = TestClient::join_at(late.addr, "lobby", "Dana", None).await?;
    let names: HashSet<String> = people(&dana).into_iter().map(|(_, n, _)| n).collect();
    assert_eq!(
        names,
        HashSet::from(["Anna".into(), "Cleo".into(), "Dana".into()])
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_room_created_through_one_node_is_served_by_all() -> Result<()> {
    const KEY: &str = "an-admin-key-for-the-cluster-tests-0123";
    let redis = RedisServer::start()?;
    let admin = [("HALLWAY_ADMIN_KEY", KEY)];
    let nodes = [node(&redis, &admin)?, node(&redis, &admin)?];
    let auth = format!("Bearer {KEY}");
    let headers = [
        ("Authorization", auth.as_str()),
        ("Content-Type", "application/json"),
    ];
    let (status, body) = hallway_tests::process::http_request(
        nodes[0].addr,
        "POST",
        "/api/rooms",
        &headers,
        br#"{"slug":"workshop","title":"Werkstatt"}"#,
    )
    .await?;
    assert_eq!(status, 201, "{body}");
    // Listed by the other node, and entered through it: it takes the room.
    let (status, list) =
        hallway_tests::process::http_request(nodes[1].addr, "GET", "/api/rooms", &headers, b"")
            .await?;
    assert_eq!(status, 200);
    assert!(list.contains("workshop"), "{list}");
    let first = TestClient::join_at(nodes[1].addr, "workshop", "First", None).await?;
    let second = TestClient::join_at(nodes[0].addr, "workshop", "Second", None).await?;
    let Some(ServerMessage::Welcome { room, .. }) = &second.welcome else {
        bail!("no welcome");
    };
    assert_eq!(room.title, "Werkstatt");
    assert_eq!(people(&second).len(), 2);
    drop(first);
    // `hallway room create` and `hallway link` with the same Redis: the room is served
    // and the link (signed with the cluster's secret) is honoured by any node.
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
    run(&["room", "create", "plenary", "--title", "Plenum"])?;
    let link = run(&["link", "--room", "plenary", "--role", "host"])?;
    let token = link.trim().split("#token=").nth(1).context("a token")?;
    let host = TestClient::join_at(nodes[1].addr, "plenary", "Host", Some(token)).await?;
    let Some(ServerMessage::Welcome { room, .. }) = &host.welcome else {
        bail!("no welcome");
    };
    assert_eq!(room.title, "Plenum");
    let me = people(&host);
    assert_eq!(me.len(), 1);

    // A room nobody created is refused the same way through any node.
    let mut lost = TestClient::connect_to(nodes[1].addr).await?;
    lost.hello("nowhere", "Lost").await?;
    assert_eq!(lost.expect_error().await?.0, ErrorCode::RoomNotFound);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_owners_death_is_a_takeover_and_everyone_resumes() -> Result<()> {
    let redis = RedisServer::start()?;
    // Default settings: a 5 s lease and a 30 s resume grace window.
    let owner = node(&redis, &[])?;
    let others = [node(&redis, &[])?, node(&redis, &[])?];
    let balanced = [others[0].addr, others[1].addr];
    let mut anna = TestClient::join_at(owner.addr, "lobby", "Anna", None).await?;
    let mut ben = TestClient::join_at(others[0].addr, "lobby", "Ben", None).await?;
    let mut cleo = TestClient::join_at(others[1].addr, "lobby", "Cleo", None).await?;
    form_circle(&mut anna, &mut ben).await?;
    cleo.move_to(1500.0, 900.0).await?;
    sees_at(&mut anna, &cleo.id.clone(), 1500.0).await?;
    // The owner writes the room down every second: wait for a write with all of this.
    redis.next_state_write("lobby").await?;
    let ids = [anna.id.clone(), ben.id.clone(), cleo.id.clone()];
    let tokens: Vec<String> = [&anna, &ben, &cleo]
        .iter()
        .map(|c| c.resume_token().map(str::to_owned).context("no token"))
        .collect::<Result<_>>()?;

    drop(owner); // SIGKILL
    let killed = Instant::now();
    // Anna's connection died with her node; Ben's and Cleo's nodes tell them to reconnect
    // once the owner's lease has run out.
    drop(anna);
    for relayed in [&mut ben, &mut cleo] {
        let closed = relayed.wait_closed().await?;
        assert_eq!(closed.code, Some(close::SERVICE_RESTART));
    }
    let mut anna = resume_through(&balanced, "Anna", &tokens[0], Duration::from_secs(20)).await?;
    let took_over = killed.elapsed();
    println!("the room was taken over and Anna resumed {took_over:?} after her node died");
    assert!(
        took_over < Duration::from_secs(5 + 5),
        "took {took_over:?} (lease 5 s)"
    );
    let mut ben = resume_through(&balanced, "Ben", &tokens[1], Duration::from_secs(10)).await?;
    let mut cleo = resume_through(&balanced, "Cleo", &tokens[2], Duration::from_secs(10)).await?;
    for (client, id) in [(&anna, &ids[0]), (&ben, &ids[1]), (&cleo, &ids[2])] {
        assert!(client.resumed(), "{} did not resume", client.id);
        assert_eq!(&client.id, id, "same participant");
        // Their media connections were to the dead node's SFU: they are told to start over.
        assert!(
            matches!(
                client.welcome,
                Some(ServerMessage::Welcome {
                    sfu_reset: true,
                    ..
                })
            ),
            "sfu_reset"
        );
    }
    // Their places and their circle are back.
    let Some(ServerMessage::Welcome { participants, .. }) = &ben.welcome else {
        bail!("no welcome");
    };
    let cleo_now = participants
        .iter()
        .find(|p| p.id == ids[2])
        .context("Cleo is in the room")?;
    assert_eq!((cleo_now.x, cleo_now.y), (1500.0, 900.0));
    circle_back(&ben, &ids[0], &ids[1])?;
    // 60 s after the owner's death, long past the grace window: exactly the three of
    // them, nobody twice, no ghosts.
    let later = killed + Duration::from_secs(60);
    tokio::try_join!(
        anna.idle_until(later),
        ben.idle_until(later),
        cleo.idle_until(later)
    )?;
    let dana = TestClient::join_at(balanced[0], "lobby", "Dana", None).await?;
    let mut seen: Vec<(String, String, bool)> = people(&dana);
    seen.sort();
    let mut want: Vec<(String, String, bool)> = [
        (&ids[0], "Anna"),
        (&ids[1], "Ben"),
        (&ids[2], "Cleo"),
        (&dana.id, "Dana"),
    ]
    .iter()
    .map(|(id, name)| ((*id).clone(), (*name).to_owned(), false))
    .collect();
    want.sort();
    assert_eq!(seen, want);
    ben.move_to(600.0, 600.0).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_seconds_without_redis_fail_fast_and_then_everything_comes_back() -> Result<()> {
    let redis = RedisServer::start()?;
    let nodes = [node(&redis, &[])?, node(&redis, &[])?, node(&redis, &[])?];
    let addrs = [nodes[0].addr, nodes[1].addr, nodes[2].addr];
    let mut anna = TestClient::join_at(addrs[0], "lobby", "Anna", None).await?;
    let mut ben = TestClient::join_at(addrs[1], "lobby", "Ben", None).await?;
    form_circle(&mut anna, &mut ben).await?;
    redis.next_state_write("lobby").await?;
    let (anna_id, ben_id) = (anna.id.clone(), ben.id.clone());
    let anna_token = anna.resume_token().context("token")?.to_owned();
    let ben_token = ben.resume_token().context("token")?.to_owned();

    redis.freeze()?;
    let frozen = Instant::now();
    // A newcomer on a node that does not run the room is refused quickly and clearly.
    let asked = Instant::now();
    let mut newcomer = TestClient::connect_to(addrs[2]).await?;
    newcomer.hello("lobby", "Newcomer").await?;
    assert_eq!(newcomer.expect_error().await?.0, ErrorCode::Unavailable);
    assert_eq!(
        newcomer.wait_closed().await?.code,
        Some(close::TRY_AGAIN_LATER)
    );
    println!("a join without Redis was refused in {:?}", asked.elapsed());
    // Both are told to reconnect once the lease can no longer be trusted (a lease of 5 s,
    // renewed every 1.7 s, each try given 1.7 s: up to about 9 s).
    for client in [&mut anna, &mut ben] {
        let closed = match client.wait_closed().await {
            Ok(closed) => closed,
            // Slow on a loaded machine; not what this test measures.
            Err(_) => client.wait_closed().await?,
        };
        assert_eq!(closed.code, Some(close::SERVICE_RESTART));
    }
    tokio::time::sleep(Duration::from_secs(10).saturating_sub(frozen.elapsed())).await;
    redis.thaw()?;
    let back = Instant::now();
    let anna = resume_through(&addrs, "Anna", &anna_token, Duration::from_secs(15)).await?;
    let ben = resume_through(&addrs[1..], "Ben", &ben_token, Duration::from_secs(15)).await?;
    let resynced = back.elapsed();
    println!("everyone was back {resynced:?} after Redis returned");
    assert!(resynced < Duration::from_secs(5 + 5), "took {resynced:?}");
    assert_eq!(
        (anna.id.as_str(), ben.id.as_str()),
        (anna_id.as_str(), ben_id.as_str())
    );
    assert!(anna.resumed() && ben.resumed());
    circle_back(&ben, &anna_id, &ben_id)?;
    // No node panicked or stopped: every one of them still answers.
    for addr in addrs {
        let (status, _) = hallway_tests::process::http_get(addr, "/healthz").await?;
        assert_eq!(status, 200);
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopping_owner_hands_its_rooms_over_at_once() -> Result<()> {
    let redis = RedisServer::start()?;
    let owner = node(&redis, &[])?;
    let other = node(&redis, &[])?;
    let mut anna = TestClient::join_at(owner.addr, "lobby", "Anna", None).await?;
    let mut ben = TestClient::join_at(other.addr, "lobby", "Ben", None).await?;
    form_circle(&mut anna, &mut ben).await?;
    let tokens = [
        anna.resume_token().context("token")?.to_owned(),
        ben.resume_token().context("token")?.to_owned(),
    ];
    let mut raw = redis::Client::open(redis.url())?.get_connection()?;
    let key = "hallway:room:lobby:owner";
    let holder: Option<String> = redis::cmd("GET").arg(key).query(&mut raw)?;
    let holder = holder.context("the room has an owner")?;

    // SIGTERM: the owner writes the room down, gives its lease up and tells everyone
    // to reconnect, rather than leaving the room to wait for its lease to run out.
    let status = tokio::task::spawn_blocking(move || owner.terminate()).await??;
    assert!(status.success(), "exit status {status}");
    let now: Option<String> = redis::cmd("GET").arg(key).query(&mut raw)?;
    assert_ne!(
        now.as_deref(),
        Some(holder.as_str()),
        "the lease was given up"
    );
    assert_eq!(ben.wait_closed().await?.code, Some(close::SERVICE_RESTART));
    let nodes = [other.addr];
    let anna = resume_through(&nodes, "Anna", &tokens[0], Duration::from_secs(10)).await?;
    let ben = resume_through(&nodes, "Ben", &tokens[1], Duration::from_secs(10)).await?;
    assert!(anna.resumed() && ben.resumed());
    circle_back(&ben, &anna.id, &ben.id)?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relayed_client_that_stops_reading_is_let_go_and_the_others_are_served() -> Result<()> {
    use futures_util::SinkExt;
    use tokio_tungstenite::tungstenite::Message;
    let redis = RedisServer::start()?;
    // No pings: a silent client is also let go as dead, but that is another path.
    let queue = [
        ("HALLWAY_SEND_QUEUE", "64"),
        ("HALLWAY_PING_INTERVAL", "300"),
    ];
    let owner = node(&redis, &queue)?;
    let entry = node(&redis, &queue)?;
    // The first visitor makes the owner the owner.
    drop(TestClient::join_at(owner.addr, "lobby", "First", None).await?);
    // Relayed through the entry node, with a small receive window, and never read.
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.set_recv_buffer_size(4096)?;
    let stream = socket.connect(entry.addr).await?;
    let (mut stuck, _) =
        tokio_tungstenite::client_async(format!("ws://{}/ws", entry.addr), stream).await?;
    stuck
        .send(Message::text(
            r#"{"type":"hello","version":2,"room":"lobby","name":"Stuck"}"#,
        ))
        .await?;
    // Movers on both nodes keep the room busy.
    let running = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let mut movers = Vec::new();
    for i in 0..40u32 {
        let addr = if i % 2 == 0 { owner.addr } else { entry.addr };
        let running = running.clone();
        movers.push(tokio::spawn(async move {
            let mut client =
                TestClient::join_at(addr, "lobby", &format!("Mover {i}"), None).await?;
            let mut step = 0u32;
            while running.load(std::sync::atomic::Ordering::Relaxed) {
                step += 1;
                let x = 200.0 + f64::from((step * 37 + i * 11) % 1900);
                client.move_to(x, 300.0 + f64::from(i * 20)).await?;
                let until = tokio::time::Instant::now() + Duration::from_millis(100);
                while let Ok(msg) = tokio::time::timeout_at(until, client.recv()).await {
                    msg?;
                }
            }
            anyhow::Ok(())
        }));
    }
    // Let go within the owner's 5 s of stalled ticks and the 10 s write timeout, as the
    // room shows (reading the socket before would make it a client that reads again);
    // then reading shows the end of the connection.
    hallway_tests::stuck_is_let_go(owner.addr, "Stuck", Duration::from_secs(90)).await?;
    // The entry node closed it: its relayed connections are the 20 movers' again (the
    // client's kernel may take longer to hand over what was sent before the close).
    hallway_tests::process::metric_falls_to(
        entry.addr,
        "hallway_cluster_relayed_connections",
        20.0,
        Duration::from_secs(60),
    )
    .await?;
    let ended = hallway_tests::close_code_within(&mut stuck, Duration::from_secs(5)).await;
    if let Some(code) = ended {
        assert_eq!(code, close::SLOW_CONSUMER, "closed with {code}");
    }
    // The others are still served: a move is seen across nodes.
    let mut watcher = TestClient::join_at(owner.addr, "lobby", "Watcher", None).await?;
    let mut late = TestClient::join_at(entry.addr, "lobby", "Late", None).await?;
    let late_id = late.id.clone();
    late.move_to(2000.0, 1400.0).await?;
    sees_at(&mut watcher, &late_id, 2000.0).await?;
    running.store(false, std::sync::atomic::Ordering::Relaxed);
    for mover in movers {
        mover.await??;
    }
    Ok(())
}
