//! Profile lines: an optional line beside the name (organisation and topics) that everyone
//! in the room sees, refused with its own error when it could mislead, fixed by a personal
//! invitation, and kept through a reload.

use anyhow::{Result, anyhow};
use hallway_proto::server::ParticipantInfo;
use hallway_proto::{ErrorCode, ServerMessage, close};
use hallway_tests::hello::Hello;
use hallway_tests::{TestClient, TestServer};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

const BAMBERG: &str = "Stadt Bamberg · Smart City, Bürgerbeteiligung";

/// The participant `id` as `client`'s welcome lists them.
fn in_welcome<'a>(client: &'a TestClient, id: &str) -> Result<&'a ParticipantInfo> {
    let Some(ServerMessage::Welcome { participants, .. }) = &client.welcome else {
        return Err(anyhow!("no welcome"));
    };
    participants
        .iter()
        .find(|p| p.id == id)
        .ok_or_else(|| anyhow!("{id} is not in the welcome"))
}

#[tokio::test]
async fn a_profile_line_is_seen_by_everyone_and_a_blank_one_is_none() -> Result<()> {
    let server = TestServer::start().await?;
    let mut ben = TestClient::join(&server, "Ben").await?;
    // Trimmed, as names are.
    let anna = TestClient::join_with(
        &server,
        &Hello::new("lobby", "Anna").profile(&format!("  {BAMBERG}  ")),
    )
    .await?;
    assert_eq!(
        in_welcome(&anna, &anna.id)?.profile.as_deref(),
        Some(BAMBERG)
    );
    let id = anna.id.clone();
    let seen = ben
        .wait_for("Anna joins", |m| match m {
            ServerMessage::Joined { participant } if participant.id == id => {
                Some(participant.profile.clone())
            }
            _ => None,
        })
        .await?;
    assert_eq!(seen.as_deref(), Some(BAMBERG));
    // Someone who comes later sees it in their welcome.
    let dana = TestClient::join(&server, "Dana").await?;
    assert_eq!(in_welcome(&dana, &id)?.profile.as_deref(), Some(BAMBERG));
    assert_eq!(in_welcome(&dana, &ben.id)?.profile, None);
    // A blank line is no line, and the wire leaves the field out.
    let carl = TestClient::join_with(&server, &Hello::new("lobby", "Carl").profile("   ")).await?;
    assert_eq!(in_welcome(&carl, &carl.id)?.profile, None);
    Ok(())
}

#[tokio::test]
async fn a_misleading_or_long_profile_line_is_refused_with_its_own_error() -> Result<()> {
    let server = TestServer::start().await?;
    let mut ben = TestClient::join(&server, "Ben").await?;
    let refused = [
        "x".repeat(81),
        "Stadt \u{202E}grebmaB".to_owned(),
        "Amt\nfür Digitales".to_owned(),
        "\u{200B}\u{2060}".to_owned(),
        "· — ·".to_owned(),
    ];
    for line in &refused {
        let mut client = TestClient::connect(&server).await?;
        client
            .send(&Hello::new("lobby", "Eva").profile(line).message())
            .await?;
        let (code, _) = client.expect_error().await?;
        assert_eq!(code, ErrorCode::InvalidProfile, "{line:?}");
        assert_eq!(
            client.wait_closed().await?.code,
            Some(close::REFUSED),
            "{line:?}"
        );
    }
    // Exactly 80 characters (umlauts count as one) and joiners in an emoji are fine.
    let longest = format!("{}ä", "x".repeat(79));
    TestClient::join_with(&server, &Hello::new("lobby", "Eva").profile(&longest)).await?;
    TestClient::join_with(
        &server,
        &Hello::new("lobby", "Finn").profile("Open Data 👩\u{200D}💻"),
    )
    .await?;
    // Nobody refused ever entered the room: Ben sees Eva and Finn join, no one else.
    let mut names = Vec::new();
    while names.len() < 2 {
        if let ServerMessage::Joined { participant } = ben.next_message().await? {
            names.push(participant.name);
        }
    }
    assert_eq!(names, ["Eva", "Finn"]);
    Ok(())
}

#[tokio::test]
async fn an_invitation_fixes_the_line_and_without_one_the_person_writes_their_own() -> Result<()> {
    let server = TestServer::start().await?;
    let in_a_day = hallway::clock::now_secs() + 24 * 3600;
    let fixed = server.tokens().mint_fixed(
        "lobby",
        hallway::access::TokenRole::Participant,
        Some("Anna Roth"),
        Some(BAMBERG),
        in_a_day,
    );
    let anna = TestClient::join_with(
        &server,
        &Hello::new("lobby", "Someone")
            .profile("Ministry of Silly Walks")
            .token(&fixed),
    )
    .await?;
    let me = in_welcome(&anna, &anna.id)?;
    assert_eq!(
        (me.name.as_str(), me.profile.as_deref()),
        ("Anna Roth", Some(BAMBERG))
    );
    // An invitation that fixes only the name leaves the line to the person.
    let name_only = server.token(
        "lobby",
        hallway::access::TokenRole::Participant,
        Some("Ben Okafor"),
    );
    let ben = TestClient::join_with(
        &server,
        &Hello::new("lobby", "x")
            .profile("Bundesamt · Open Data")
            .token(&name_only),
    )
    .await?;
    assert_eq!(
        in_welcome(&ben, &ben.id)?.profile.as_deref(),
        Some("Bundesamt · Open Data")
    );
    Ok(())
}

/// A reload (the page closes with 1001 and comes back with its resume token) keeps the line.
#[tokio::test]
async fn a_reload_keeps_the_profile_line() -> Result<()> {
    let server = TestServer::start().await?;
    let mut ben = TestClient::join(&server, "Ben").await?;
    let mut anna =
        TestClient::join_with(&server, &Hello::new("lobby", "Anna").profile(BAMBERG)).await?;
    let id = anna.id.clone();
    let token = anna.resume_token().unwrap_or_default().to_owned();
    anna.send_frame(Message::Close(Some(CloseFrame {
        code: CloseCode::Away,
        reason: "".into(),
    })))
    .await?;
    ben.wait_for("Anna left", |m| {
        matches!(m, ServerMessage::Left { id: left } if *left == id).then_some(())
    })
    .await?;
    // The page says hello again with its resume token (and no line: it is the server's).
    let back = TestClient::join_with(&server, &Hello::new("lobby", "Anna").resume(&token)).await?;
    assert!(back.resumed());
    assert_eq!(in_welcome(&back, &id)?.profile.as_deref(), Some(BAMBERG));
    let seen = ben
        .wait_for("Anna is back", |m| match m {
            ServerMessage::Joined { participant } if participant.id == id => {
                Some(participant.profile.clone())
            }
            _ => None,
        })
        .await?;
    assert_eq!(seen.as_deref(), Some(BAMBERG));
    Ok(())
}
