//! The waiting room: in a room that has one, newcomers wait, see no one and are seen by
//! no one, until a host admits them (one, several or all) or turns them away; admitted,
//! they resume like anyone else; hosts never wait and see the queue live.

use anyhow::{Result, bail};
use hallway::access::TokenRole;
use hallway::room::RoomSettings;
use hallway_proto::server::WaitingInfo;
use hallway_proto::{ClientMessage, ErrorCode, ServerMessage, close};
use hallway_tests::hello::Hello;
use hallway_tests::{TestClient, TestServer};

const KEY: &str = "an-admin-key-for-the-waiting-room-tests";

/// A server with a room `salon` that has a waiting room.
async fn waiting_server() -> Result<TestServer> {
    let server = TestServer::start().await?;
    let mut settings = RoomSettings::new("salon", "Salon der Ämter");
    settings.waiting_room = true;
    settings.waiting_message = "Wir lassen Sie gleich herein.".into();
    server.open_room(settings)?;
    Ok(server)
}

/// Connects and says hello to `salon`; fails unless told to wait.
async fn wait_in(server: &TestServer, hello: Hello) -> Result<TestClient> {
    let mut client = TestClient::connect(server).await?;
    client.send(&hello.message()).await?;
    match client.recv().await? {
        ServerMessage::Waiting { title, message, .. } => {
            assert_eq!(title, "Salon der Ämter");
            assert_eq!(message.as_deref(), Some("Wir lassen Sie gleich herein."));
        }
        other => bail!("expected waiting, got {other:?}"),
    }
    Ok(client)
}

/// The next `waiting_room` a host gets in which `want` holds.
async fn queue_where(
    host: &mut TestClient,
    what: &str,
    want: impl Fn(&[WaitingInfo]) -> bool,
) -> Result<Vec<WaitingInfo>> {
    host.wait_for(what, |m| match m {
        ServerMessage::WaitingRoom { on: true, people } if want(people) => Some(people.clone()),
        _ => None,
    })
    .await
}

