//! Signed links: the role and a fixed name come only from a verified token for this room;
//! expired, forged, unsigned and foreign tokens are refused.

use anyhow::Result;
use hallway::access::TokenRole;
use hallway::clock::now_secs;
use hallway_proto::{ClientMessage, ErrorCode, Role, ServerMessage, close};
use hallway_tests::{TestClient, TestServer};

fn my_role(client: &TestClient) -> Role {
    let Some(ServerMessage::Welcome {
        participants, you, ..
    }) = &client.welcome
    else {
        panic!("no welcome")
    };
    participants
        .iter()
        .find(|p| p.id == *you)
        .map(|p| p.role)
        .expect("I am in the snapshot")
}

async fn refused_with(server: &TestServer, room: &str, token: &str) -> Result<ErrorCode> {
    let mut client = TestClient::connect(server).await?;
    client.hello_with_token(room, "Mallory", token).await?;
    let (code, _) = client.expect_error().await?;
    assert_eq!(client.wait_closed().await?.code, Some(close::REFUSED));
    Ok(code)
}

#[tokio::test]
async fn a_host_link_makes_a_host_and_no_token_a_participant() -> Result<()> {
    let server = TestServer::start().await?;
    let host = TestClient::join_with_token(
        &server,
        "lobby",
        "Hanna",
        &server.token("lobby", TokenRole::Host, None),
    )
    .await?;
    assert_eq!(my_role(&host), Role::Host);
    let guest = TestClient::join(&server, "Gast").await?;
    assert_eq!(my_role(&guest), Role::Participant);
    // A role claimed in the hello itself is just an unknown field.
    let mut claimer = TestClient::connect(&server).await?;
    claimer
        .send_text(r#"{"type":"hello","version":2,"room":"lobby","name":"Eve","role":"host"}"#)
        .await?;
    let welcome = claimer.recv().await?;
    let ServerMessage::Welcome {
        participants, you, ..
    } = welcome
    else {
        panic!("not welcomed")
    };
    assert_eq!(
        participants.iter().find(|p| p.id == you).map(|p| p.role),
        Some(Role::Participant)
    );
    Ok(())
}

#[tokio::test]
async fn a_personal_invitation_fixes_the_name() -> Result<()> {
    let server = TestServer::start().await?;
    let token = server.token("lobby", TokenRole::Participant, Some("Dr. Dana Müller"));
    let dana = TestClient::join_with_token(&server, "lobby", "Somebody Else", &token).await?;
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
            .map(|p| p.name.as_str()),
        Some("Dr. Dana Müller")
    );
    Ok(())
}

#[tokio::test]
async fn foreign_expired_forged_and_unsigned_tokens_are_refused() -> Result<()> {
    let server =
        TestServer::start_with(|c| c.rooms = vec!["lobby".into(), "backstage".into()]).await?;
    let for_backstage = server.token("backstage", TokenRole::Host, None);
    assert_eq!(
        refused_with(&server, "lobby", &for_backstage).await?,
        ErrorCode::InvalidToken
    );

    let expired = server
        .tokens()
        .mint("lobby", TokenRole::Host, None, now_secs() - 1);
    assert_eq!(
        refused_with(&server, "lobby", &expired).await?,
        ErrorCode::TokenExpired
    );

    let forged = hallway::access::Tokens::new(b"not the server's secret, but long enough").mint(
        "lobby",
        TokenRole::Host,
        None,
        now_secs() + 3600,
    );
    assert_eq!(
        refused_with(&server, "lobby", &forged).await?,
        ErrorCode::InvalidToken
    );

    // alg=none: a header and host claims with no signature at all.
    let header = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0"; // {"alg":"none","typ":"JWT"}
    let claims = base64url(&format!(
        r#"{{"room":"lobby","role":"host","exp":{},"jti":"x"}}"#,
        now_secs() + 3600
    ));
    assert_eq!(
        refused_with(&server, "lobby", &format!("{header}.{claims}.")).await?,
        ErrorCode::InvalidToken
    );

    // A real token with its payload swapped for one claiming more.
    let genuine = server.token("lobby", TokenRole::Participant, None);
    let parts: Vec<&str> = genuine.split('.').collect();
    let tampered = format!("{}.{}.{}", parts[0], claims, parts[2]);
    assert_eq!(
        refused_with(&server, "lobby", &tampered).await?,
        ErrorCode::InvalidToken
    );

    assert_eq!(
        refused_with(&server, "lobby", "garbage").await?,
        ErrorCode::InvalidToken
    );
    Ok(())
}

#[tokio::test]
async fn a_host_enters_a_locked_circle() -> Result<()> {
    let server = TestServer::start().await?;
    let (mut a, b, circle) = hallway_tests::pair(&server).await?;
    a.send(&ClientMessage::LockCircle { locked: true }).await?;
    a.wait_for("locked", |m| {
        matches!(m, ServerMessage::CircleChanged { circle: c } if c.locked).then_some(())
    })
    .await?;

    let mut host = TestClient::join_with_token(
        &server,
        "lobby",
        "Hanna",
        &server.token("lobby", TokenRole::Host, None),
    )
    .await?;
    host.move_to(525.0, 510.0).await?;
    assert_eq!(
        host.wait_for_circle_with(&[a.id.clone(), b.id.clone(), host.id.clone()])
            .await?,
        circle
    );
    Ok(())
}

fn base64url(text: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in text.as_bytes().chunks(3) {
        let n =
            chunk.iter().fold(0u32, |acc, b| (acc << 8) | u32::from(*b)) << (8 * (3 - chunk.len()));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

/// A token signed with the server's own secret but not valid before a time still to come
/// is refused, like a forged one.
#[tokio::test]
async fn a_token_not_yet_valid_is_refused() -> Result<()> {
    const SECRET: &str = "a-secret-this-test-knows-0123456789abcdef";
    let server = TestServer::start_with(|c| c.secret = Some(SECRET.into())).await?;
    let sign = |nbf: u64| {
        let claims = serde_json::json!({
            "room": "lobby", "role": "host", "exp": now_secs() + 3600,
            "iat": now_secs(), "jti": "later", "nbf": nbf,
        });
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
            &claims,
            &jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()),
        )
    };
    assert_eq!(
        refused_with(&server, "lobby", &sign(now_secs() + 3600)?).await?,
        ErrorCode::InvalidToken
    );
    // The same token with a not-before time past opens the room (the secret is right).
    let now =
        TestClient::join_with_token(&server, "lobby", "Hanna", &sign(now_secs() - 5)?).await?;
    assert_eq!(my_role(&now), Role::Host);
    Ok(())
}
