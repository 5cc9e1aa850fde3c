//! Host powers, authorised per message: a non-host gets `forbidden` and nothing changes.

use anyhow::Result;
use hallway::access::TokenRole;
use hallway_proto::{ClientMessage, ErrorCode, ServerMessage, close};
use hallway_tests::{Closed, TestClient, TestServer};

async fn host(server: &TestServer) -> Result<TestClient> {
    TestClient::join_host(server, "lobby", "Hanna Host").await
}

fn mute(id: &str) -> ClientMessage {
    ClientMessage::Mute { id: id.into() }
}

#[tokio::test]
async fn participants_cannot_use_host_powers_and_nothing_changes() -> Result<()> {
    let server = TestServer::start().await?;
    let mut mallory = TestClient::join(&server, "Mallory").await?;
    let mut victim = TestClient::join(&server, "Victor").await?;
    victim
        .send(&ClientMessage::Media {
            mic: true,
            camera: true,
            screen: false,
        })
        .await?;
    let v = victim.id.clone();
    victim
        .wait_for("own media", |m| {
            matches!(m, ServerMessage::Media { id, .. } if *id == v).then_some(())
        })
        .await?;
    for attempt in [
        mute(&victim.id),
        ClientMessage::Remove {
            id: victim.id.clone(),
            ban: true,
        },
        ClientMessage::LockRoom { locked: true },
        ClientMessage::Gather {
            x: Some(100.0),
            y: Some(100.0),
            area: None,
        },
        ClientMessage::Announce {
            text: "Free beer in the lobby".into(),
        },
    ] {
        mallory.send(&attempt).await?;
        assert_eq!(
            mallory.expect_error().await?.0,
            ErrorCode::Forbidden,
            "for {}",
            attempt.kind()
        );
    }
    // Nothing changed: the victim is still here and unmuted, the room open, no banner.
    let late = TestClient::join(&server, "Late").await?;
    let Some(ServerMessage::Welcome {
        participants,
        locked,
        announcement,
        ..
    }) = &late.welcome
    else {
        panic!()
    };
    let victor = participants
        .iter()
        .find(|p| p.id == victim.id)
        .expect("still in the room");
    assert!(victor.media.mic);
    assert!(!locked);
    assert_eq!(announcement, &None);
    // And the victim heard of none of it: their next message is their own media change.
    victim
        .send(&ClientMessage::Media {
            mic: true,
            camera: false,
            screen: false,
        })
        .await?;
    victim
        .wait_for_without(
            "own media",
            |m| {
                matches!(
                    m,
                    ServerMessage::Muted { .. }
                        | ServerMessage::Announcement { .. }
                        | ServerMessage::RoomLocked { .. }
                )
            },
            |m| {
                matches!(m, ServerMessage::Media { id, state } if *id == v && !state.camera)
                    .then_some(())
            },
        )
        .await?;
    Ok(())
}

#[tokio::test]
async fn a_host_mutes_a_participant() -> Result<()> {
    let server = TestServer::start().await?;
    let mut hanna = host(&server).await?;
    let mut ben = TestClient::join(&server, "Ben").await?;
    ben.send(&ClientMessage::Media {
        mic: true,
        camera: true,
        screen: false,
    })
    .await?;
    let b = ben.id.clone();
    hanna
        .wait_for("Ben's mic on", |m| {
            matches!(m, ServerMessage::Media { id, state } if *id == b && state.mic).then_some(())
        })
        .await?;
    hanna.send(&mute(&ben.id)).await?;
    let by = ben
        .wait_for("muted", |m| match m {
            ServerMessage::Muted { by } => Some(by.clone()),
            _ => None,
        })
        .await?;
    assert_eq!(by, hanna.id);
    hanna
        .wait_for("Ben's mic off", |m| {
            matches!(m, ServerMessage::Media { id, state } if *id == b && !state.mic).then_some(())
        })
        .await?;
    // Ben may unmute himself.
    ben.send(&ClientMessage::Media {
        mic: true,
        camera: true,
        screen: false,
    })
    .await?;
    hanna
        .wait_for("Ben's mic on again", |m| {
            matches!(m, ServerMessage::Media { id, state } if *id == b && state.mic).then_some(())
        })
        .await?;
    Ok(())
}

