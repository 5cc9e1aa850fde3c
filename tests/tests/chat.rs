//! Chat to the room, to one's circle and to one person; limits; the history late joiners
//! see, and its end when the room empties.

use anyhow::Result;
use hallway_proto::{ChatInfo, ClientMessage, ErrorCode, ServerMessage, limits};
use hallway_tests::{TestClient, TestServer};

async fn say(client: &mut TestClient, to: &str, text: &str) -> Result<()> {
    client
        .send(&ClientMessage::Chat {
            to: to.into(),
            text: text.into(),
        })
        .await
}

async fn heard(client: &mut TestClient, text: &str) -> Result<ChatInfo> {
    let text = text.to_owned();
    client
        .wait_for("a chat message", |m| match m {
            ServerMessage::Chat { message } if message.text == text => Some(message.clone()),
            _ => None,
        })
        .await
}

/// Waits for `text`, failing if any other chat message comes first.
async fn heard_only(client: &mut TestClient, text: &str) -> Result<ChatInfo> {
    let wanted = text.to_owned();
    client
        .wait_for_without(
            "a chat message",
            |m| matches!(m, ServerMessage::Chat { message } if message.text != wanted),
            |m| match m {
                ServerMessage::Chat { message } => Some(message.clone()),
                _ => None,
            },
        )
        .await
}

#[tokio::test]
async fn room_circle_and_direct_messages_reach_exactly_their_people() -> Result<()> {
    let server = TestServer::start().await?;
    let mut a = TestClient::join(&server, "Anna").await?;
    let mut b = TestClient::join(&server, "Ben").await?;
    let mut c = TestClient::join(&server, "Chris").await?;
    a.move_to(500.0, 500.0).await?;
    b.move_to(550.0, 500.0).await?;
    a.wait_for_circle_with(&[a.id.clone(), b.id.clone()])
        .await?;
    b.wait_for_circle_with(&[a.id.clone(), b.id.clone()])
        .await?;

    // To the room: everyone, with the true sender and name. Whatever a client adds as
    // "from" is ignored.
    a.send_text(&format!(
        r#"{{"type":"chat","to":"room","text":" Hallo alle! ","from":"{}"}}"#,
        c.id
    ))
    .await?;
    let a_id = a.id.clone();
    for client in [&mut a, &mut b, &mut c] {
        let message = heard(client, "Hallo alle!").await?;
        assert_eq!(
            (
                message.from.as_str(),
                message.name.as_str(),
                message.to.as_str()
            ),
            (a_id.as_str(), "Anna", "room")
        );
    }

    // To the circle: Anna and Ben, not Chris (his next message is the barrier).
    say(&mut a, "circle", "Just us two").await?;
    assert_eq!(heard(&mut b, "Just us two").await?.to, "circle");
    heard(&mut a, "Just us two").await?;
    // Direct: Chris to Ben; Anna does not see it, Chris sees his own.
    say(&mut c, &b.id, "Psst, Ben").await?;
    assert_eq!(heard(&mut b, "Psst, Ben").await?.to, b.id);
    assert_eq!(heard(&mut c, "Psst, Ben").await?.to, b.id);
    say(&mut c, "room", "barrier").await?;
    heard_only(&mut c, "barrier").await?;
    heard_only(&mut a, "barrier").await?;
    Ok(())
}

#[tokio::test]
async fn bad_chat_is_refused_with_a_typed_error() -> Result<()> {
    let server = TestServer::start().await?;
    let mut a = TestClient::join(&server, "Anna").await?;
    say(&mut a, "room", "   ").await?;
    assert_eq!(a.expect_error().await?.0, ErrorCode::InvalidChat);
    say(&mut a, "room", &"x".repeat(limits::MAX_CHAT_CHARS + 1)).await?;
    assert_eq!(a.expect_error().await?.0, ErrorCode::InvalidChat);
    say(&mut a, "room", "bell \u{7}").await?;
    assert_eq!(a.expect_error().await?.0, ErrorCode::InvalidChat);
    say(&mut a, "circle", "nobody here").await?;
    assert_eq!(a.expect_error().await?.0, ErrorCode::NotInCircle);
    say(&mut a, "zzzzzzzzzzz", "hello?").await?;
    assert_eq!(a.expect_error().await?.0, ErrorCode::UnknownParticipant);
    say(&mut a, "nobody", "hello?").await?;
    assert_eq!(a.expect_error().await?.0, ErrorCode::UnknownParticipant);
    let me = a.id.clone();
    say(&mut a, &me, "myself").await?;
    assert_eq!(a.expect_error().await?.0, ErrorCode::UnknownParticipant);
    // A flood is cut at the limit.
    for i in 0..(limits::CHAT_BURST * 2) {
        say(&mut a, "room", &format!("spam {i}")).await?;
    }
    a.wait_for("rate limited", |m| {
        matches!(
            m,
            ServerMessage::Error {
                code: ErrorCode::RateLimited,
                ..
            }
        )
        .then_some(())
    })
    .await?;
    Ok(())
}

