//! The admin HTTP API: a bearer key, rooms, links and invitations, clear errors.

use anyhow::Result;
use hallway_proto::ServerMessage;
use hallway_tests::hello::Hello;
use hallway_tests::process::http_request;
use hallway_tests::{TestClient, TestServer};
use serde_json::{Value, json};

const KEY: &str = "an-admin-key-for-the-tests-0123456789";

async fn api(
    server: &TestServer,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> Result<(u16, Value)> {
    let auth = format!("Bearer {KEY}");
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let headers = [
        ("Authorization", auth.as_str()),
        ("Content-Type", "application/json"),
    ];
    let (status, text) =
        http_request(server.addr(), method, path, &headers, body.as_bytes()).await?;
    Ok((
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    ))
}

#[tokio::test]
async fn the_api_needs_the_key_and_is_off_without_one() -> Result<()> {
    let off = TestServer::start().await?;
    assert_eq!(
        http_request(off.addr(), "GET", "/api/rooms", &[], b"")
            .await?
            .0,
        404
    );
    let server = TestServer::start_with(|c| c.admin_key = Some(KEY.into())).await?;
    assert_eq!(
        http_request(server.addr(), "GET", "/api/rooms", &[], b"")
            .await?
            .0,
        401
    );
    let wrong = [("Authorization", "Bearer not-the-key")];
    assert_eq!(
        http_request(server.addr(), "GET", "/api/rooms", &wrong, b"")
            .await?
            .0,
        401
    );
    let (status, rooms) = api(&server, "GET", "/api/rooms", None).await?;
    assert_eq!(status, 200);
    assert_eq!(rooms[0]["slug"], "lobby");
    Ok(())
}

#[tokio::test]
async fn rooms_are_created_updated_and_deleted() -> Result<()> {
    let server = TestServer::start_with(|c| c.admin_key = Some(KEY.into())).await?;
    let (status, room) = api(
        &server,
        "POST",
        "/api/rooms",
        Some(json!({"slug": "workshop", "title": "Werkstatt", "max_circle_size": 5})),
    )
    .await?;
    assert_eq!(status, 201, "{room}");
    assert_eq!(
        (room["title"].as_str(), room["max_circle_size"].as_u64()),
        (Some("Werkstatt"), Some(5))
    );
    // It runs at once.
    let visitor = TestClient::join_room(&server, "workshop", "Visitor").await?;
    let Some(ServerMessage::Welcome { room, .. }) = &visitor.welcome else {
        panic!("no welcome")
    };
    assert_eq!(room.title, "Werkstatt");

    assert_eq!(
        api(
            &server,
            "POST",
            "/api/rooms",
            Some(json!({"slug": "workshop"}))
        )
        .await?
        .0,
        409
    );
    assert_eq!(
        api(
            &server,
            "POST",
            "/api/rooms",
            Some(json!({"slug": "Not A Slug"}))
        )
        .await?
        .0,
        422
    );
    assert_eq!(
        api(
            &server,
            "POST",
            "/api/rooms",
            Some(json!({"slug": "x", "width": -5}))
        )
        .await?
        .0,
        422
    );
    assert_eq!(
        api(
            &server,
            "POST",
            "/api/rooms",
            Some(json!({"slug": "x", "colour": "red"}))
        )
        .await?
        .0,
        400
    );

    let (status, room) = api(
        &server,
        "PATCH",
        "/api/rooms/workshop",
        Some(json!({"title": "Workshop"})),
    )
    .await?;
    assert_eq!((status, room["title"].as_str()), (200, Some("Workshop")));
    assert_eq!(
        api(&server, "GET", "/api/rooms/workshop", None).await?.1["title"],
        "Workshop"
    );
    assert_eq!(
        api(
            &server,
            "PATCH",
            "/api/rooms/nowhere",
            Some(json!({"title": "x"}))
        )
        .await?
        .0,
        404
    );
    assert_eq!(
        api(&server, "DELETE", "/api/rooms/workshop", None).await?.0,
        204
    );
    assert_eq!(
        api(&server, "GET", "/api/rooms/workshop", None).await?.0,
        404
    );
    Ok(())
}

#[tokio::test]
async fn links_and_invitations_are_minted() -> Result<()> {
    let server = TestServer::start_with(|c| c.admin_key = Some(KEY.into())).await?;
    let (status, link) = api(
        &server,
        "POST",
        "/api/rooms/lobby/links",
        Some(json!({"role": "host"})),
    )
    .await?;
    assert_eq!(status, 201, "{link}");
    let url = link["url"].as_str().expect("a url");
    let token = url.split("#token=").nth(1).expect("a token");
    let host = TestClient::join_with_token(&server, "lobby", "Hanna", token).await?;
    let Some(ServerMessage::Welcome {
        participants, you, ..
    }) = &host.welcome
    else {
        panic!("no welcome")
    };
    assert_eq!(
        participants.iter().find(|p| p.id == *you).map(|p| p.role),
        Some(hallway_proto::Role::Host)
    );
    assert_eq!(
        api(
            &server,
            "POST",
            "/api/rooms/nowhere/links",
            Some(json!({"role": "host"}))
        )
        .await?
        .0,
        404
    );
    assert_eq!(
        api(
            &server,
            "POST",
            "/api/rooms/lobby/links",
            Some(json!({"role": "king"}))
        )
        .await?
        .0,
        400
    );

    // A personal link can fix a profile line beside the name; a misleading one is refused.
    let (status, link) = api(
        &server,
        "POST",
        "/api/rooms/lobby/links",
        Some(json!({"role": "participant", "name": "Dana", "profile": "Landkreis Ahrweiler · Katastrophenschutz"})),
    )
    .await?;
    assert_eq!(status, 201, "{link}");
    let token = link["url"]
        .as_str()
        .and_then(|u| u.split("#token=").nth(1))
        .expect("a token");
    let dana = TestClient::join_with_token(&server, "lobby", "x", token).await?;
    let Some(ServerMessage::Welcome {
        participants, you, ..
    }) = &dana.welcome
    else {
        panic!("no welcome")
    };
    assert_eq!(
        participants
            .iter()
            .find(|p| p.id == *you)
            .and_then(|p| p.profile.as_deref()),
        Some("Landkreis Ahrweiler · Katastrophenschutz")
    );
    let (status, refusal) = api(
        &server,
        "POST",
        "/api/rooms/lobby/links",
        Some(json!({"role": "participant", "profile": "Amt \u{202e}evil"})),
    )
    .await?;
    assert_eq!(status, 422, "{refusal}");
    assert!(
        refusal["error"]
            .as_str()
            .unwrap_or_default()
            .contains("profile lines"),
        "{refusal}"
    );

    let auth = format!("Bearer {KEY}");
    let (status, csv) = http_request(
        server.addr(),
        "POST",
        "/api/rooms/lobby/invitations",
        &[
            ("Authorization", auth.as_str()),
            ("Content-Type", "text/csv"),
        ],
        "Name,Email\nAnna Schmidt,anna@example.org\n".as_bytes(),
    )
    .await?;
    assert_eq!(status, 200, "{csv}");
    assert!(
        csv.starts_with("name,email,link\nAnna Schmidt,anna@example.org,"),
        "{csv}"
    );
    // Columns named for the profile line, as the export heads them.
    let (status, csv) = http_request(
        server.addr(),
        "POST",
        "/api/rooms/lobby/invitations?profile_columns=Referat,%20Schwerpunkt",
        &[
            ("Authorization", auth.as_str()),
            ("Content-Type", "text/csv"),
        ],
        "Name;E-Mail;Referat;Schwerpunkt\nAnna Schmidt;anna@example.org;Referat DG II;Open Data\n"
            .as_bytes(),
    )
    .await?;
    assert_eq!(status, 200, "{csv}");
    assert!(
        csv.starts_with(
            "name;email;profile;link\nAnna Schmidt;anna@example.org;Referat DG II · Open Data;"
        ),
        "{csv}"
    );
    let (status, refusal) = http_request(
        server.addr(),
        "POST",
        "/api/rooms/lobby/invitations?profile_columns=Abteilung",
        &[
            ("Authorization", auth.as_str()),
            ("Content-Type", "text/csv"),
        ],
        "Name,Email\nAnna Schmidt,anna@example.org\n".as_bytes(),
    )
    .await?;
    assert_eq!(status, 422, "{refusal}");
    assert!(refusal.contains("abteilung"), "{refusal}");
    // A blank line in a link fixes nothing: the person's own line stays.
    let (_, link) = api(
        &server,
        "POST",
        "/api/rooms/lobby/links",
        Some(json!({"role": "participant", "name": "Eva", "profile": "   "})),
    )
    .await?;
    let token = link["url"]
        .as_str()
        .and_then(|u| u.split("#token=").nth(1))
        .expect("a token");
    let eva = TestClient::join_with(
        &server,
        &Hello::new("lobby", "x")
            .profile("Stadt Köln · Open Data")
            .token(token),
    )
    .await?;
    let Some(ServerMessage::Welcome {
        participants, you, ..
    }) = &eva.welcome
    else {
        panic!("no welcome")
    };
    assert_eq!(
        participants
            .iter()
            .find(|p| p.id == *you)
            .and_then(|p| p.profile.as_deref()),
        Some("Stadt Köln · Open Data")
    );
    Ok(())
}

#[tokio::test]
async fn deleting_a_room_people_are_in_closes_it_for_them() -> Result<()> {
    let server = TestServer::start_with(|c| c.admin_key = Some(KEY.into())).await?;
    let (status, _) = api(
        &server,
        "POST",
        "/api/rooms",
        Some(json!({"slug": "werkstatt", "title": "Werkstatt"})),
    )
    .await?;
    assert_eq!(status, 201);
    let mut anna = TestClient::join_room(&server, "werkstatt", "Anna").await?;
    let (status, _) = api(&server, "DELETE", "/api/rooms/werkstatt", None).await?;
    assert_eq!(status, 204);
    // Told the room closed (1001), not to reconnect (1012).
    let closed = anna.wait_closed().await?;
    assert_eq!(closed.code, Some(hallway_proto::close::GOING_AWAY));
    // And it is gone: a newcomer finds no such room.
    assert_eq!(
        api(&server, "GET", "/api/rooms/werkstatt", None).await?.0,
        404
    );
    server.stop().await
}
