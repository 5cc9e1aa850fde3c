//! Names others read cannot mislead them: a display name needs a visible letter or digit
//! and takes no control, bidirectional or invisible characters; nobody takes a host's
//! name; announcements, area names and room titles refuse the same characters.

use anyhow::Result;
use hallway_proto::server::AreaInfo;
use hallway_proto::{ClientMessage, ErrorCode, ServerMessage, close};
use hallway_tests::admin::create_room;
use hallway_tests::{TestClient, TestServer};

const KEY: &str = "an-admin-key-for-the-tests-0123456789";

async fn refused(server: &TestServer, name: &str) -> Result<ErrorCode> {
    let mut client = TestClient::connect(server).await?;
    client.hello("lobby", name).await?;
    let (code, _) = client.expect_error().await?;
    assert_eq!(
        client.wait_closed().await?.code,
        Some(close::REFUSED),
        "{name:?}"
    );
    Ok(code)
}

/// Sends `message` and returns the error code it is answered with.
async fn answer(client: &mut TestClient, message: &ClientMessage) -> Result<ErrorCode> {
    client.send(message).await?;
    Ok(client.expect_error().await?.0)
}

#[tokio::test]
async fn names_of_invisible_or_format_characters_are_refused() -> Result<()> {
    let server = TestServer::start().await?;
    // What the outside probe got in with, alone and beside a visible name.
    let invisible = [
        "\u{200B}",
        "\u{200D}",
        "\u{3164}",
        "\u{00AD}",
        "\u{200F}",
        "\u{061C}",
        "\u{2028}",
        "\u{FEFF}",
        "\u{E0041}\u{E0042}",
    ];
    for c in invisible {
        // (Inside the name: white space at its ends, U+2028 included, is trimmed.)
        for name in [c.repeat(3), format!("An{c}na"), format!("Anna {c}Schmidt")] {
            // A lone ZWJ between visible letters is a joiner (emoji, Indic scripts).
            if c == "\u{200D}" && name != c.repeat(3) {
                continue;
            }
            assert_eq!(
                refused(&server, &name).await?,
                ErrorCode::InvalidName,
                "{name:?}"
            );
        }
    }
    for name in [
        "- - -",
        "\u{2800}\u{2800}",
        "Anna\u{202E}neB",
        "Anna\u{2066}B",
    ] {
        assert_eq!(
            refused(&server, name).await?,
            ErrorCode::InvalidName,
            "{name:?}"
        );
    }
    // Names as people write them stay: a Persian name with its ZWNJ, an emoji sequence,
    // accents, a digit.
    for name in [
        "مهر\u{200C}انگیز",
        "Ada 👩\u{200D}💻",
        "Zoë Ørsted-Ñúñez",
        "Team 7",
    ] {
        TestClient::join(&server, name).await?;
    }
    Ok(())
}

#[tokio::test]
async fn nobody_passes_for_a_host() -> Result<()> {
    let server = TestServer::start().await?;
    let _hanna = TestClient::join_host(&server, "lobby", "Hanna Schmidt").await?;
    for name in [
        "Hanna Schmidt",
        "hanna schmidt",
        "HANNA   SCHMIDT",
        "\u{FF28}anna Schmidt", // a fullwidth H
        "Han\u{200D}na Schmidt",
    ] {
        assert_eq!(
            refused(&server, name).await?,
            ErrorCode::NameTaken,
            "{name:?}"
        );
    }
    // Another name, and a participant's name taken twice, are fine (numbers tell them
    // apart on the pages).
    TestClient::join(&server, "Hanna Schmidtke").await?;
    TestClient::join(&server, "Ben Okafor").await?;
    TestClient::join(&server, "Ben Okafor").await?;
    // A second host may share the name (both are hosts), and so may someone whose
    // personal invitation fixes that name (whoever minted it chose it).
    TestClient::join_host(&server, "lobby", "Hanna Schmidt").await?;
    let invited = server.token(
        "lobby",
        hallway::access::TokenRole::Participant,
        Some("Hanna Schmidt"),
    );
    TestClient::join_with_token(&server, "lobby", "x", &invited).await?;
    // Invisible code points browsers draw as nothing, unassigned ones included, do not
    // make the name another.
    assert_eq!(
        refused(&server, "Hanna Schmidt\u{E01F0}").await?,
        ErrorCode::InvalidName
    );
    Ok(())
}

