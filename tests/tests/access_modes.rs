//! Passcode and invite-only rooms: the door stays shut without the passcode or a link.

use anyhow::Result;
use hallway::access::TokenRole;
use hallway_proto::{ErrorCode, ServerMessage, close};
use hallway_tests::process::http_request;
use hallway_tests::{TestClient, TestServer};

const KEY: &str = "an-admin-key-for-the-tests-0123456789";

async fn create(server: &TestServer, body: &str) -> Result<()> {
    let auth = format!("Bearer {KEY}");
    let headers = [
        ("Authorization", auth.as_str()),
        ("Content-Type", "application/json"),
    ];
    let (status, text) = http_request(
        server.addr(),
        "POST",
        "/api/rooms",
        &headers,
        body.as_bytes(),
    )
    .await?;
    assert_eq!(status, 201, "{text}");
    assert!(
        !text.contains("Kaffee2026") && !text.contains("passcode_hash"),
        "nothing of the passcode is shown: {text}"
    );
    Ok(())
}

async fn refused(client: &mut TestClient) -> Result<ErrorCode> {
    let (code, _) = client.expect_error().await?;
    assert_eq!(client.wait_closed().await?.code, Some(close::REFUSED));
    Ok(code)
}

#[tokio::test]
async fn a_passcode_room_asks_for_it() -> Result<()> {
    let server = TestServer::start_with(|c| c.admin_key = Some(KEY.into())).await?;
    create(
        &server,
        r#"{"slug":"salon","access":"passcode","passcode":"Kaffee2026"}"#,
    )
    .await?;
    let mut nobody = TestClient::connect(&server).await?;
    nobody.hello("salon", "Anna").await?;
    assert_eq!(refused(&mut nobody).await?, ErrorCode::PasscodeRequired);
    let mut wrong = TestClient::connect(&server).await?;
    wrong
        .hello_with_passcode("salon", "Anna", "kaffee2026")
        .await?;
    assert_eq!(refused(&mut wrong).await?, ErrorCode::WrongPasscode);
    let mut right = TestClient::connect(&server).await?;
    right
        .hello_with_passcode("salon", "Anna", "Kaffee2026")
        .await?;
    assert!(matches!(right.recv().await?, ServerMessage::Welcome { .. }));
    // A signed link needs no passcode.
    TestClient::join_with_token(
        &server,
        "salon",
        "Hanna",
        &server.token("salon", TokenRole::Host, None),
    )
    .await?;
    Ok(())
}

#[tokio::test]
async fn an_invite_only_room_admits_only_links() -> Result<()> {
    let server = TestServer::start_with(|c| c.admin_key = Some(KEY.into())).await?;
    create(&server, r#"{"slug":"vip","access":"invite"}"#).await?;
    let mut nobody = TestClient::connect(&server).await?;
    nobody.hello("vip", "Anna").await?;
    assert_eq!(refused(&mut nobody).await?, ErrorCode::InviteOnly);
    let invited = server.token("vip", TokenRole::Participant, Some("Anna Invited"));
    TestClient::join_with_token(&server, "vip", "x", &invited).await?;
    Ok(())
}
