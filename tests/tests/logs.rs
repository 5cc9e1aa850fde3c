//! What the server logs holds nothing about a person, at the default level and with the
//! server's own debug messages: a whole session against the binary (a host link, names,
//! chat, a malformed message, real-time text in a circle, a broadcast received through
//! TURN), then its log is searched for the names, the chat text, the typed text, the token
//! and the client address.

use anyhow::{Context, Result};
use hallway_proto::{ClientMessage, ErrorCode, ServerMessage};
use hallway_tests::TestClient;
use hallway_tests::media::{Publisher, Subscriber};
use hallway_tests::process::ServerProcess;

const HOST: &str = "Zelda Quartermaine";
const GUEST: &str = "Yusuf Brightwater";
const LISTENER: &str = "Ottilie Farnsworth";
const CHAT: &str = "meet me at the blue sofa 8472";
const RTT: &str = "typing about the green lamp 5196";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_default_log_names_no_one_and_no_address() -> Result<()> {
    let log_path = std::env::temp_dir().join(format!(
        "hallway-log-{}.txt",
        hallway_tests::process::rand_suffix()
    ));
    let log = std::fs::File::create(&log_path)?;
    // The default level, and our own code's debug messages too.
    // Host links are printed only when asked (or on a terminal): this test takes one.
    let server = ServerProcess::start_with_log(
        &[],
        &[
            ("HALLWAY_LOG", "info,hallway=debug"),
            ("HALLWAY_PRINT_LINKS", "always"),
        ],
        log,
    )?;
    let token = server
        .banner
        .iter()
        .find_map(|l| l.split("#token=").nth(1))
        .context("a host link in the banner")?
        .trim()
        .to_owned();

    let mut host = TestClient::join_at(server.addr, "lobby", HOST, Some(&token)).await?;
    let guest_client = TestClient::join_at(server.addr, "lobby", GUEST, None).await?;
    let mut guest = guest_client;
    host.wait_for("the guest joined", |m| {
        matches!(m, ServerMessage::Joined { .. }).then_some(())
    })
    .await?;
    guest
        .send(&ClientMessage::Chat {
            to: "room".into(),
            text: CHAT.into(),
        })
        .await?;
    host.wait_for("the chat", |m| {
        matches!(m, ServerMessage::Chat { .. }).then_some(())
    })
    .await?;
    // A malformed message, a refused signal: errors are logged without their content.
    guest
        .send_text(&format!("{{\"type\":\"chat\",\"text\":\"{CHAT}\""))
        .await?;
    guest.expect_error().await?;

    // Real-time text in a circle: a line read by the other member, and one refused (a tab).
    let mut circle = [host, guest];
    hallway_tests::circles::circle_of(&mut circle).await?;
    let [mut host, mut guest] = circle;
    for (text, done) in [(RTT.to_owned(), true), (format!("{RTT}\t"), false)] {
        guest
            .send(&ClientMessage::Rtt {
                to: "circle".into(),
                circle: None,
                text,
                done,
            })
            .await?;
    }
    host.wait_for("the typed line", |m| {
        matches!(m, ServerMessage::Rtt { text, .. } if text == RTT).then_some(())
    })
    .await?;
    assert_eq!(guest.expect_error().await?.0, ErrorCode::InvalidRtt);

    // A broadcast, received through the embedded TURN server.
    let listener = TestClient::join_at(server.addr, "lobby", LISTENER, None).await?;
    let listener = Subscriber::start_relayed(listener)?;
    host.send(&ClientMessage::Broadcast { on: true }).await?;
    let mut publisher = Publisher::start(&mut host).await?;
    let tracks = [format!("p{}/audio", host.id), format!("p{}/video", host.id)];
    publisher
        .send_until(listener.wait_for_packets(&tracks, 20))
        .await?;
    listener.stop();
    publisher.close().await?;
    drop(host);
    drop(guest);
    server.terminate()?;

    let text = std::fs::read_to_string(&log_path)?;
    assert!(
        text.lines().count() > 3,
        "the log says almost nothing:\n{text}"
    );
    for secret in [
        HOST,
        GUEST,
        LISTENER,
        CHAT,
        RTT,
        token.as_str(),
        "127.0.0.1",
    ] {
        assert!(
            !text.contains(secret),
            "the log contains {secret:?}:\n{text}"
        );
    }
    let _ = std::fs::remove_file(&log_path);
    Ok(())
}