#[tokio::test]
async fn a_removed_participant_is_closed_and_a_ban_holds_against_older_links() -> Result<()> {
    let server = TestServer::start().await?;
    let mut hanna = host(&server).await?;
    let invitation = server.token("lobby", TokenRole::Participant, Some("Mallory"));
    let older_invitation = server.token("lobby", TokenRole::Participant, Some("Mallory"));
    let mut mallory = TestClient::join_with_token(&server, "lobby", "x", &invitation).await?;
    let mut guest = TestClient::join(&server, "Gast").await?;

    // Removed without a ban: closed with 4003, may come back.
    hanna
        .send(&ClientMessage::Remove {
            id: guest.id.clone(),
            ban: false,
        })
        .await?;
    assert_eq!(guest.wait_closed().await?, Closed::with(close::REMOVED));
    let g = guest.id.clone();
    hanna
        .wait_for("the guest left", |m| {
            matches!(m, ServerMessage::Left { id } if *id == g).then_some(())
        })
        .await?;
    TestClient::join(&server, "Gast").await?;

    // Removed and banned: closed with 4004; the same link and an older one for the name
    // are refused; a new invitation minted after the ban works.
    hanna
        .send(&ClientMessage::Remove {
            id: mallory.id.clone(),
            ban: true,
        })
        .await?;
    assert_eq!(mallory.wait_closed().await?, Closed::with(close::BANNED));
    for token in [&invitation, &older_invitation] {
        let mut again = TestClient::connect(&server).await?;
        again.hello_with_token("lobby", "Mallory", token).await?;
        assert_eq!(again.expect_error().await?.0, ErrorCode::Banned);
        assert_eq!(again.wait_closed().await?.code, Some(close::REFUSED));
    }
    // Tokens carry whole seconds: a new invitation, minted a second after the ban (a
    // ban reaches back to the invitations minted until its second).
    let now = hallway::clock::now_secs();
    let fresh = server.tokens().mint_at(
        "lobby",
        TokenRole::Participant,
        Some("Mallory"),
        None,
        now + 1,
        now + 3600,
    );
    TestClient::join_with_token(&server, "lobby", "x", &fresh).await?;

    // A host cannot remove themselves.
    let me = hanna.id.clone();
    hanna
        .send(&ClientMessage::Remove { id: me, ban: false })
        .await?;
    assert_eq!(hanna.expect_error().await?.0, ErrorCode::Forbidden);
    Ok(())
}

#[tokio::test]
async fn a_locked_room_admits_only_hosts_and_announcements_reach_everyone() -> Result<()> {
    let server = TestServer::start().await?;
    let mut hanna = host(&server).await?;
    let mut ben = TestClient::join(&server, "Ben").await?;
    hanna
        .send(&ClientMessage::LockRoom { locked: true })
        .await?;
    ben.wait_for("locked", |m| {
        matches!(m, ServerMessage::RoomLocked { locked: true }).then_some(())
    })
    .await?;
    let mut late = TestClient::connect(&server).await?;
    late.hello("lobby", "Late").await?;
    assert_eq!(late.expect_error().await?.0, ErrorCode::RoomLocked);
    let second_host = host(&server).await?;
    let Some(ServerMessage::Welcome { locked, .. }) = &second_host.welcome else {
        panic!()
    };
    assert!(locked);

    hanna
        .send(&ClientMessage::Announce {
            text: "  Keynote in 5 minutes  ".into(),
        })
        .await?;
    let text = ben
        .wait_for("announcement", |m| match m {
            ServerMessage::Announcement { text } => Some(text.clone()),
            _ => None,
        })
        .await?;
    assert_eq!(text.as_deref(), Some("Keynote in 5 minutes"));
    hanna
        .send(&ClientMessage::LockRoom { locked: false })
        .await?;
    ben.wait_for("unlocked", |m| {
        matches!(m, ServerMessage::RoomLocked { locked: false }).then_some(())
    })
    .await?;
    let newcomer = TestClient::join(&server, "Newcomer").await?;
    let Some(ServerMessage::Welcome { announcement, .. }) = &newcomer.welcome else {
        panic!()
    };
    assert_eq!(announcement.as_deref(), Some("Keynote in 5 minutes"));

    hanna
        .send(&ClientMessage::Announce {
            text: "x".repeat(501),
        })
        .await?;
    assert_eq!(
        hanna.expect_error().await?.0,
        ErrorCode::InvalidAnnouncement
    );
    hanna
        .send(&ClientMessage::Announce {
            text: String::new(),
        })
        .await?;
    ben.wait_for("cleared", |m| {
        matches!(m, ServerMessage::Announcement { text: None }).then_some(())
    })
    .await?;
    Ok(())
}

