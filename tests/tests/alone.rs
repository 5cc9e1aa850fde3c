//! Who is alone: hosts, and only hosts, hear every few seconds who has been outside any
//! circle for longer than the room's setting, longest first; a host asks someone over to a
//! conversation and they are told who asks.

use anyhow::Result;
use hallway::room::RoomSettings;
use hallway_proto::server::AloneInfo;
use hallway_proto::{ClientMessage, ErrorCode, ServerMessage};
use hallway_tests::circles::circle_of;
use hallway_tests::{TestClient, TestServer};

/// A room where one second outside a circle counts as alone.
async fn quick_room() -> Result<TestServer> {
    let server = TestServer::start().await?;
    let mut settings = RoomSettings::new("meet", "Meet");
    settings.alone_after_s = 1;
    server.open_room(settings)?;
    Ok(server)
}

/// The next `alone` report `client` gets in which `want` holds.
async fn report_where(
    client: &mut TestClient,
    what: &str,
    want: impl Fn(&[AloneInfo]) -> bool,
) -> Result<(u64, Vec<AloneInfo>)> {
    client
        .wait_for(what, |m| match m {
            ServerMessage::Alone {
                after_s,
                count,
                people,
            } if want(people) => {
                assert_eq!(*count, people.len() as u64, "fewer than 30: all are listed");
                Some((*after_s, people.clone()))
            }
            _ => None,
        })
        .await
}

#[tokio::test]
async fn hosts_hear_who_is_alone_longest_first_and_nobody_else_does() -> Result<()> {
    let server = quick_room().await?;
    let mut hanna = TestClient::join_host(&server, "meet", "Hanna").await?;
    let mut anna = TestClient::join_room(&server, "meet", "Anna").await?;
    anna.move_to(200.0, 200.0).await?;
    // Anna has waited longer than the others: she is listed before they come.
    let a = anna.id.clone();
    report_where(&mut hanna, "Anna alone", |p| p.len() == 1 && p[0].id == a).await?;
    let ben = TestClient::join_room(&server, "meet", "Ben").await?;
    let carl = TestClient::join_room(&server, "meet", "Carl").await?;
    let (b, c) = (ben.id.clone(), carl.id.clone());
    let (after_s, people) =
        report_where(&mut hanna, "Anna and Ben and Carl alone", |p| p.len() == 3).await?;
    assert_eq!(after_s, 1);
    assert_eq!(people[0].id, a, "the longest alone first: {people:?}");
    assert!(
        people.iter().all(|p| p.id != hanna.id),
        "hosts are not listed"
    );
    // Ben and Carl meet: they leave the list; Anna stays on it.
    let mut pair = [ben, carl];
    circle_of(&mut pair).await?;
    let (_, people) = report_where(&mut hanna, "only Anna alone", |p| p.len() == 1).await?;
    assert_eq!(people[0].id, a);
    assert!(people[0].for_s >= 1);
    assert!(!people.iter().any(|p| p.id == b || p.id == c));
    // A participant never hears it (a few reports' time).
    let quiet = anna
        .wait_for_within("no alone report", std::time::Duration::from_secs(5), |m| {
            matches!(m, ServerMessage::Alone { .. }).then_some(())
        })
        .await;
    assert!(quiet.is_err(), "participants get no alone report");
    Ok(())
}

#[tokio::test]
async fn a_host_asks_someone_over_and_only_a_host_may() -> Result<()> {
    let server = quick_room().await?;
    let mut hanna = TestClient::join_host(&server, "meet", "Hanna").await?;
    let mut anna = TestClient::join_room(&server, "meet", "Anna").await?;
    let mut ben = TestClient::join_room(&server, "meet", "Ben").await?;
    hanna
        .send(&ClientMessage::InviteToCircle {
            id: anna.id.clone(),
        })
        .await?;
    let by = anna
        .wait_for("asked over", |m| match m {
            ServerMessage::CircleInvite { by } => Some(by.clone()),
            _ => None,
        })
        .await?;
    assert_eq!(by, hanna.id);
    // A participant may not; nor may a host ask themselves or nobody.
    ben.send(&ClientMessage::InviteToCircle {
        id: anna.id.clone(),
    })
    .await?;
    assert_eq!(ben.expect_error().await?.0, ErrorCode::Forbidden);
    hanna
        .send(&ClientMessage::InviteToCircle {
            id: hanna.id.clone(),
        })
        .await?;
    assert_eq!(hanna.expect_error().await?.0, ErrorCode::UnknownParticipant);
    Ok(())
}

#[tokio::test]
async fn a_room_made_without_the_setting_counts_three_minutes() -> Result<()> {
    const KEY: &str = "an-admin-key-for-the-alone-tests-01234";
    let server = TestServer::start_with(|c| c.admin_key = Some(KEY.into())).await?;
    let (status, body) = hallway_tests::admin::create_room(
        server.addr(),
        KEY,
        r#"{"slug":"foyer","title":"Foyer"}"#,
    )
    .await?;
    assert_eq!(status, 201, "{body}");
    let token = server.token("foyer", hallway::access::TokenRole::Host, None);
    let mut hanna = TestClient::join_with_token(&server, "foyer", "Hanna", &token).await?;
    let (after_s, people) = report_where(&mut hanna, "a report", |_| true).await?;
    assert_eq!(after_s, 180, "the default is three minutes");
    assert!(
        people.is_empty(),
        "nobody has been alone that long: {people:?}"
    );
    Ok(())
}
