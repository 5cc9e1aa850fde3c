//! A client that stops reading while 200 others move at 10 Hz: it is let go as a slow
//! consumer at the cap of its queue (kept as reconnecting for the grace window, like any
//! lost connection) and the server closes its connection (with 4008 when the close frame
//! still fits, else the connection just ends: a closed TCP window takes no close frame),
//! the server's memory stays bounded, and the others go on being served.
//!
//! The stuck client is watched from the server's side (its metrics) until it is let go:
//! reading its socket any earlier would make it a client that reads again (and answers
//! pings), which is not what is tested. Pings are off for the same reason: a silent
//! client is also let go as dead after 20 s, a different path.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::Result;
use futures_util::SinkExt;
use hallway_bench::procstat::rss_kib;
use hallway_proto::close;
use hallway_tests::TestClient;
use hallway_tests::process::ServerProcess;
use tokio_tungstenite::tungstenite::Message;

const MOVERS: usize = 200;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_is_closed_and_memory_stays_bounded() -> Result<()> {
    let server = ServerProcess::start(
        &[],
        &[
            ("HALLWAY_SEND_QUEUE", "64"),
            ("HALLWAY_PING_INTERVAL", "300"),
        ],
    )?;
    let addr = server.addr;

    // The stuck client: joins, then never reads, with a small receive window so that the
    // kernel does not buffer megabytes for it.
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.set_recv_buffer_size(4096)?;
    let stream = socket.connect(addr).await?;
    let (mut stuck, _) = tokio_tungstenite::client_async(format!("ws://{addr}/ws"), stream).await?;
    stuck
        .send(Message::text(
            r#"{"type":"hello","version":2,"room":"lobby","name":"Stuck"}"#,
        ))
        .await?;

    let rss_before = rss_kib(server.pid())?;
    let running = Arc::new(AtomicBool::new(true));
    let mut movers = Vec::new();
    for i in 0..MOVERS {
        let running = running.clone();
        movers.push(tokio::spawn(async move {
            let mut client =
                TestClient::join_at(addr, "lobby", &format!("Mover {i}"), None).await?;
            let mut step = 0u32;
            let mut ticks = 0u64;
            while running.load(Ordering::Relaxed) {
                step += 1;
                let x = 200.0 + f64::from((step * 37 + i as u32 * 11) % 1900);
                let y = 200.0 + f64::from((step * 53 + i as u32 * 7) % 1100);
                client.move_to(x, y).await?;
                // Read for 100 ms: everything queued for us.
                let until = tokio::time::Instant::now() + Duration::from_millis(100);
                while let Ok(msg) = tokio::time::timeout_at(until, client.recv()).await {
                    if matches!(msg?, hallway_proto::ServerMessage::Tick { .. }) {
                        ticks += 1;
                    }
                }
            }
            anyhow::Ok(ticks)
        }));
    }

    // The stuck client is let go as a slow consumer (the server says so, in its metrics);
    // the server's memory then is the most the stuck queue made it hold. Reading now
    // drains what was queued, then the close or the end of the connection.
    hallway_tests::process::metric_reaches(
        addr,
        "hallway_slow_consumer_disconnects_total",
        1.0,
        Duration::from_secs(90),
    )
    .await?;
    let rss_during = rss_kib(server.pid())?;
    hallway_tests::stuck_is_let_go(addr, "Stuck", Duration::from_secs(90)).await?;
    assert!(
        hallway_tests::process::metric(addr, "hallway_slow_consumer_disconnects_total")
            .await?
            .is_some_and(|n| n >= 1.0),
        "let go, but not as a slow consumer"
    );
    // Its connection is closed on the server's side: the open connections are the
    // movers' again. (The client's kernel may take a while longer to hand over what was
    // sent before the close: a 4 KiB receive window drains a full send buffer slowly.)
    hallway_tests::process::metric_falls_to(
        addr,
        "hallway_connections",
        MOVERS as f64,
        Duration::from_secs(60),
    )
    .await?;
    // What the client reads in a moment, if anything, ends with the slow consumer's close.
    let closed = hallway_tests::close_code_within(&mut stuck, Duration::from_secs(5)).await;
    if let Some(code) = closed {
        assert_eq!(code, close::SLOW_CONSUMER, "closed with {code}");
    }
    // It is no longer served: the room shows it as reconnecting (its client may resume
    // and get a fresh welcome) until the grace window ends.
    let newcomer = TestClient::join_at(addr, "lobby", "Newcomer", None).await?;
    let Some(hallway_proto::ServerMessage::Welcome { participants, .. }) = &newcomer.welcome else {
        anyhow::bail!("no welcome");
    };
    assert!(
        participants
            .iter()
            .filter(|p| p.name == "Stuck")
            .all(|p| p.reconnecting),
        "the stuck client is still served"
    );

    running.store(false, Ordering::Relaxed);
    for m in movers {
        let ticks = m.await??;
        assert!(ticks > 20, "a mover saw only {ticks} ticks");
    }
    let grown_mib = rss_during.saturating_sub(rss_before) as f64 / 1024.0;
    println!("server RSS {rss_before} KiB before, {rss_during} KiB during: +{grown_mib:.1} MiB");
    assert!(grown_mib < 32.0, "server memory grew by {grown_mib:.1} MiB");
    drop(server);
    Ok(())
}
