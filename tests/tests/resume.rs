//! Resuming over real sockets: a participant whose connection drops keeps id, place,
//! circle, role, hand and media for the grace window; the others see "reconnecting", not a
//! leave and a join; the circle restarts ICE; after the window the participant is removed
//! exactly once. (The browser client's side, through a TCP fault proxy that blackholes
//! it, is in `tests/browser/resume.test.mjs`.)

use anyhow::Result;
use hallway_proto::{ClientMessage, ServerMessage, close};
use hallway_tests::{Closed, TestClient, TestServer};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

/// A host and a participant standing in one circle; the host's hand is up and her
/// microphone on, and the participant has seen all of it.
async fn host_and_guest(server: &TestServer) -> Result<(TestClient, TestClient, u64)> {
    let mut hanna = TestClient::join_host(server, "lobby", "Hanna").await?;
    let mut ben = TestClient::join(server, "Ben").await?;
    hanna.move_to(500.0, 500.0).await?;
    let h = hanna.id.clone();
    ben.wait_for("Hanna at 500,500", |m| match m {
        ServerMessage::Tick { positions, .. } => positions
            .iter()
            .any(|(id, x, _)| *id == h && *x == 500.0)
            .then_some(()),
        _ => None,
    })
    .await?;
    ben.move_to(550.0, 500.0).await?;
    let members = [hanna.id.clone(), ben.id.clone()];
    let circle = ben.wait_for_circle_with(&members).await?;
    hanna.send(&ClientMessage::Hand { raised: true }).await?;
    hanna
        .send(&ClientMessage::Media {
            mic: true,
            camera: false,
            screen: false,
        })
        .await?;
    ben.wait_for("Hanna's microphone", |m| {
        matches!(m, ServerMessage::Media { id, state } if *id == h && state.mic).then_some(())
    })
    .await?;
    Ok((hanna, ben, circle))
}

