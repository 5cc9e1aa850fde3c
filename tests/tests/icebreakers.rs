//! Icebreakers through the real protocol: a new circle's members all get the same prompt,
//! once; whoever joins the circle later gets the circle's prompt; a new circle gets a new
//! one; hosts (and only hosts) edit the list or turn them off, with a typed error for a
//! bad list; operators do it through the admin API; the list is kept in the store.

use std::time::Duration;

use anyhow::{Result, ensure};
use hallway::room::RoomSettings;
use hallway_proto::server::IcebreakerPrompt;
use hallway_proto::{ClientMessage, ErrorCode, ServerMessage};
use hallway_tests::circles::circle_of;
use hallway_tests::process::http_request;
use hallway_tests::{TestClient, TestServer};
use serde_json::{Value, json};

const KEY: &str = "an-admin-key-for-the-icebreaker-tests-0123";

/// The next icebreaker `client` is told: its circle and prompt.
async fn icebreaker(client: &mut TestClient) -> Result<(u64, IcebreakerPrompt)> {
    client
        .wait_for("an icebreaker", |m| match m {
            ServerMessage::Icebreaker { circle, prompt } => Some((*circle, prompt.clone())),
            _ => None,
        })
        .await
}

/// Fails if `client` is told an icebreaker before the answer to a ping (everything the
/// server meant for it until now came before that answer).
async fn no_icebreaker(client: &mut TestClient) -> Result<()> {
    client.send(&ClientMessage::Ping).await?;
    client
        .wait_for_without(
            "pong, and no icebreaker before it",
            |m| matches!(m, ServerMessage::Icebreaker { .. }),
            |m| matches!(m, ServerMessage::Pong).then_some(()),
        )
        .await
}

/// The next `icebreakers` settings a host is told.
async fn settings(host: &mut TestClient) -> Result<(bool, Vec<String>)> {
    host.wait_for("the icebreaker settings", |m| match m {
        ServerMessage::Icebreakers { on, prompts } => Some((*on, prompts.clone())),
        _ => None,
    })
    .await
}

fn meet_room(adjust: impl FnOnce(&mut RoomSettings)) -> RoomSettings {
    let mut settings = RoomSettings::new("meet", "Meet");
    adjust(&mut settings);
    settings
}

#[tokio::test]
async fn every_member_of_a_new_circle_sees_the_same_prompt_once() -> Result<()> {
    let server = TestServer::start().await?;
    server.open_room(meet_room(|_| {}))?;
    let anna = TestClient::join_room(&server, "meet", "Anna").await?;
    let ben = TestClient::join_room(&server, "meet", "Ben").await?;
    let mut pair = [anna, ben];
    circle_of(&mut pair).await?;
    let [mut anna, mut ben] = pair;
    let (circle, prompt) = icebreaker(&mut anna).await?;
    let (circle_b, prompt_b) = icebreaker(&mut ben).await?;
    assert_eq!(
        (circle, &prompt),
        (circle_b, &prompt_b),
        "the same for both"
    );
    // A built-in prompt, in both languages.
    let (en, de) = (prompt.en.clone(), prompt.de.clone());
    ensure!(
        prompt.text.is_none() && en.is_some() && de.is_some() && en != de,
        "{prompt:?}"
    );

    // Carl joins the circle: he is told its prompt; the others are not told again.
    let mut carl = TestClient::join_room(&server, "meet", "Carl").await?;
    carl.move_to(600.0, 640.0).await?;
    let (circle_c, prompt_c) = icebreaker(&mut carl).await?;
    assert_eq!((circle_c, &prompt_c), (circle, &prompt));
    no_icebreaker(&mut anna).await?;
    no_icebreaker(&mut ben).await?;

    // Anna and Ben walk off together: a new circle, a new prompt.
    anna.move_to(1800.0, 1200.0).await?;
    ben.move_to(1830.0, 1200.0).await?;
    let (next, next_prompt) = icebreaker(&mut anna).await?;
    assert_ne!(next, circle);
    assert_ne!(next_prompt, prompt, "the next circle gets the next prompt");
    assert_eq!(icebreaker(&mut ben).await?, (next, next_prompt));
    Ok(())
}

