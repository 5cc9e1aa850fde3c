//! The SFU's codec policy with webrtc-rs peers over real UDP: publishers are answered only
//! with codecs every receiver decodes (Opus and VP8 by default), and a media section one
//! side rejects leaves the others flowing. Also: the ICE-lite SFU ignores mDNS candidates.

use anyhow::{Result, ensure};
use hallway_bench::webrtc_peer::PeerCodecs;
use hallway_proto::{ClientMessage, ServerMessage};
use hallway_tests::media::{Publisher, Subscriber};
use hallway_tests::{TestClient, TestServer};

/// The codec names (`a=rtpmap:<pt> <name>/…`) of a description's `kind` sections.
fn codecs(sdp: &str, kind: &str) -> Vec<String> {
    sdp.split("\r\nm=")
        .skip(1)
        .filter(|section| section.starts_with(kind))
        .flat_map(|section| {
            section
                .lines()
                .filter_map(|l| l.strip_prefix("a=rtpmap:"))
                .filter_map(|l| l.split(' ').nth(1))
                .filter_map(|l| l.split('/').next())
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The offer with H264 added to its video section as the first choice (as Safari's is);
/// the publisher still sends VP8 if that is what the answer leaves it.
fn h264_first(sdp: &str) -> String {
    let mut out = String::new();
    let mut in_video = false;
    let mut added = false;
    for line in sdp.split_inclusive("\r\n") {
        if let Some(rest) = line.strip_prefix("m=video ") {
            in_video = true;
            // m=video <port> <proto> <pt> …: H264 (125) goes before the others.
            let mut parts: Vec<&str> = rest.splitn(3, ' ').collect();
            if parts.len() == 3 {
                let pts = format!("125 {}", parts[2]);
                parts[2] = &pts;
                out.push_str(&format!("m=video {}", parts.join(" ")));
                continue;
            }
        } else if line.starts_with("m=") {
            in_video = false;
        }
        if in_video && !added && line.starts_with("a=rtpmap:") {
            out.push_str("a=rtpmap:125 H264/90000\r\n");
            out.push_str(
                "a=fmtp:125 level-asymmetry-allowed=1;packetization-mode=1;\
                 profile-level-id=42e01f\r\n",
            );
            added = true;
        }
        out.push_str(line);
    }
    out
}

async fn broadcasting_host(server: &TestServer) -> Result<TestClient> {
    let mut hanna = TestClient::join_host(server, "lobby", "Hanna Host").await?;
    hanna.send(&ClientMessage::Broadcast { on: true }).await?;
    let id = hanna.id.clone();
    hanna
        .wait_for("our broadcast", |m| match m {
            ServerMessage::Broadcast { id: who, on: true } if *who == id => Some(()),
            _ => None,
        })
        .await?;
    Ok(hanna)
}

/// A publisher that prefers H264 (as Safari does) is answered with VP8, which every
/// receiver decodes; its listeners are offered VP8 and receive both tracks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_publisher_preferring_h264_is_answered_with_vp8() -> Result<()> {
    let server = TestServer::start().await?;
    let listener = Subscriber::start(TestClient::join(&server, "Lena Listener").await?);
    let mut hanna = broadcasting_host(&server).await?;
    let mut publisher = Publisher::start_with_offer_edit(&mut hanna, h264_first).await?;
    let answer = publisher.answer.clone();
    let video = codecs(&answer, "video");
    ensure!(
        video.iter().all(|c| c == "VP8" || c == "rtx") && video.iter().any(|c| c == "VP8"),
        "the answer's video codecs: {video:?}"
    );
    ensure!(codecs(&answer, "audio") == ["opus"], "audio: {answer}");
    let tracks = vec![
        format!("p{}/audio", hanna.id),
        format!("p{}/video", hanna.id),
    ];
    publisher
        .send_until_received(std::slice::from_ref(&listener), &tracks)
        .await?;
    let offered = listener.received().descriptions;
    for sdp in &offered {
        let video = codecs(sdp, "video");
        ensure!(
            video.iter().all(|c| c == "VP8" || c == "rtx"),
            "a listener was offered {video:?}"
        );
    }
    listener.stop();
    server.stop().await
}

/// The operator may allow H264: then a publisher that prefers it is answered with it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_may_allow_h264() -> Result<()> {
    let server = TestServer::start_with(|c| {
        c.sfu_extra_codecs = vec![hallway::sfu::ExtraCodec::H264];
    })
    .await?;
    let mut hanna = broadcasting_host(&server).await?;
    let publisher = Publisher::start_with_offer_edit(&mut hanna, h264_first).await?;
    let answer = &publisher.answer;
    let video = codecs(answer, "video");
    ensure!(
        video.first().map(String::as_str) == Some("H264"),
        "{video:?}"
    );
    server.stop().await
}

/// A receiver that decodes no video rejects the video section of every offer; the audio
/// section still carries the broadcaster's voice to it, and video to everyone else.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audio_flows_when_a_receiver_rejects_video() -> Result<()> {
    let server = TestServer::start().await?;
    let deaf_to_video = Subscriber::start_with_codecs(
        TestClient::join(&server, "Otto Opus").await?,
        PeerCodecs::OpusOnly,
    );
    let other = Subscriber::start(TestClient::join(&server, "Vera Video").await?);
    let mut hanna = broadcasting_host(&server).await?;
    let mut publisher = Publisher::start(&mut hanna).await?;
    let audio = vec![format!("p{}/audio", hanna.id)];
    let both = vec![audio[0].clone(), format!("p{}/video", hanna.id)];
    publisher
        .send_until(async {
            deaf_to_video.wait_for_packets(&audio, 50).await?;
            other.wait_for_packets(&both, 50).await
        })
        .await?;
    ensure!(
        !deaf_to_video
            .received()
            .messages
            .iter()
            .any(|m| m == "error"),
        "the server refused the answer: {:?}",
        deaf_to_video.received().messages
    );
    deaf_to_video.stop();
    other.stop();
    server.stop().await
}

/// A browser's offer carries mDNS (`.local`) host candidates; the ICE-lite SFU needs no
/// candidates and resolves none: the connection comes up from the checks it receives.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mdns_candidates_are_ignored() -> Result<()> {
    let server = TestServer::start().await?;
    let listener = Subscriber::start(TestClient::join(&server, "Lena Listener").await?);
    let mut hanna = broadcasting_host(&server).await?;
    let mut publisher = Publisher::start_with_offer_edit(&mut hanna, |sdp| {
        sdp.replacen(
            "a=candidate:",
            "a=candidate:9 1 udp 2122260223 4b1c2d3e-1111-4222-8333-944455556666.local 54321 \
             typ host\r\na=candidate:",
            1,
        )
    })
    .await?;
    let tracks = vec![
        format!("p{}/audio", hanna.id),
        format!("p{}/video", hanna.id),
    ];
    publisher
        .send_until_received(std::slice::from_ref(&listener), &tracks)
        .await?;
    listener.stop();
    server.stop().await
}
