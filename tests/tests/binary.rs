//! The `hallway` binary as operators run it: configured by environment variables, healthy,
//! serving the demo room, and stopping cleanly on SIGTERM.

use anyhow::Result;
use hallway_tests::process::{ServerProcess, http_get};
use tokio_tungstenite::tungstenite::Message;

#[tokio::test]
async fn the_binary_serves_the_demo_room_and_stops_on_sigterm() -> Result<()> {
    let server = ServerProcess::start(
        &[],
        &[
            ("HALLWAY_ROOMS", "foyer,coffee-corner"),
            ("HALLWAY_TICK_HZ", "20"),
        ],
    )?;
    assert!(
        server
            .banner
            .iter()
            .any(|l| l.contains("Room foyer: participants join at"))
            && server
                .banner
                .iter()
                .any(|l| l.contains("Room coffee-corner: participants join at")),
        "{:?}",
        server.banner
    );
    assert_eq!(
        http_get(server.addr, "/healthz").await?,
        (200, "ok".to_owned())
    );
    assert_eq!(
        http_get(server.addr, "/readyz").await?,
        (200, "ready".to_owned())
    );

    // The demo room named by the environment exists and says its tick rate.
    use futures_util::{SinkExt, StreamExt};
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{}/ws", server.addr)).await?;
    ws.send(Message::text(
        r#"{"type":"hello","version":2,"room":"foyer","name":"Ops"}"#,
    ))
    .await?;
    let Some(Ok(Message::Text(welcome))) = ws.next().await else {
        panic!("no welcome")
    };
    let welcome: serde_json::Value = serde_json::from_str(&welcome)?;
    assert_eq!(welcome["type"], "welcome");
    assert_eq!(welcome["room"]["slug"], "foyer");
    assert_eq!(welcome["room"]["tick_hz"], 20);

    let status = server.terminate()?;
    assert!(status.success(), "exit status {status}");
    Ok(())
}

/// The README's command (`cargo run --release`), without the release build: from the
/// repository's root, `cargo run` must pick the server out of the workspace's binaries.
#[test]
fn cargo_run_from_the_root_runs_the_server() -> Result<()> {
    let readme = std::fs::read_to_string(hallway_tests::process::repo_root().join("README.md"))?;
    assert!(
        readme.contains("\ncargo run --release\n"),
        "the README's command changed"
    );
    let out = std::process::Command::new(env!("CARGO"))
        .args(["run", "--locked", "-q", "--", "--version"])
        .current_dir(hallway_tests::process::repo_root())
        .output()?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.starts_with("hallway "),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(())
}

#[test]
fn bad_configuration_is_refused_with_a_clear_message() -> Result<()> {
    let output = std::process::Command::new(hallway_tests::process::binary_path()?)
        .env("HALLWAY_TICK_HZ", "0")
        .output()?;
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("tick-hz") || stderr.contains("TICK_HZ"),
        "{stderr}"
    );
    Ok(())
}

#[test]
fn bad_statement_and_feedback_settings_are_refused_with_a_clear_message() -> Result<()> {
    for (env, value, expected) in [
        ("HALLWAY_STATEMENT_REVIEWED", "2026-02-30", "YYYY-MM-DD"),
        (
            "HALLWAY_STATEMENT_ENFORCEMENT_URL",
            "javascript:alert(1)",
            "https://",
        ),
        ("HALLWAY_FEEDBACK_EMAIL", "not an address", "e-mail address"),
        ("HALLWAY_FEEDBACK_EMAIL", "a11y@stadt.example", "smtp-url"),
        ("HALLWAY_SMTP_URL", "http://mail.example", "SMTP"),
    ] {
        let output = std::process::Command::new(hallway_tests::process::binary_path()?)
            .env(env, value)
            .output()?;
        assert!(!output.status.success(), "{env}={value} was taken");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(expected), "{env}={value}: {stderr}");
    }
    Ok(())
}