#[tokio::test]
async fn hosts_edit_the_prompts_and_turn_them_off() -> Result<()> {
    let server = TestServer::start().await?;
    server.open_room(meet_room(|_| {}))?;
    let mut hanna = TestClient::join_host(&server, "meet", "Hanna").await?;
    // Hosts are told the settings at once: on, the built-in list.
    assert_eq!(settings(&mut hanna).await?, (true, Vec::new()));
    let mut anna = TestClient::join_room(&server, "meet", "Anna").await?;
    let ben = TestClient::join_room(&server, "meet", "Ben").await?;

    // A participant may not change them.
    let own = vec![
        "Was ist Ihr liebstes Werkzeug?".to_owned(),
        String::new(),
        "  What would you build with unlimited time?  ".to_owned(),
    ];
    anna.send(&ClientMessage::SetIcebreakers {
        on: false,
        prompts: own.clone(),
    })
    .await?;
    assert_eq!(anna.expect_error().await?.0, ErrorCode::Forbidden);

    // A bad list is refused with its own code, and changes nothing.
    let long = "x".repeat(201);
    let many: Vec<String> = (0..51).map(|i| format!("Question {i}?")).collect();
    for bad in [
        vec![long],
        many,
        vec!["one\nline too many".to_owned()],
        vec!["mirrored \u{202E}txt".to_owned()],
    ] {
        hanna
            .send(&ClientMessage::SetIcebreakers {
                on: true,
                prompts: bad,
            })
            .await?;
        assert_eq!(hanna.expect_error().await?.0, ErrorCode::InvalidIcebreakers);
    }

    // The room's own list: trimmed, blank lines left out, shown as typed.
    hanna
        .send(&ClientMessage::SetIcebreakers {
            on: true,
            prompts: own,
        })
        .await?;
    let expected = vec![
        "Was ist Ihr liebstes Werkzeug?".to_owned(),
        "What would you build with unlimited time?".to_owned(),
    ];
    assert_eq!(settings(&mut hanna).await?, (true, expected.clone()));
    let mut pair = [anna, ben];
    circle_of(&mut pair).await?;
    let [mut anna, mut ben] = pair;
    let (_, prompt) = icebreaker(&mut anna).await?;
    ensure!(prompt.en.is_none() && prompt.de.is_none(), "{prompt:?}");
    let text = prompt.text.clone().unwrap_or_default();
    assert!(expected.contains(&text), "{text:?}");
    assert_eq!(icebreaker(&mut ben).await?.1, prompt);

    // Off: a new circle has none.
    hanna
        .send(&ClientMessage::SetIcebreakers {
            on: false,
            prompts: expected.clone(),
        })
        .await?;
    assert_eq!(settings(&mut hanna).await?, (false, expected));
    anna.move_to(1800.0, 1200.0).await?;
    ben.move_to(1830.0, 1200.0).await?;
    let ids = [anna.id.clone(), ben.id.clone()];
    anna.wait_for_circle_with(&ids).await?;
    no_icebreaker(&mut anna).await?;
    // Participants are never told the room's list.
    anna.send(&ClientMessage::Ping).await?;
    anna.wait_for_without(
        "pong, and no settings before it",
        |m| matches!(m, ServerMessage::Icebreakers { .. }),
        |m| matches!(m, ServerMessage::Pong).then_some(()),
    )
    .await?;
    Ok(())
}

async fn api(server: &TestServer, method: &str, path: &str, body: Value) -> Result<(u16, Value)> {
    let auth = format!("Bearer {KEY}");
    let headers = [
        ("Authorization", auth.as_str()),
        ("Content-Type", "application/json"),
    ];
    let body = if body.is_null() {
        String::new()
    } else {
        body.to_string()
    };
    let (status, text) =
        http_request(server.addr(), method, path, &headers, body.as_bytes()).await?;
    Ok((
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    ))
}