/// The same in a cluster: a participant relayed through a second node, chat, a malformed
/// message, the owner stopping and handing the room over; both nodes' logs are searched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clusters_logs_name_no_one_and_no_address() -> Result<()> {
    let redis = hallway_tests::redis::RedisServer::start()?;
    let url = redis.url();
    let paths: Vec<std::path::PathBuf> = (0..2)
        .map(|_| {
            std::env::temp_dir().join(format!(
                "hallway-log-{}.txt",
                hallway_tests::process::rand_suffix()
            ))
        })
        .collect();
    let env = [
        ("HALLWAY_LOG", "info,hallway=debug"),
        ("HALLWAY_REDIS_URL", url.as_str()),
        ("HALLWAY_PRINT_LINKS", "always"),
    ];
    let owner = ServerProcess::start_with_log(&[], &env, std::fs::File::create(&paths[0])?)?;
    let entry = ServerProcess::start_with_log(&[], &env, std::fs::File::create(&paths[1])?)?;
    let token = owner
        .banner
        .iter()
        .find_map(|l| l.split("#token=").nth(1))
        .context("a host link in the banner")?
        .trim()
        .to_owned();
    let mut host = TestClient::join_at(owner.addr, "lobby", HOST, Some(&token)).await?;
    let mut guest = TestClient::join_at(entry.addr, "lobby", GUEST, None).await?;
    guest
        .send(&ClientMessage::Chat {
            to: "room".into(),
            text: CHAT.into(),
        })
        .await?;
    host.wait_for("the chat", |m| {
        matches!(m, ServerMessage::Chat { .. }).then_some(())
    })
    .await?;
    guest
        .send_text(&format!("{{\"type\":\"chat\",\"text\":\"{CHAT}\""))
        .await?;
    guest.expect_error().await?;
    owner.terminate()?;
    guest.wait_closed().await?;
    drop(host);
    entry.terminate()?;

    for path in &paths {
        let text = std::fs::read_to_string(path)?;
        for secret in [HOST, GUEST, CHAT, token.as_str(), "127.0.0.1", url.as_str()] {
            assert!(
                !text.contains(secret),
                "the log contains {secret:?}:\n{text}"
            );
        }
        let _ = std::fs::remove_file(path);
    }
    Ok(())
}

/// TURN requests with a bad integrity check (a wrong password) are logged at debug level
/// and rate-limited, never as an ERROR per packet: a client with stale credentials, or
/// someone probing, must not flood the operator's log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_turn_credentials_are_not_an_error_per_packet() -> Result<()> {
    let log_path = std::env::temp_dir().join(format!(
        "hallway-log-{}.txt",
        hallway_tests::process::rand_suffix()
    ));
    let log = std::fs::File::create(&log_path)?;
    let server = ServerProcess::start_with_log(&[], &[("HALLWAY_LOG", "info,hallway=debug")], log)?;
    let client = TestClient::join_at(server.addr, "lobby", "Mallory", None).await?;
    const TRIES: usize = 20;
    let tries = (0..TRIES).map(|_| async {
        let turn =
            hallway_tests::turn::client(client.welcome.as_ref(), Some("not the password")).await?;
        let allocated = turn.allocate().await.is_ok();
        turn.close().await?;
        anyhow::Ok(allocated)
    });
    for allocated in futures_util::future::join_all(tries).await {
        assert!(!allocated?, "a relay with a wrong password");
    }
    server.terminate()?;
    let text = std::fs::read_to_string(&log_path)?;
    let errors: Vec<&str> = text.lines().filter(|l| l.contains("ERROR")).collect();
    assert!(errors.is_empty(), "ERROR lines: {errors:#?}");
    let integrity = text.lines().filter(|l| l.contains("bad integrity")).count();
    assert!(
        (1..=3).contains(&integrity),
        "{integrity} lines about bad integrity checks for {TRIES} tries (throttled, and said):\n{text}"
    );
    let _ = std::fs::remove_file(&log_path);
    Ok(())
}
