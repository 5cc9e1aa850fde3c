//! Guessing is slowed down: wrong passcodes and invalid links from one address are
//! answered `too_many_attempts` (with the wait in seconds) past a few, while the right
//! passcode from another address still enters.

use anyhow::Result;
use hallway_proto::{ErrorCode, ServerMessage, close};
use hallway_tests::admin::create_room;
use hallway_tests::{TestClient, TestServer};

const KEY: &str = "an-admin-key-for-the-tests-0123456789";

/// A server that trusts loopback as its reverse proxy, so that `X-Forwarded-For` gives
/// each test client an address of its own; with a passcode room "salon".
async fn server() -> Result<TestServer> {
    let server = TestServer::start_with(|c| {
        c.admin_key = Some(KEY.into());
        c.trusted_proxies = vec![[127, 0, 0, 1].into()];
    })
    .await?;
    let body = r#"{"slug":"salon","access":"passcode","passcode":"Kaffee2026"}"#;
    let (status, text) = create_room(server.addr(), KEY, body).await?;
    assert_eq!(status, 201, "{text}");
    Ok(server)
}

/// A hundred wrong passcodes for "salon" from 25 addresses: the room's ceiling.
async fn flood(server: &TestServer) -> Result<()> {
    for i in 0..100u32 {
        let from = format!("198.51.100.{}", i / 4);
        let mut guesser = TestClient::connect_with(server, &[("X-Forwarded-For", &from)]).await?;
        guesser
            .hello_with_passcode("salon", "Mallory", &format!("guess{i:04}"))
            .await?;
        refusal(&mut guesser).await?;
    }
    Ok(())
}

/// The refusal's code and wait.
async fn refusal(client: &mut TestClient) -> Result<(ErrorCode, Option<u64>)> {
    let refusal = client
        .wait_for("an error", |m| match m {
            ServerMessage::Error {
                code, retry_after, ..
            } => Some((*code, *retry_after)),
            _ => None,
        })
        .await?;
    assert_eq!(client.wait_closed().await?.code, Some(close::REFUSED));
    Ok(refusal)
}

#[tokio::test]
async fn a_hundred_wrong_passcodes_from_one_address_wait_and_the_right_one_enters_elsewhere()
-> Result<()> {
    let server = server().await?;
    let mut answers = Vec::new();
    for i in 0..100 {
        let mut guesser =
            TestClient::connect_with(&server, &[("X-Forwarded-For", "203.0.113.66")]).await?;
        guesser
            .hello_with_passcode("salon", "Mallory", &format!("guess{i:04}"))
            .await?;
        answers.push(refusal(&mut guesser).await?);
    }
    let wrong = answers
        .iter()
        .take_while(|(code, _)| *code == ErrorCode::WrongPasscode)
        .count();
    assert_eq!(wrong, 5, "five free mistakes: {answers:?}");
    for (code, wait) in &answers[wrong..] {
        assert_eq!(*code, ErrorCode::TooManyAttempts);
        let wait = wait.unwrap_or_default();
        assert!((1..=900).contains(&wait), "a wait in seconds: {wait}");
    }
    // Even the right passcode waits from the guesser's address…
    let mut guesser =
        TestClient::connect_with(&server, &[("X-Forwarded-For", "203.0.113.66")]).await?;
    guesser
        .hello_with_passcode("salon", "Mallory", "Kaffee2026")
        .await?;
    assert_eq!(refusal(&mut guesser).await?.0, ErrorCode::TooManyAttempts);
    // …and enters from another.
    let mut anna =
        TestClient::connect_with(&server, &[("X-Forwarded-For", "198.51.100.7")]).await?;
    anna.hello_with_passcode("salon", "Anna", "Kaffee2026")
        .await?;
    assert!(matches!(anna.recv().await?, ServerMessage::Welcome { .. }));
    server.stop().await
}