#[tokio::test]
async fn operators_set_them_by_the_admin_api_and_a_hosts_change_is_kept() -> Result<()> {
    let server = TestServer::start_with(|c| c.admin_key = Some(KEY.into())).await?;
    let (status, room) = api(&server, "POST", "/api/rooms", json!({"slug": "expo"})).await?;
    assert_eq!(status, 201, "{room}");
    assert_eq!(room["icebreakers"], true);
    assert_eq!(room["icebreaker_prompts"], json!([]));
    let mut hanna = TestClient::join_host(&server, "expo", "Hanna").await?;
    assert_eq!(settings(&mut hanna).await?, (true, Vec::new()));

    // Refused: too long.
    let (status, _) = api(
        &server,
        "PATCH",
        "/api/rooms/expo",
        json!({"icebreaker_prompts": ["y".repeat(201)]}),
    )
    .await?;
    assert_eq!(status, 422);

    // Taken, and the running room tells its hosts at once.
    let (status, room) = api(
        &server,
        "PATCH",
        "/api/rooms/expo",
        json!({"icebreakers": false, "icebreaker_prompts": ["Wie sind Sie angereist?"]}),
    )
    .await?;
    assert_eq!(status, 200, "{room}");
    assert_eq!(room["icebreakers"], false);
    assert_eq!(
        room["icebreaker_prompts"],
        json!(["Wie sind Sie angereist?"])
    );
    assert_eq!(
        settings(&mut hanna).await?,
        (false, vec!["Wie sind Sie angereist?".to_owned()])
    );

    // A host's change is written to the store (off the room's task: wait for it).
    hanna
        .send(&ClientMessage::SetIcebreakers {
            on: true,
            prompts: vec!["Was bringt Sie heute her?".to_owned()],
        })
        .await?;
    settings(&mut hanna).await?;
    let until = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let (_, room) = api(&server, "GET", "/api/rooms/expo", Value::Null).await?;
        if room["icebreakers"] == true
            && room["icebreaker_prompts"] == json!(["Was bringt Sie heute her?"])
        {
            break;
        }
        ensure!(
            tokio::time::Instant::now() < until,
            "the host's change was not kept: {room}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

/// Runs `hallway <args>` with this data folder; (success, stdout + stderr).
fn hallway_cli(data_dir: &std::path::Path, args: &[&str]) -> Result<(bool, String)> {
    let output = std::process::Command::new(hallway_tests::process::binary_path()?)
        .args(args)
        .env("HALLWAY_DATA_DIR", data_dir)
        .output()?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    Ok((output.status.success(), text))
}

#[test]
fn operators_set_them_from_the_command_line() -> Result<()> {
    use hallway::store::{RoomStore, SqliteStore};
    let dir = std::env::temp_dir().join(format!(
        "hallway-icebreakers-{}",
        hallway_tests::process::rand_suffix()
    ));
    std::fs::create_dir_all(&dir)?;
    let stored = |dir: &std::path::Path| -> Result<(bool, Vec<String>)> {
        let room = SqliteStore::open(dir)?
            .get("coffee")?
            .ok_or_else(|| anyhow::anyhow!("no room"))?;
        Ok((room.icebreakers, room.icebreaker_prompts))
    };
    let (ok, out) = hallway_cli(&dir, &["room", "create", "coffee"])?;
    assert!(ok, "{out}");
    assert_eq!(stored(&dir)?, (true, Vec::new()), "on, the built-in ones");

    let file = dir.join("prompts.txt");
    std::fs::write(
        &file,
        "Was hat Sie heute überrascht?\n\n  Which tool would you never give up?  \n",
    )?;
    let path = file.to_string_lossy().into_owned();
    let (ok, out) = hallway_cli(
        &dir,
        &[
            "room",
            "update",
            "coffee",
            "--icebreaker-prompts",
            &path,
            "--icebreakers",
            "false",
        ],
    )?;
    assert!(ok, "{out}");
    assert_eq!(
        stored(&dir)?,
        (
            false,
            vec![
                "Was hat Sie heute überrascht?".to_owned(),
                "Which tool would you never give up?".to_owned()
            ]
        )
    );

    // Refused with a clear message, and nothing changes.
    std::fs::write(&file, format!("fine\n{}\n", "z".repeat(201)))?;
    let (ok, out) = hallway_cli(
        &dir,
        &["room", "update", "coffee", "--icebreaker-prompts", &path],
    )?;
    assert!(!ok && out.contains("at most 50 prompts"), "{out}");
    let (ok, out) = hallway_cli(
        &dir,
        &[
            "room",
            "update",
            "coffee",
            "--icebreaker-prompts",
            "/no/such/file",
        ],
    )?;
    assert!(!ok && out.contains("cannot read the icebreakers"), "{out}");
    assert_eq!(stored(&dir)?.1.len(), 2);

    // Back to the built-in list.
    let (ok, out) = hallway_cli(
        &dir,
        &[
            "room",
            "update",
            "coffee",
            "--icebreaker-prompts",
            "builtin",
            "--icebreakers",
            "true",
        ],
    )?;
    assert!(ok, "{out}");
    assert_eq!(stored(&dir)?, (true, Vec::new()));
    let _ = std::fs::remove_dir_all(dir);
    Ok(())
}