#[tokio::test]
async fn the_host_link_is_printed_and_hallway_link_mints_with_the_same_secret() -> Result<()> {
    use futures_util::{SinkExt, StreamExt};
    let data = std::env::temp_dir().join(format!(
        "hallway-link-{}",
        hallway_tests::process::rand_suffix()
    ));
    let data_dir = data.to_string_lossy().into_owned();
    let env = [
        ("HALLWAY_DATA_DIR", data_dir.as_str()),
        ("HALLWAY_ROOMS", "foyer"),
        ("HALLWAY_PUBLIC_URL", "https://events.example.org/"),
        // Standard output is a pipe here, not a terminal: links are printed when asked.
        ("HALLWAY_PRINT_LINKS", "always"),
    ];
    let server = ServerProcess::start(&[], &env)?;
    assert!(
        server
            .banner
            .iter()
            .any(|l| l == "Room foyer: participants join at https://events.example.org/r/foyer"),
        "the participants' link, from --public-url: {:?}",
        server.banner
    );
    let host_line = server
        .banner
        .iter()
        .find(|l| l.trim_start().starts_with("Host link for foyer"))
        .expect("a host link is printed");
    assert!(
        host_line.contains("https://events.example.org/r/foyer#token="),
        "{host_line}"
    );
    assert!(
        data.join("secret").exists(),
        "the secret was created in the data folder"
    );

    // `hallway link` in another process, reading the same secret.
    let output = std::process::Command::new(hallway_tests::process::binary_path()?)
        .args([
            "link",
            "--room",
            "foyer",
            "--role",
            "host",
            "--name",
            "Hanna Host",
        ])
        .env("HALLWAY_DATA_DIR", &data_dir)
        .env("HALLWAY_PUBLIC_URL", "https://events.example.org/")
        .env_remove("HALLWAY_SECRET")
        .output()?;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let link = String::from_utf8(output.stdout)?;
    assert!(
        link.starts_with("https://events.example.org/r/foyer#token="),
        "hallway link builds on the same base as the banner: {link}"
    );
    let token = link
        .trim()
        .split("#token=")
        .nth(1)
        .expect("a token in the link")
        .to_owned();

    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{}/ws", server.addr)).await?;
    let hello =
        format!(r#"{{"type":"hello","version":2,"room":"foyer","name":"x","token":"{token}"}}"#);
    ws.send(Message::text(hello)).await?;
    let Some(Ok(Message::Text(welcome))) = ws.next().await else {
        panic!("no welcome")
    };
    let welcome: serde_json::Value = serde_json::from_str(&welcome)?;
    let me = welcome["participants"]
        .as_array()
        .expect("participants")
        .iter()
        .find(|p| p["id"] == welcome["you"])
        .cloned();
    let me = me.expect("me in the snapshot");
    assert_eq!(
        (me["role"].as_str(), me["name"].as_str()),
        (Some("host"), Some("Hanna Host"))
    );
    drop(ws);
    server.terminate()?;
    let _ = std::fs::remove_dir_all(data);
    Ok(())
}

#[tokio::test]
async fn hallway_invite_writes_a_personal_link_per_attendee() -> Result<()> {
    use futures_util::{SinkExt, StreamExt};
    let dir = std::env::temp_dir().join(format!(
        "hallway-invite-{}",
        hallway_tests::process::rand_suffix()
    ));
    std::fs::create_dir_all(&dir)?;
    let list = dir.join("attendees.csv");
    std::fs::write(
        &list,
        "Vorname;Nachname;E-Mail;Behörde;Themen\nAnna-Lena;Müller;anna@example.org;Stadt Bamberg;Smart City\nBen;Okafor;ben@example.org;Bundesamt für Statistik;Open Data, Register\n",
    )?;
    let out = dir.join("invitations.csv");
    let data_dir = dir.join("data").to_string_lossy().into_owned();
    let status = std::process::Command::new(hallway_tests::process::binary_path()?)
        .args(["invite", "--room", "lobby", "--csv"])
        .arg(&list)
        .arg("--out")
        .arg(&out)
        .env("HALLWAY_DATA_DIR", &data_dir)
        .env_remove("HALLWAY_SECRET")
        .output()?;
    assert!(status.status.success());
    // It says which columns made the profile lines.
    let said = String::from_utf8_lossy(&status.stderr);
    assert!(
        said.contains("2 invitations for lobby; profile lines from Behörde + Themen"),
        "{said}"
    );
    let written = std::fs::read_to_string(&out)?;
    let lines: Vec<&str> = written.lines().collect();
    assert_eq!(lines.len(), 3, "{written}");
    assert_eq!(lines[0], "name;email;profile;link");
    assert!(
        lines[1].starts_with(
            "Anna-Lena Müller;anna@example.org;Stadt Bamberg · Smart City;http://localhost:8080/r/lobby#token="
        ),
        "{}",
        lines[1]
    );

    // The link works against a server with the same data folder, and fixes the name.
    let server = ServerProcess::start(&[], &[("HALLWAY_DATA_DIR", data_dir.as_str())])?;
    let token = lines[2].split("#token=").nth(1).expect("token");
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{}/ws", server.addr)).await?;
    ws.send(Message::text(format!(
        r#"{{"type":"hello","version":2,"room":"lobby","name":"?","token":"{token}"}}"#
    )))
    .await?;
    let Some(Ok(Message::Text(welcome))) = ws.next().await else {
        panic!("no welcome")
    };
    let welcome: serde_json::Value = serde_json::from_str(&welcome)?;
    let me = welcome["participants"]
        .as_array()
        .expect("participants")
        .iter()
        .find(|p| p["id"] == welcome["you"])
        .cloned();
    // The link fixes the name and the profile line (organisation and topics).
    let me = me.expect("me");
    assert_eq!(me["name"], "Ben Okafor");
    assert_eq!(
        me["profile"],
        "Bundesamt für Statistik · Open Data, Register"
    );
    drop(ws);
    server.terminate()?;
    let _ = std::fs::remove_dir_all(dir);
    Ok(())
}

/// Runs `hallway <args>` with this data folder; (success, stdout + stderr).
fn hallway_cli(data_dir: &str, args: &[&str]) -> Result<(bool, String)> {
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

/// Says hello to `room` and returns the first message as JSON.
async fn first_message(server: &ServerProcess, room: &str) -> Result<serde_json::Value> {
    use futures_util::{SinkExt, StreamExt};
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{}/ws", server.addr)).await?;
    ws.send(Message::text(format!(
        r#"{{"type":"hello","version":2,"room":"{room}","name":"Ops"}}"#
    )))
    .await?;
    let Some(Ok(Message::Text(text))) = ws.next().await else {
        panic!("no answer")
    };
    Ok(serde_json::from_str(&text)?)
}

#[tokio::test]
async fn rooms_are_kept_and_managed_from_the_command_line() -> Result<()> {
    let dir = std::env::temp_dir().join(format!(
        "hallway-rooms-{}",
        hallway_tests::process::rand_suffix()
    ));
    let data = dir.to_string_lossy().into_owned();
    let env = [("HALLWAY_DATA_DIR", data.as_str())];

    let (ok, out) = hallway_cli(
        &data,
        &[
            "room",
            "create",
            "coffee",
            "--title",
            "Kaffeeecke",
            "--max-circle-size",
            "6",
        ],
    )?;
    assert!(ok, "{out}");
    let (ok, out) = hallway_cli(&data, &["room", "create", "coffee"])?;
    assert!(!ok && out.contains("already exists"), "{out}");
    let (ok, out) = hallway_cli(&data, &["room", "create", "Bad Slug"])?;
    assert!(!ok && out.contains("slugs"), "{out}");
    let (ok, out) = hallway_cli(&data, &["room", "create", "tiny", "--width", "5"])?;
    assert!(!ok && out.contains("invalid settings"), "{out}");
    let (ok, out) = hallway_cli(&data, &["room", "list"])?;
    assert!(ok && out.contains("coffee\tKaffeeecke"), "{out}");

    let server = ServerProcess::start(&[], &env)?;
    let welcome = first_message(&server, "coffee").await?;
    assert_eq!(
        (
            welcome["room"]["title"].as_str(),
            welcome["room"]["max_circle_size"].as_u64()
        ),
        (Some("Kaffeeecke"), Some(6))
    );
    // Created while the server runs: opened on the first visit.
    assert!(hallway_cli(&data, &["room", "create", "tea", "--title", "Teestube"])?.0);
    assert_eq!(
        first_message(&server, "tea").await?["room"]["title"],
        "Teestube"
    );
    server.terminate()?;

    // Updates and deletes apply from the next start; rooms survive restarts.
    assert!(hallway_cli(&data, &["room", "update", "coffee", "--title", "Café"])?.0);
    assert!(hallway_cli(&data, &["room", "delete", "tea"])?.0);
    let (ok, out) = hallway_cli(&data, &["room", "delete", "tea"])?;
    assert!(!ok && out.contains("no room tea"), "{out}");
    let server = ServerProcess::start(&[], &env)?;
    assert_eq!(
        first_message(&server, "coffee").await?["room"]["title"],
        "Café"
    );
    assert_eq!(first_message(&server, "lobby").await?["type"], "welcome");
    let gone = first_message(&server, "tea").await?;
    assert_eq!(
        (gone["type"].as_str(), gone["code"].as_str()),
        (Some("error"), Some("room_not_found"))
    );
    server.terminate()?;
    let _ = std::fs::remove_dir_all(dir);
    Ok(())
}

#[tokio::test]
async fn areas_a_host_edits_are_kept_across_restarts() -> Result<()> {
    use futures_util::SinkExt;
    let dir = std::env::temp_dir().join(format!(
        "hallway-areas-{}",
        hallway_tests::process::rand_suffix()
    ));
    let data = dir.to_string_lossy().into_owned();
    let key = "an-admin-key-for-the-tests-0123456789";
    let env = [
        ("HALLWAY_DATA_DIR", data.as_str()),
        ("HALLWAY_ADMIN_KEY", key),
    ];
    let server = ServerProcess::start(&[], &env)?;
    let (ok, link) = hallway_cli(&data, &["link", "--room", "lobby", "--role", "host"])?;
    assert!(ok, "{link}");
    let token = link
        .trim()
        .split("#token=")
        .nth(1)
        .expect("token")
        .to_owned();
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{}/ws", server.addr)).await?;
    ws.send(Message::text(format!(
        r#"{{"type":"hello","version":2,"room":"lobby","name":"Hanna","token":"{token}"}}"#
    )))
    .await?;
    // Not the demo room's own stage area ("Bühne / Stage"): a name only the host's edit has.
    let areas = r#"[{"id":7,"name":"Bibliothek","x":0,"y":0,"width":600,"height":300,"stage":false,"quiet":true}]"#;
    ws.send(Message::text(format!(
        r#"{{"type":"set_areas","areas":{areas}}}"#
    )))
    .await?;
    // Wait until the store has them (written off the room's task).
    let auth = format!("Bearer {key}");
    let until = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let (_, body) = hallway_tests::process::http_request(
            server.addr,
            "GET",
            "/api/rooms/lobby",
            &[("Authorization", auth.as_str())],
            b"",
        )
        .await?;
        if body.contains("Bibliothek") {
            break;
        }
        assert!(std::time::Instant::now() < until, "areas not kept: {body}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    drop(ws);
    server.terminate()?;
    let server = ServerProcess::start(&[], &env)?;
    let welcome = first_message(&server, "lobby").await?;
    assert_eq!(welcome["areas"][0]["name"], "Bibliothek");
    server.terminate()?;
    let _ = std::fs::remove_dir_all(dir);
    Ok(())
}

#[tokio::test]
async fn a_container_style_start_writes_no_token_anywhere() -> Result<()> {
    let log_path = std::env::temp_dir().join(format!(
        "hallway-json-log-{}",
        hallway_tests::process::rand_suffix()
    ));
    let log = std::fs::File::create(&log_path)?;
    // JSON logs and standard output a pipe, as under Docker.
    let env = [("HALLWAY_LOG_FORMAT", "json"), ("HALLWAY_ROOMS", "foyer")];
    let server = ServerProcess::start_with_log(&[], &env, log)?;
    let addr = server.addr;
    // Someone joins, so that the log has something to say.
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws")).await?;
    use futures_util::SinkExt;
    ws.send(Message::text(
        r#"{"type":"hello","version":2,"room":"foyer","name":"Anna"}"#,
    ))
    .await?;
    drop(ws);
    let banner = server.banner.join("\n");
    server.terminate()?;
    let logged = std::fs::read_to_string(&log_path)?;
    let _ = std::fs::remove_file(&log_path);
    assert!(
        banner.contains("participants join at http://localhost:"),
        "the participants' link is shown: {banner}"
    );
    for (what, text) in [("standard output", &banner), ("the log", &logged)] {
        assert!(
            !text.contains("token=") && !text.contains("eyJ"),
            "{what} holds a token: {text}"
        );
    }
    Ok(())
}