#[tokio::test]
async fn a_dropped_connection_resumes_with_everything_and_others_see_reconnecting() -> Result<()> {
    let server = TestServer::start().await?;
    let (hanna, mut ben, circle) = host_and_guest(&server).await?;
    let (id, token) = (
        hanna.id.clone(),
        hanna.resume_token().unwrap_or("").to_owned(),
    );
    drop(hanna); // the socket goes away without a close frame

    let h = id.clone();
    // Nobody ever hears of her leaving or joining.
    let not_gone = |m: &ServerMessage| match m {
        ServerMessage::Left { id: gone } => *gone == id,
        ServerMessage::Joined { participant } => participant.id == id,
        _ => false,
    };
    ben.wait_for_without("Hanna reconnecting", not_gone, |m| {
        matches!(m, ServerMessage::Reconnecting { id, on: true } if *id == h).then_some(())
    })
    .await?;
    // A newcomer sees her, reconnecting, where she stood.
    let late = TestClient::join(&server, "Late").await?;
    let Some(ServerMessage::Welcome { participants, .. }) = &late.welcome else {
        anyhow::bail!("no welcome");
    };
    let seen = participants.iter().find(|p| p.id == id).expect("still in");
    assert!(seen.reconnecting);

    let mut back = TestClient::resume_at(server.addr(), "lobby", "Hanna", &token).await?;
    assert!(back.resumed());
    assert!(
        !matches!(
            back.welcome,
            Some(ServerMessage::Welcome {
                sfu_reset: true,
                ..
            })
        ),
        "the SFU kept her connections"
    );
    assert_eq!(back.id, id, "the same participant");
    assert_ne!(back.resume_token(), Some(token.as_str()), "a new token");
    let Some(ServerMessage::Welcome { participants, .. }) = &back.welcome else {
        anyhow::bail!("no welcome");
    };
    let me = participants
        .iter()
        .find(|p| p.id == id)
        .expect("in the room");
    assert_eq!((me.x, me.y), (500.0, 500.0), "her place");
    assert_eq!(me.circle, Some(circle), "her circle");
    assert_eq!(me.role, hallway_proto::Role::Host, "her role");
    assert!(me.hand, "her hand");
    assert!(me.media.mic, "her microphone");
    assert!(!me.reconnecting);

    // She offers an ICE restart to Ben, who waits for it.
    let b = ben.id.clone();
    back.wait_for("restart ICE with Ben", |m| {
        matches!(m, ServerMessage::Connect { peer, initiator: true, restart: true } if *peer == b)
            .then_some(())
    })
    .await?;
    ben.wait_for_without("Hanna back", not_gone, |m| {
        matches!(m, ServerMessage::Reconnecting { id, on: false } if *id == h).then_some(())
    })
    .await?;
    ben.wait_for_without("restart ICE with Hanna", not_gone, |m| {
        matches!(m, ServerMessage::Connect { peer, initiator: false, restart: true } if *peer == h)
            .then_some(())
    })
    .await?;
    // Signalling works again, both ways.
    back.signal(&ben.id, r#"{"description":"restart"}"#).await?;
    ben.wait_for("her signal", |m| {
        matches!(m, ServerMessage::Signal { from, .. } if *from == h).then_some(())
    })
    .await?;
    Ok(())
}

#[tokio::test]
async fn resuming_while_the_old_connection_is_open_replaces_it() -> Result<()> {
    let server = TestServer::start().await?;
    let (mut hanna, mut ben, _) = host_and_guest(&server).await?;
    let token = hanna.resume_token().unwrap_or("").to_owned();
    let back = TestClient::resume_at(server.addr(), "lobby", "Hanna", &token).await?;
    assert!(back.resumed());
    assert_eq!(back.id, hanna.id);
    assert_eq!(hanna.wait_closed().await?, Closed::with(close::REPLACED));
    // The old connection's end does not take her away: Ben sees no leave, and a later
    // message from her arrives.
    back.close().await?;
    let h = hanna.id.clone();
    ben.wait_for_without(
        "Hanna leaving from her new connection",
        |m| matches!(m, ServerMessage::Reconnecting { .. }),
        |m| matches!(m, ServerMessage::Left { id } if *id == h).then_some(()),
    )
    .await?;
    Ok(())
}

#[tokio::test]
async fn a_client_that_abandons_its_connection_keeps_its_place_and_one_that_closes_leaves()
-> Result<()> {
    let server = TestServer::start().await?;
    let (mut hanna, mut ben, _) = host_and_guest(&server).await?;
    let h = hanna.id.clone();
    hanna
        .send_frame(tokio_tungstenite::tungstenite::Message::Close(Some(
            CloseFrame {
                code: CloseCode::from(close::ABANDONED),
                reason: "reconnecting".into(),
            },
        )))
        .await?;
    ben.wait_for("Hanna reconnecting", |m| {
        matches!(m, ServerMessage::Reconnecting { id, on: true } if *id == h).then_some(())
    })
    .await?;
    let token = hanna.resume_token().unwrap_or("").to_owned();
    let back = TestClient::resume_at(server.addr(), "lobby", "Hanna", &token).await?;
    assert!(back.resumed());

    // A close with any other code is a goodbye: removed at once, without reconnecting.
    back.close().await?;
    ben.wait_for_without(
        "Hanna left",
        |m| matches!(m, ServerMessage::Reconnecting { on: true, .. }),
        |m| matches!(m, ServerMessage::Left { id } if *id == h).then_some(()),
    )
    .await?;
    Ok(())
}

/// A page that goes away closes with 1001 (a reload, or a closed tab): the others see the
/// person leave at once, never "reconnecting"; a reload that comes back with the token
/// re-enters as the same person, with role, hand (its time too) and media, where they
/// stood, and the circle forms again.
#[tokio::test]
async fn a_page_that_went_away_leaves_at_once_and_its_reload_comes_back_as_it_was() -> Result<()> {
    let server = TestServer::start().await?;
    let (mut hanna, mut ben, _) = host_and_guest(&server).await?;
    let h = hanna.id.clone();
    let hand_at = hanna
        .wait_for("her hand", |m| match m {
            ServerMessage::Hand { id, at, .. } if *id == h => *at,
            _ => None,
        })
        .await?;
    let token = hanna.resume_token().unwrap_or("").to_owned();
    hanna
        .send_frame(tokio_tungstenite::tungstenite::Message::Close(Some(
            CloseFrame {
                code: CloseCode::Away,
                reason: "".into(),
            },
        )))
        .await?;
    ben.wait_for_without(
        "Hanna left",
        |m| matches!(m, ServerMessage::Reconnecting { on: true, .. }),
        |m| matches!(m, ServerMessage::Left { id } if *id == h).then_some(()),
    )
    .await?;

    let back = TestClient::resume_at(server.addr(), "lobby", "Hanna", &token).await?;
    assert!(back.resumed(), "the reload is welcomed back");
    assert_eq!(back.id, h, "as the same person");
    let Some(ServerMessage::Welcome { participants, .. }) = &back.welcome else {
        anyhow::bail!("no welcome");
    };
    let me = participants
        .iter()
        .find(|p| p.id == h)
        .ok_or_else(|| anyhow::anyhow!("not in her own welcome"))?;
    assert_eq!(me.role, hallway_proto::Role::Host);
    assert!(
        me.hand && me.hand_at == Some(hand_at),
        "her hand keeps its place"
    );
    assert!(me.media.mic, "her microphone as it was");
    // Ben sees her come in and the two of them form a circle again where they stood.
    let members = [h.clone(), ben.id.clone()];
    ben.wait_for_circle_with(&members).await?;
    // The token she came back with stays good until she uses the newer one of her
    // welcome (a welcome lost on the way must not make her someone new); once she has,
    // the old one is spent and does not serve again (the page joins as someone new,
    // under a name of its own: a host's name is hers).
    let newer = back.resume_token().unwrap_or("").to_owned();
    assert_ne!(newer, token);
    let latest = TestClient::resume_at(server.addr(), "lobby", "Hanna", &newer).await?;
    assert!(latest.resumed());
    assert_eq!(latest.id, h, "the newer token brings back the same person");
    let again = TestClient::resume_at(server.addr(), "lobby", "Hanna Zwei", &token).await?;
    assert!(!again.resumed());
    Ok(())
}

/// The last person in a room reloads: the room is empty for a moment, and its chat is
/// still there when they come back (it goes when nobody is coming back).
#[tokio::test]
async fn the_last_person_reloading_keeps_the_rooms_chat() -> Result<()> {
    let server = TestServer::start().await?;
    let mut anna = TestClient::join(&server, "Anna").await?;
    anna.send(&ClientMessage::Chat {
        to: "room".into(),
        text: "Notizen: Raum 3".into(),
    })
    .await?;
    anna.wait_for("her message", |m| {
        matches!(m, ServerMessage::Chat { message } if message.text == "Notizen: Raum 3")
            .then_some(())
    })
    .await?;
    let token = anna.resume_token().unwrap_or("").to_owned();
    anna.send_frame(tokio_tungstenite::tungstenite::Message::Close(Some(
        CloseFrame {
            code: CloseCode::Away,
            reason: "".into(),
        },
    )))
    .await?;
    // Until the server has taken her out, a resume would find her still there.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let back = TestClient::resume_at(server.addr(), "lobby", "Anna", &token).await?;
    assert!(back.resumed());
    let Some(ServerMessage::Welcome { chat, .. }) = &back.welcome else {
        anyhow::bail!("no welcome");
    };
    assert!(
        chat.iter().any(|m| m.text == "Notizen: Raum 3"),
        "the chat is kept: {chat:?}"
    );
    Ok(())
}

/// A tab closed for good: its token stops working when the grace window ends.
#[tokio::test]
async fn a_closed_page_cannot_come_back_after_the_grace_window() -> Result<()> {
    let server = TestServer::start_with(|c| c.resume_grace = 1).await?;
    let (mut hanna, mut ben, _) = host_and_guest(&server).await?;
    let h = hanna.id.clone();
    let token = hanna.resume_token().unwrap_or("").to_owned();
    hanna
        .send_frame(tokio_tungstenite::tungstenite::Message::Close(Some(
            CloseFrame {
                code: CloseCode::Away,
                reason: "".into(),
            },
        )))
        .await?;
    // The window starts when the server has taken her out (Ben sees it); then it ends.
    ben.wait_for("Hanna left", |m| {
        matches!(m, ServerMessage::Left { id } if *id == h).then_some(())
    })
    .await?;
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    let again = TestClient::resume_at(server.addr(), "lobby", "Hanna", &token).await?;
    assert!(!again.resumed(), "a spent token joins someone new");
    assert_ne!(again.id, hanna.id);
    Ok(())
}

#[tokio::test]
async fn after_the_grace_window_the_participant_is_removed_once_and_the_token_is_spent()
-> Result<()> {
    let server = TestServer::start_with(|c| c.resume_grace = 1).await?;
    let (hanna, mut ben, circle) = host_and_guest(&server).await?;
    let (h, token) = (
        hanna.id.clone(),
        hanna.resume_token().unwrap_or("").to_owned(),
    );
    drop(hanna);
    ben.wait_for("the circle dissolved", |m| {
        matches!(m, ServerMessage::CircleDissolved { id } if *id == circle).then_some(())
    })
    .await?;
    ben.wait_for("Hanna left", |m| {
        matches!(m, ServerMessage::Left { id } if *id == h).then_some(())
    })
    .await?;
    let again = TestClient::resume_at(server.addr(), "lobby", "Hanna", &token).await?;
    assert!(!again.resumed(), "a spent token joins someone new");
    assert_ne!(again.id, h);
    // Exactly once: nothing more about her, up to the newcomer's arrival.
    let a = again.id.clone();
    ben.wait_for_without(
        "the newcomer",
        |m| matches!(m, ServerMessage::Left { id } if *id == h),
        |m| matches!(m, ServerMessage::Joined { participant } if participant.id == a).then_some(()),
    )
    .await?;
    Ok(())
}

#[tokio::test]
async fn ping_is_answered_with_pong() -> Result<()> {
    let server = TestServer::start().await?;
    let mut anna = TestClient::join(&server, "Anna").await?;
    anna.send(&ClientMessage::Ping).await?;
    anna.wait_for("pong", |m| matches!(m, ServerMessage::Pong).then_some(()))
        .await?;
    Ok(())
}