#[tokio::test]
async fn the_stage_hosts_and_invited_participants_broadcast() -> Result<()> {
    let server = TestServer::start().await?;
    let mut hanna = host(&server).await?;
    let mut speaker = TestClient::join(&server, "Speaker").await?;
    let mut listener = TestClient::join(&server, "Listener").await?;
    // Uninvited, a participant may not broadcast, nor invite anyone.
    speaker.send(&ClientMessage::Broadcast { on: true }).await?;
    assert_eq!(speaker.expect_error().await?.0, ErrorCode::Forbidden);
    speaker
        .send(&ClientMessage::InviteToBroadcast {
            id: listener.id.clone(),
        })
        .await?;
    assert_eq!(speaker.expect_error().await?.0, ErrorCode::Forbidden);
    // Invited by a host, they may.
    hanna
        .send(&ClientMessage::InviteToBroadcast {
            id: speaker.id.clone(),
        })
        .await?;
    let by = speaker
        .wait_for("the invitation", |m| match m {
            ServerMessage::BroadcastInvite { by } => Some(by.clone()),
            _ => None,
        })
        .await?;
    assert_eq!(by, hanna.id);
    speaker.send(&ClientMessage::Broadcast { on: true }).await?;
    let s = speaker.id.clone();
    listener
        .wait_for("on air", |m| {
            matches!(m, ServerMessage::Broadcast { id, on: true } if *id == s).then_some(())
        })
        .await?;
    let late = TestClient::join(&server, "Late").await?;
    let Some(ServerMessage::Welcome { broadcasters, .. }) = &late.welcome else {
        panic!("no welcome")
    };
    assert_eq!(broadcasters, &vec![speaker.id.clone()]);
    // Leaving the room ends the broadcast for everyone.
    speaker.close().await?;
    listener
        .wait_for("off air", |m| {
            matches!(m, ServerMessage::Broadcast { id, on: false } if *id == s).then_some(())
        })
        .await?;
    Ok(())
}

#[tokio::test]
async fn at_most_sixteen_broadcast_at_once() -> Result<()> {
    let server = TestServer::start().await?;
    let mut hosts = Vec::new();
    for _ in 0..17 {
        hosts.push(host(&server).await?);
    }
    for h in hosts.iter_mut().take(16) {
        h.send(&ClientMessage::Broadcast { on: true }).await?;
        let me = h.id.clone();
        h.wait_for("own broadcast", |m| {
            matches!(m, ServerMessage::Broadcast { id, on: true } if *id == me).then_some(())
        })
        .await?;
    }
    hosts[16]
        .send(&ClientMessage::Broadcast { on: true })
        .await?;
    assert_eq!(hosts[16].expect_error().await?.0, ErrorCode::OnAirFull);
    Ok(())
}

#[tokio::test]
async fn a_host_edits_areas_live_and_the_rules_follow() -> Result<()> {
    use hallway_proto::AreaInfo;
    let server = TestServer::start().await?;
    let mut hanna = host(&server).await?;
    let mut a = TestClient::join(&server, "Anna").await?;
    let mut b = TestClient::join(&server, "Ben").await?;
    let quiet = AreaInfo {
        id: 1,
        name: "Bibliothek".into(),
        x: 0.0,
        y: 0.0,
        width: 800.0,
        height: 800.0,
        stage: false,
        quiet: true,
        max_people: None,
    };
    a.send(&ClientMessage::SetAreas {
        areas: vec![quiet.clone()],
    })
    .await?;
    assert_eq!(a.expect_error().await?.0, ErrorCode::Forbidden);
    let mut outside = quiet.clone();
    outside.x = 2000.0;
    hanna
        .send(&ClientMessage::SetAreas {
            areas: vec![outside],
        })
        .await?;
    assert_eq!(hanna.expect_error().await?.0, ErrorCode::InvalidAreas);

    hanna
        .send(&ClientMessage::SetAreas {
            areas: vec![quiet.clone()],
        })
        .await?;
    let areas = b
        .wait_for("the new areas", |m| match m {
            ServerMessage::Areas { areas } => Some(areas.clone()),
            _ => None,
        })
        .await?;
    assert_eq!(areas, vec![quiet.clone()]);
    // The quiet area keeps a circle from forming inside it.
    a.move_to(500.0, 500.0).await?;
    b.move_to(550.0, 500.0).await?;
    b.move_to(560.0, 500.0).await?;
    let b_id = b.id.clone();
    a.wait_for_without(
        "Ben's second step",
        |m| matches!(m, ServerMessage::CircleChanged { .. }),
        |m| match m {
            ServerMessage::Tick { positions, .. } => positions
                .iter()
                .any(|(id, x, _)| *id == b_id && *x == 560.0)
                .then_some(()),
            _ => None,
        },
    )
    .await?;
    let late = TestClient::join(&server, "Late").await?;
    let Some(ServerMessage::Welcome { areas, .. }) = &late.welcome else {
        panic!("no welcome")
    };
    assert_eq!(areas, &vec![quiet]);
    Ok(())
}