/// A server whose room `salon` (with a waiting room) is made through the admin API with
/// `access` (e.g. `"access":"invite"`), and its host Hanna, who never waits.
async fn salon_made_with(access: &str) -> Result<(TestServer, TestClient)> {
    let server = TestServer::start_with(|c| c.admin_key = Some(KEY.into())).await?;
    let json = format!(
        r#"{{"slug":"salon","title":"Salon der Ämter",{access},"waiting_room":true,"waiting_message":"Wir lassen Sie gleich herein."}}"#
    );
    let (status, body) = hallway_tests::admin::create_room(server.addr(), KEY, &json).await?;
    assert_eq!(status, 201, "{body}");
    assert!(body.contains(r#""waiting_room":true"#), "{body}");
    let hanna = TestClient::join_with_token(
        &server,
        "salon",
        "Hanna",
        &server.token("salon", TokenRole::Host, None),
    )
    .await?;
    Ok((server, hanna))
}

fn admit(ids: &[&str]) -> ClientMessage {
    ClientMessage::Admit {
        ids: ids.iter().map(|id| (*id).to_owned()).collect(),
        all: false,
    }
}

#[tokio::test]
async fn newcomers_wait_unseen_until_admitted_and_then_resume_without_waiting() -> Result<()> {
    let server = waiting_server().await?;
    // Hosts never wait.
    let mut hanna = TestClient::join_host(&server, "salon", "Hanna").await?;
    queue_where(&mut hanna, "an empty queue", <[_]>::is_empty).await?;
    let mut anna = wait_in(
        &server,
        Hello::new("salon", "Anna Schmidt").profile("Stadt Bamberg · Smart City"),
    )
    .await?;
    let people = queue_where(&mut hanna, "Anna waiting", |p| p.len() == 1).await?;
    assert_eq!(people[0].name, "Anna Schmidt");
    assert_eq!(
        people[0].profile.as_deref(),
        Some("Stadt Bamberg · Smart City")
    );
    let anna_id = people[0].id.clone();
    // Waiting, Anna can do nothing in the room, and nobody there sees her.
    anna.move_to(300.0, 300.0).await?;
    assert_eq!(anna.expect_error().await?.0, ErrorCode::Waiting);
    anna.send(&ClientMessage::Chat {
        to: "room".into(),
        text: "Hallo?".into(),
    })
    .await?;
    assert_eq!(anna.expect_error().await?.0, ErrorCode::Waiting);
    let ben = TestClient::join_host(&server, "salon", "Ben").await?;
    let Some(ServerMessage::Welcome { participants, .. }) = &ben.welcome else {
        bail!("no welcome");
    };
    assert!(
        participants.iter().all(|p| p.id != anna_id),
        "someone waiting is not in the room: {participants:?}"
    );
    // Admitted, she is welcomed under the id she waited with, and everyone sees her come.
    hanna.send(&admit(&[&anna_id])).await?;
    anna.welcomed().await?;
    assert_eq!(anna.id, anna_id);
    hanna
        .wait_for("Anna joined", |m| match m {
            ServerMessage::Joined { participant } if participant.id == anna_id => Some(()),
            _ => None,
        })
        .await?;
    queue_where(&mut hanna, "the queue empty again", <[_]>::is_empty).await?;
    // Her resume token brings her back, not into the queue.
    let token = anna.resume_token().map(str::to_owned);
    drop(anna);
    let Some(token) = token else {
        bail!("no resume token");
    };
    let back = TestClient::resume_at(server.addr(), "salon", "Anna Schmidt", &token).await?;
    assert!(back.resumed());
    assert_eq!(back.id, anna_id);
    Ok(())
}

#[tokio::test]
async fn only_hosts_admit_and_ids_nobody_waits_under_are_refused() -> Result<()> {
    let server = waiting_server().await?;
    let mut hanna = TestClient::join_host(&server, "salon", "Hanna").await?;
    let mut anna = wait_in(&server, Hello::new("salon", "Anna")).await?;
    let people = queue_where(&mut hanna, "Anna waiting", |p| p.len() == 1).await?;
    let anna_id = people[0].id.clone();
    hanna.send(&admit(&[&anna_id])).await?;
    anna.welcomed().await?;
    // A participant may not admit, turn away or turn the waiting room off.
    let mut carl = wait_in(&server, Hello::new("salon", "Carl")).await?;
    let people = queue_where(&mut hanna, "Carl waiting", |p| p.len() == 1).await?;
    let carl_id = people[0].id.clone();
    anna.send(&admit(&[&carl_id])).await?;
    assert_eq!(anna.expect_error().await?.0, ErrorCode::Forbidden);
    anna.send(&ClientMessage::TurnAway {
        ids: vec![carl_id.clone()],
        message: None,
    })
    .await?;
    assert_eq!(anna.expect_error().await?.0, ErrorCode::Forbidden);
    anna.send(&ClientMessage::SetWaitingRoom { on: false })
        .await?;
    assert_eq!(anna.expect_error().await?.0, ErrorCode::Forbidden);
    // An id nobody waits under (Anna is in already; a made-up one) is refused, typed.
    hanna.send(&admit(&[&anna_id])).await?;
    assert_eq!(hanna.expect_error().await?.0, ErrorCode::NotWaiting);
    hanna.send(&admit(&["not-an-id"])).await?;
    assert_eq!(hanna.expect_error().await?.0, ErrorCode::NotWaiting);
    // Carl waits on, unharmed.
    hanna.send(&admit(&[&carl_id])).await?;
    carl.welcomed().await?;
    Ok(())
}

#[tokio::test]
async fn a_host_turns_people_away_with_a_message() -> Result<()> {
    let server = waiting_server().await?;
    let mut hanna = TestClient::join_host(&server, "salon", "Hanna").await?;
    let mut dora = wait_in(&server, Hello::new("salon", "Dora")).await?;
    let mut emil = wait_in(&server, Hello::new("salon", "Emil")).await?;
    let people = queue_where(&mut hanna, "two waiting", |p| p.len() == 2).await?;
    assert_eq!(people[0].name, "Dora", "longest waiting first");
    let ids: Vec<String> = people.iter().map(|p| p.id.clone()).collect();
    // A message of several lines, or too long, is refused and nobody is turned away.
    hanna
        .send(&ClientMessage::TurnAway {
            ids: ids.clone(),
            message: Some("x".repeat(201)),
        })
        .await?;
    assert_eq!(
        hanna.expect_error().await?.0,
        ErrorCode::InvalidWaitingMessage
    );
    hanna
        .send(&ClientMessage::TurnAway {
            ids,
            message: Some("Die Veranstaltung ist ausgebucht.".into()),
        })
        .await?;
    for person in [&mut dora, &mut emil] {
        let message = person
            .wait_for("turned away", |m| match m {
                ServerMessage::TurnedAway { message } => Some(message.clone()),
                _ => None,
            })
            .await?;
        assert_eq!(
            message.as_deref(),
            Some("Die Veranstaltung ist ausgebucht.")
        );
        assert_eq!(person.wait_closed().await?.code, Some(close::TURNED_AWAY));
    }
    queue_where(&mut hanna, "an empty queue", <[_]>::is_empty).await?;
    Ok(())
}

#[tokio::test]
async fn admit_all_leaving_the_queue_and_turning_the_waiting_room_off() -> Result<()> {
    let server = waiting_server().await?;
    let mut hanna = TestClient::join_host(&server, "salon", "Hanna").await?;
    let mut a = wait_in(&server, Hello::new("salon", "A")).await?;
    let mut b = wait_in(&server, Hello::new("salon", "B")).await?;
    let gone = wait_in(&server, Hello::new("salon", "Gone")).await?;
    queue_where(&mut hanna, "three waiting", |p| p.len() == 3).await?;
    // Someone who closes their page leaves the queue.
    gone.close().await?;
    queue_where(&mut hanna, "two waiting", |p| p.len() == 2).await?;
    hanna
        .send(&ClientMessage::Admit {
            ids: Vec::new(),
            all: true,
        })
        .await?;
    a.welcomed().await?;
    b.welcomed().await?;
    // Off: newcomers come straight in, and whoever waited comes in too.
    let mut c = wait_in(&server, Hello::new("salon", "C")).await?;
    hanna
        .send(&ClientMessage::SetWaitingRoom { on: false })
        .await?;
    hanna
        .wait_for("the waiting room off", |m| match m {
            ServerMessage::WaitingRoom { on: false, people } if people.is_empty() => Some(()),
            _ => None,
        })
        .await?;
    c.welcomed().await?;
    TestClient::join_room(&server, "salon", "D").await?;
    // On again: the next one waits.
    hanna
        .send(&ClientMessage::SetWaitingRoom { on: true })
        .await?;
    queue_where(&mut hanna, "on again", <[_]>::is_empty).await?;
    let mut e = TestClient::connect(&server).await?;
    e.hello("salon", "E").await?;
    assert!(matches!(e.recv().await?, ServerMessage::Waiting { .. }));
    Ok(())
}

#[tokio::test]
async fn passcode_and_links_are_checked_before_anyone_waits() -> Result<()> {
    let (server, mut hanna) =
        salon_made_with(r#""access":"passcode","passcode":"Kaffee2026""#).await?;
    let mut wrong = TestClient::connect(&server).await?;
    wrong
        .hello_with_passcode("salon", "Anna", "falsch!")
        .await?;
    assert_eq!(wrong.expect_error().await?.0, ErrorCode::WrongPasscode);
    let mut anna = wait_in(
        &server,
        Hello::new("salon", "Anna").passcode(Some("Kaffee2026")),
    )
    .await?;
    // A participant's personal link waits too (only hosts never do).
    let link = server.token("salon", TokenRole::Participant, None);
    let mut paul = wait_in(&server, Hello::new("salon", "Paul").token(&link)).await?;
    queue_where(&mut hanna, "both waiting", |p| p.len() == 2).await?;
    hanna
        .send(&ClientMessage::Admit {
            ids: Vec::new(),
            all: true,
        })
        .await?;
    anna.welcomed().await?;
    paul.welcomed().await?;
    Ok(())
}

#[tokio::test]
async fn a_dropped_connection_keeps_its_place_with_the_waiting_token() -> Result<()> {
    let server = waiting_server().await?;
    let mut hanna = TestClient::join_host(&server, "salon", "Hanna").await?;
    let mut first = TestClient::connect(&server).await?;
    first.hello("salon", "Fritz").await?;
    let ServerMessage::Waiting { resume, .. } = first.recv().await? else {
        bail!("expected waiting");
    };
    let _greta = wait_in(&server, Hello::new("salon", "Greta")).await?;
    let people = queue_where(&mut hanna, "two waiting", |p| p.len() == 2).await?;
    let fritz_id = people[0].id.clone();
    // The connection drops (no close frame): Fritz comes back with his token, still first.
    drop(first);
    let mut again = TestClient::connect(&server).await?;
    again
        .send(&Hello::new("salon", "Fritz").resume(&resume).message())
        .await?;
    assert!(matches!(again.recv().await?, ServerMessage::Waiting { .. }));
    // Under the id the hosts know: admitted by it, he is welcomed on the new connection.
    hanna.send(&admit(&[&fritz_id])).await?;
    again.welcomed().await?;
    assert_eq!(again.id, fritz_id);
    let people = queue_where(&mut hanna, "Greta left waiting", |p| p.len() == 1).await?;
    assert_eq!(people[0].name, "Greta");
    Ok(())
}

/// Turned away while their page was not listening (it had given its connection up and
/// was reconnecting, or the connection was lost): coming back with the waiting token, they
/// are told then, with the host's message, and are not queued again as a stranger.
#[tokio::test]
async fn someone_turned_away_while_reconnecting_hears_it_when_back() -> Result<()> {
    let server = waiting_server().await?;
    let mut hanna = TestClient::join_host(&server, "salon", "Hanna").await?;
    // Two pages: one whose connection the server still holds open but the page no longer
    // reads (it gave it up), one whose connection is simply gone.
    let mut tokens = Vec::new();
    let mut kept = Vec::new();
    for (name, keep) in [("Fritz", true), ("Greta", false)] {
        let mut client = TestClient::connect(&server).await?;
        client.hello("salon", name).await?;
        let ServerMessage::Waiting { resume, .. } = client.recv().await? else {
            bail!("expected waiting");
        };
        tokens.push((name, resume));
        if keep {
            kept.push(client);
        }
    }
    let people = queue_where(&mut hanna, "two waiting", |p| p.len() == 2).await?;
    let ids: Vec<String> = people.iter().map(|p| p.id.clone()).collect();
    hanna
        .send(&ClientMessage::TurnAway {
            ids,
            message: Some("Heute nur für angemeldete Gäste.".into()),
        })
        .await?;
    queue_where(&mut hanna, "an empty queue", <[_]>::is_empty).await?;
    for (name, token) in &tokens {
        let mut again = TestClient::connect(&server).await?;
        again
            .send(&Hello::new("salon", name).resume(token).message())
            .await?;
        let message = again
            .wait_for("turned away", |m| match m {
                ServerMessage::TurnedAway { message } => Some(message.clone()),
                ServerMessage::Waiting { .. } => Some(Some("queued again".into())),
                _ => None,
            })
            .await?;
        assert_eq!(
            message.as_deref(),
            Some("Heute nur für angemeldete Gäste."),
            "{name}"
        );
        assert_eq!(again.wait_closed().await?.code, Some(close::TURNED_AWAY));
    }
    // Nobody came back into the queue: the next change the hosts see is a newcomer alone.
    let _ida = wait_in(&server, Hello::new("salon", "Ida")).await?;
    let people = queue_where(&mut hanna, "one waiting", |p| !p.is_empty()).await?;
    let names: Vec<&str> = people.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["Ida"]);
    drop(kept);
    Ok(())
}

#[tokio::test]
async fn a_host_admits_several_at_once_and_the_queue_says_how_long_each_waited() -> Result<()> {
    let server = waiting_server().await?;
    let mut hanna = TestClient::join_host(&server, "salon", "Hanna").await?;
    let mut ada = wait_in(&server, Hello::new("salon", "Ada")).await?;
    queue_where(&mut hanna, "Ada waiting", |p| p.len() == 1).await?;
    // Ada has waited over a second when the next two come: the queue counts it.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let mut bea = wait_in(&server, Hello::new("salon", "Bea")).await?;
    let _cem = wait_in(&server, Hello::new("salon", "Cem")).await?;
    let people = queue_where(&mut hanna, "three waiting", |p| p.len() == 3).await?;
    let names: Vec<&str> = people.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["Ada", "Bea", "Cem"], "longest waiting first");
    assert!(people[0].waited_s >= 1, "Ada waited: {people:?}");
    assert!(people[0].waited_s > people[2].waited_s, "{people:?}");
    // Two of the three, chosen: both come in, the third waits on.
    hanna.send(&admit(&[&people[0].id, &people[1].id])).await?;
    ada.welcomed().await?;
    bea.welcomed().await?;
    let left = queue_where(&mut hanna, "one left", |p| p.len() == 1).await?;
    assert_eq!(left[0].name, "Cem");
    Ok(())
}

#[tokio::test]
async fn an_invitation_only_room_refuses_the_uninvited_before_they_wait() -> Result<()> {
    let (server, mut hanna) = salon_made_with(r#""access":"invite""#).await?;
    queue_where(&mut hanna, "an empty queue", <[_]>::is_empty).await?;
    // Without an invitation: refused, typed, and never in the queue.
    let mut stranger = TestClient::connect(&server).await?;
    stranger.hello("salon", "Stranger").await?;
    assert_eq!(stranger.expect_error().await?.0, ErrorCode::InviteOnly);
    // With one: waits like anyone else, and comes in when admitted.
    let link = server.token("salon", TokenRole::Participant, None);
    let mut paul = wait_in(&server, Hello::new("salon", "Paul").token(&link)).await?;
    let people = queue_where(&mut hanna, "Paul waiting", |p| !p.is_empty()).await?;
    let names: Vec<&str> = people.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["Paul"], "only the invited wait");
    hanna.send(&admit(&[&people[0].id])).await?;
    paul.welcomed().await?;
    Ok(())
}
