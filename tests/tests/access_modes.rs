//! Passcode and invite-only rooms: the door stays shut without the passcode or a link.

use anyhow::Result;
use hallway::access::TokenRole;
use hallway_proto::{ErrorCode, ServerMessage, close};
use hallway_tests::admin::create_room;
use hallway_tests::{TestClient, TestServer};

const KEY: &str = "an-admin-key-for-the-tests-0123456789";

async fn create(server: &TestServer, body: &str) -> Result<()> {
    let (status, text) = create_room(server.addr(), KEY, body).await?;
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

/// A hello with a resume token and nothing else (what a reloaded page sends).
async fn resume_alone(server: &TestServer, room: &str, token: &str) -> Result<TestClient> {
    let mut client = TestClient::connect(server).await?;
    client.hello_with_resume(room, "Anna", token, None).await?;
    Ok(client)
}

/// The resume token proves admission: someone who came in with the passcode or a link
/// comes back (a reload, a dropped connection) with the token alone. A token that names
/// no one is no way in: the hello is refused as one without it would be.
#[tokio::test]
async fn coming_back_needs_only_the_resume_token() -> Result<()> {
    let server = TestServer::start_with(|c| c.admin_key = Some(KEY.into())).await?;
    create(
        &server,
        r#"{"slug":"salon","access":"passcode","passcode":"Kaffee2026"}"#,
    )
    .await?;
    create(&server, r#"{"slug":"vip","access":"invite"}"#).await?;
    for (room, mut first) in [
        ("salon", {
            let mut c = TestClient::connect(&server).await?;
            c.hello_with_passcode("salon", "Anna", "Kaffee2026").await?;
            c
        }),
        ("vip", {
            let invited = server.token("vip", TokenRole::Participant, Some("Anna"));
            let mut c = TestClient::connect(&server).await?;
            c.hello_with_token("vip", "Anna", &invited).await?;
            c
        }),
    ] {
        let ServerMessage::Welcome { you, resume, .. } = first.recv().await? else {
            anyhow::bail!("{room}: no welcome");
        };
        drop(first); // the connection drops without a goodbye
        let mut back = resume_alone(&server, room, &resume).await?;
        let ServerMessage::Welcome {
            you: again,
            resumed,
            ..
        } = back.recv().await?
        else {
            anyhow::bail!("{room}: the resume alone was not welcomed");
        };
        assert!(resumed, "{room}: welcomed back as the same participant");
        assert_eq!(again, you, "{room}");
        // A token that names no one does not open the door.
        let mut stranger = resume_alone(&server, room, "not-a-resume-token").await?;
        let want = if room == "salon" {
            ErrorCode::PasscodeRequired
        } else {
            ErrorCode::InviteOnly
        };
        assert_eq!(refused(&mut stranger).await?, want, "{room}");
    }
    Ok(())
}