/// A host whose page reloads is out of the room for a moment (parked): their name stays
/// theirs, and they come back as themselves.
#[tokio::test]
async fn a_reloading_hosts_name_stays_theirs() -> Result<()> {
    use tokio_tungstenite::tungstenite::Message;
    use tokio_tungstenite::tungstenite::protocol::CloseFrame;
    use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
    let server = TestServer::start().await?;
    let mut hanna = TestClient::join_host(&server, "lobby", "Hanna Schmidt").await?;
    let mut ben = TestClient::join(&server, "Ben").await?;
    let token = hanna.resume_token().unwrap_or("").to_owned();
    let h = hanna.id.clone();
    hanna
        .send_frame(Message::Close(Some(CloseFrame {
            code: CloseCode::Away,
            reason: "".into(),
        })))
        .await?;
    ben.wait_for("Hanna's page went away", |m| {
        matches!(m, ServerMessage::Left { id } if *id == h).then_some(())
    })
    .await?;
    assert_eq!(
        refused(&server, "hanna schmidt").await?,
        ErrorCode::NameTaken
    );
    let back = TestClient::resume_at(server.addr(), "lobby", "Hanna Schmidt", &token).await?;
    assert!(back.resumed());
    Ok(())
}

#[tokio::test]
async fn announcements_areas_and_titles_refuse_the_same_characters() -> Result<()> {
    let server = TestServer::start_with(|c| c.admin_key = Some(KEY.into())).await?;
    let mut hanna = TestClient::join_host(&server, "lobby", "Hanna").await?;
    for text in ["Keynote\u{202E}etoN", "Pause\u{2067}x", "bell\u{7}"] {
        let announce = ClientMessage::Announce { text: text.into() };
        assert_eq!(
            answer(&mut hanna, &announce).await?,
            ErrorCode::InvalidAnnouncement,
            "{text:?}"
        );
    }
    // Line breaks (CRLF as \n), a right-to-left mark in Arabic text and a zero-width
    // space as pasted from elsewhere stay allowed in an announcement.
    hanna
        .send(&ClientMessage::Announce {
            text: "Keynote um 10 Uhr\r\nRaum A – مرحبا\u{200F}\u{200B}".into(),
        })
        .await?;
    let said = hanna
        .wait_for("the announcement", |m| match m {
            ServerMessage::Announcement { text: Some(text) } => Some(text.clone()),
            _ => None,
        })
        .await?;
    assert_eq!(said, "Keynote um 10 Uhr\nRaum A – مرحبا\u{200F}\u{200B}");

    let area = |name: &str| AreaInfo {
        id: 1,
        name: name.into(),
        x: 0.0,
        y: 0.0,
        width: 400.0,
        height: 400.0,
        stage: false,
        quiet: false,
        max_people: None,
    };
    for name in ["Bühne\u{202E}", "\u{3164}", "Foyer\u{200B}", " "] {
        let areas = ClientMessage::SetAreas {
            areas: vec![area(name)],
        };
        assert_eq!(
            answer(&mut hanna, &areas).await?,
            ErrorCode::InvalidAreas,
            "{name:?}"
        );
    }

    // An area may be named by a symbol alone.
    hanna
        .send(&ClientMessage::SetAreas {
            areas: vec![area("☕")],
        })
        .await?;
    hanna
        .wait_for("the areas", |m| {
            matches!(m, ServerMessage::Areas { areas } if areas[0].name == "☕").then_some(())
        })
        .await?;

    for title in ["Fehler\u{202E}kultur", "\u{200B}", "Tag\u{2028}2"] {
        let body = serde_json::json!({ "slug": "salon", "title": title }).to_string();
        let (status, text) = create_room(server.addr(), KEY, &body).await?;
        assert_eq!(status, 422, "{title:?}: {text}");
    }
    let body = serde_json::json!({ "slug": "salon", "title": "Fehlerkultur – Lernen" }).to_string();
    let (status, text) = create_room(server.addr(), KEY, &body).await?;
    assert_eq!(status, 201, "{text}");
    Ok(())
}