#[tokio::test]
async fn late_joiners_read_the_last_room_messages_until_the_room_empties() -> Result<()> {
    let server = TestServer::start().await?;
    let mut listener = TestClient::join(&server, "Listener").await?;
    // More than the history holds, each speaker within its burst allowance.
    let total = limits::CHAT_HISTORY + 6;
    let per_speaker = limits::CHAT_BURST as usize;
    let mut speakers = Vec::new();
    for k in 0..total.div_ceil(per_speaker) {
        speakers.push(TestClient::join(&server, &format!("Speaker {k}")).await?);
    }
    for i in 0..total {
        say(
            &mut speakers[i / per_speaker],
            "room",
            &format!("message {i}"),
        )
        .await?;
        heard(&mut listener, &format!("message {i}")).await?;
    }
    let late = TestClient::join(&server, "Late").await?;
    let Some(ServerMessage::Welcome { chat, .. }) = &late.welcome else {
        panic!("no welcome")
    };
    assert_eq!(chat.len(), limits::CHAT_HISTORY);
    assert_eq!(
        chat.last().map(|m| m.text.as_str()),
        Some(format!("message {}", total - 1).as_str())
    );
    assert_eq!(
        chat.first().map(|m| m.text.as_str()),
        Some(format!("message {}", total - limits::CHAT_HISTORY).as_str())
    );

    // Everyone leaves: the history is gone.
    let mut late = late;
    let mut gone: Vec<String> = speakers.iter().map(|s| s.id.clone()).collect();
    gone.push(listener.id.clone());
    for speaker in speakers {
        speaker.close().await?;
    }
    listener.close().await?;
    let mut gone: std::collections::HashSet<String> = gone.into_iter().collect();
    late.wait_for("everyone else to leave", |m| {
        if let ServerMessage::Left { id } = m {
            gone.remove(id);
        }
        gone.is_empty().then_some(())
    })
    .await?;
    late.close().await?;
    let mut fresh = None;
    for _ in 0..50 {
        let client = TestClient::join(&server, "Fresh").await?;
        let Some(ServerMessage::Welcome {
            participants, chat, ..
        }) = &client.welcome
        else {
            panic!("no welcome")
        };
        if participants.len() == 1 {
            fresh = Some(chat.len());
            break;
        }
        // The last one's leave has not been processed yet; try again.
        client.close().await?;
    }
    assert_eq!(fresh, Some(0), "an emptied room keeps no chat");
    Ok(())
}

/// What protocol.md promises of a message's text: line breaks (CR and CRLF arrive as
/// `\n`) and tabs are kept; other control characters and bidirectional overrides are
/// refused with `invalid_chat`.
#[tokio::test]
async fn line_breaks_arrive_as_newlines_and_tabs_stay() -> Result<()> {
    let server = TestServer::start().await?;
    let mut a = TestClient::join(&server, "Anna").await?;
    let mut b = TestClient::join(&server, "Ben").await?;
    say(
        &mut a,
        "room",
        "Agenda:\r\n1.\tBegrüßung\r2.\tFehlerkultur\n",
    )
    .await?;
    heard_only(&mut b, "Agenda:\n1.\tBegrüßung\n2.\tFehlerkultur").await?;
    for bad in ["bell\u{7}", "rechts\u{202E}links", "escape\u{1b}[31m"] {
        say(&mut a, "room", bad).await?;
        let (code, _) = a.expect_error().await?;
        assert_eq!(code, ErrorCode::InvalidChat, "{bad:?}");
    }
    Ok(())
}