#[tokio::test]
async fn invalid_links_count_as_guesses_too() -> Result<()> {
    let server = server().await?;
    let mut codes = Vec::new();
    for i in 0..7 {
        let mut forger =
            TestClient::connect_with(&server, &[("X-Forwarded-For", "203.0.113.67")]).await?;
        forger
            .hello_with_token(
                "lobby",
                "Mallory",
                &format!("eyJhbGciOiJIUzI1NiJ9.e30.forged{i}"),
            )
            .await?;
        codes.push(refusal(&mut forger).await?.0);
    }
    assert_eq!(&codes[..5], &[ErrorCode::InvalidToken; 5]);
    assert_eq!(&codes[5..], &[ErrorCode::TooManyAttempts; 2]);
    // A visitor without a link, from the same address, is not held up.
    let mut visitor =
        TestClient::connect_with(&server, &[("X-Forwarded-For", "203.0.113.67")]).await?;
    visitor.hello("lobby", "Vera").await?;
    assert!(matches!(
        visitor.recv().await?,
        ServerMessage::Welcome { .. }
    ));
    server.stop().await
}

/// A hundred wrong passcodes spread over many addresses make every passcode wait for the
/// rest of the minute; a signed link is no guess and still enters at once.
#[tokio::test]
async fn a_room_wide_flood_of_guesses_holds_up_passcodes_but_not_links() -> Result<()> {
    let server = server().await?;
    flood(&server).await?;
    let mut right = TestClient::connect_with(&server, &[("X-Forwarded-For", "192.0.2.7")]).await?;
    right
        .hello_with_passcode("salon", "Anna", "Kaffee2026")
        .await?;
    let (code, wait) = refusal(&mut right).await?;
    assert_eq!(code, ErrorCode::TooManyAttempts);
    assert!((1..=60).contains(&wait.unwrap_or_default()), "{wait:?}");
    let host = server.token("salon", hallway::access::TokenRole::Host, None);
    let mut hanna = TestClient::connect_with(&server, &[("X-Forwarded-For", "192.0.2.8")]).await?;
    hanna.hello_with_token("salon", "Hanna", &host).await?;
    assert!(matches!(hanna.recv().await?, ServerMessage::Welcome { .. }));
    Ok(())
}

/// Mistakes are forgiven only by a passcode that proved right where it was checked: a
/// hello with any passcode to an open room does not wipe an address's record.
#[tokio::test]
async fn a_hello_to_an_open_room_does_not_forgive_wrong_passcodes() -> Result<()> {
    let server = server().await?;
    let from = [("X-Forwarded-For", "203.0.113.77")];
    let mut answers = Vec::new();
    for i in 0..8 {
        if i == 4 {
            let mut open = TestClient::connect_with(&server, &from).await?;
            open.hello_with_passcode("lobby", "Mallory", "anything")
                .await?;
            assert!(matches!(open.recv().await?, ServerMessage::Welcome { .. }));
        }
        let mut guesser = TestClient::connect_with(&server, &from).await?;
        guesser
            .hello_with_passcode("salon", "Mallory", &format!("guess{i:04}"))
            .await?;
        answers.push(refusal(&mut guesser).await?.0);
    }
    let wrong = answers
        .iter()
        .filter(|c| **c == ErrorCode::WrongPasscode)
        .count();
    assert_eq!(wrong, 5, "five free mistakes in all: {answers:?}");
    Ok(())
}

/// Someone inside comes back with their resume token, also while the room waits out a
/// flood of guesses and with the passcode field the page sends along.
#[tokio::test]
async fn a_resume_is_no_guess_and_is_not_held_up() -> Result<()> {
    let server = server().await?;
    let mut anna = TestClient::connect_with(&server, &[("X-Forwarded-For", "192.0.2.20")]).await?;
    anna.hello_with_passcode("salon", "Anna", "Kaffee2026")
        .await?;
    let ServerMessage::Welcome { you, resume, .. } = anna.recv().await? else {
        anyhow::bail!("no welcome");
    };
    drop(anna);
    flood(&server).await?;
    let mut back =
        TestClient::connect_with(&server, &[("X-Forwarded-For", "198.51.100.1")]).await?;
    back.hello_with_resume("salon", "Anna", &resume, Some("Kaffee2026"))
        .await?;
    let ServerMessage::Welcome {
        you: again,
        resumed,
        ..
    } = back.recv().await?
    else {
        anyhow::bail!("the resume was held up");
    };
    assert!(resumed && again == you);
    Ok(())
}
