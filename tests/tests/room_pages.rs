//! A room's address before anyone enters: a room that does not exist is a 404 page in
//! German and English, before any name is asked for; `/r/<room>/about` says what the
//! page needs before the name field, and nothing about the people inside.

use anyhow::Result;
use hallway_proto::{ClientMessage, ServerMessage};
use hallway_tests::http::exchange;
use hallway_tests::{TestClient, TestServer};
use serde_json::{Value, json};

const KEY: &str = "an-admin-key-for-the-room-page-tests-0123";

#[tokio::test]
async fn a_room_that_does_not_exist_is_a_bilingual_404_page() -> Result<()> {
    let server = TestServer::start().await?;
    for path in ["/r/nowhere", "/r/Not_A_Slug", "/r/%3Cscript%3E"] {
        let page = exchange(server.addr(), "GET", path, &[], b"").await?;
        assert_eq!(page.status, 404, "{path}");
        assert_eq!(
            page.header("content-type"),
            Some("text/html; charset=utf-8")
        );
        let html = page.text();
        assert!(html.contains("Diesen Raum gibt es nicht"), "{html}");
        assert!(html.contains("This room does not exist"), "{html}");
        assert!(html.contains("/assets/css/app.css"));
        assert!(!html.contains("<script"), "no script needed");
        assert!(!html.contains("<input"), "no name is asked for");
        assert!(!html.contains("Not_A_Slug") && !html.contains("<script>"));
    }
    let page = exchange(server.addr(), "GET", "/r/nowhere", &[], b"").await?;
    assert!(page.text().contains("/r/nowhere"), "the address is shown");

    // A room that exists serves the join page.
    let page = exchange(server.addr(), "GET", "/r/lobby", &[], b"").await?;
    assert_eq!(page.status, 200);
    assert!(page.text().contains("join-form"));
    // So does one opened while running (not in the store).
    server.open_room(hallway::room::RoomSettings::new("pop-up", "Pop-up"))?;
    let page = exchange(server.addr(), "GET", "/r/pop-up", &[], b"").await?;
    assert_eq!(page.status, 200);
    server.stop().await
}

#[tokio::test]
async fn about_says_what_the_page_needs_before_the_name_field() -> Result<()> {
    let server = TestServer::start_with(|c| c.admin_key = Some(KEY.into())).await?;
    let about = |room: &'static str| {
        let addr = server.addr();
        async move {
            let response = exchange(addr, "GET", &format!("/r/{room}/about"), &[], b"").await?;
            anyhow::Ok((response.status, response.json()?))
        }
    };
    let (status, lobby) = about("lobby").await?;
    assert_eq!(status, 200);
    let keys: Vec<&str> = lobby
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys.len(), 5, "nothing else, no names or counts: {lobby}");
    assert_eq!(lobby["title"], "Lobby");
    assert_eq!(lobby["access"], "open");
    assert_eq!(lobby["locked"], false);
    assert!(lobby["floor_plan"].as_str().is_some());
    // No identity provider configured: no host sign-in to offer.
    assert_eq!(lobby["host_sign_in"], false);
    assert_eq!(about("nowhere").await?.0, 404);

    // Locked by a host: the page knows before anyone types a name.
    let mut host = TestClient::join_host(&server, "lobby", "Host").await?;
    host.send(&ClientMessage::LockRoom { locked: true }).await?;
    host.wait_for("the lock", |m| match m {
        ServerMessage::RoomLocked { locked: true } => Some(()),
        _ => None,
    })
    .await?;
    assert_eq!(about("lobby").await?.1["locked"], true);
    host.send(&ClientMessage::LockRoom { locked: false })
        .await?;
    host.wait_for("the unlock", |m| match m {
        ServerMessage::RoomLocked { locked: false } => Some(()),
        _ => None,
    })
    .await?;
    assert_eq!(about("lobby").await?.1["locked"], false);

    // Passcode and invitation rooms say so (never the passcode).
    for (slug, body) in [
        (
            "quiet",
            json!({"slug": "quiet", "title": "Stiller Raum", "access": "passcode", "passcode": "Kaffee 2026"}),
        ),
        ("board", json!({"slug": "board", "access": "invite"})),
    ] {
        let auth = format!("Bearer {KEY}");
        let created = exchange(
            server.addr(),
            "POST",
            "/api/rooms",
            &[("Authorization", auth.as_str())],
            body.to_string().as_bytes(),
        )
        .await?;
        assert_eq!(created.status, 201, "{}", created.text());
        let (status, info) = about(slug).await?;
        assert_eq!(status, 200);
        assert_eq!(info["floor_plan"], Value::Null);
        assert!(!info.to_string().contains("Kaffee"));
        if slug == "quiet" {
            assert_eq!(info["access"], "passcode");
            assert_eq!(info["title"], "Stiller Raum");
        } else {
            assert_eq!(info["access"], "invite");
        }
    }
    server.stop().await
}
