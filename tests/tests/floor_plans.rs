//! Floor plans over the real server: the demo room's built-in plan, a host's choice and
//! upload, the admin API, the CLI, what images are served with, and who is told.

use anyhow::{Result, ensure};
use hallway::access::TokenRole;
use hallway_proto::{ClientMessage, ErrorCode, ServerMessage};
use hallway_tests::http::{Response, exchange};
use hallway_tests::{TestClient, TestServer};
use serde_json::{Value, json};

const KEY: &str = "an-admin-key-for-the-floor-plan-tests-0123";

/// The smallest PNG there is: one transparent pixel.
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89\0\0\0\rIDATx\x9cc\xf8\x0f\0\x01\x01\x01\0\x18\xdd\x8d\xb0\0\0\0\0IEND\xaeB`\x82";

/// A JPEG's first bytes (its magic) and some more.
const JPEG: &[u8] = b"\xff\xd8\xff\xe0\0\x10JFIF\0\x01\x01\0\0\x01\0\x01\0\0\xff\xd9";

/// An SVG with a script in it: accepted as an image, never run (its CSP forbids scripts).
const SVG: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><script>alert(1)</script><rect width="10" height="10" fill="#eee"/></svg>"##;

/// The floor plan URL in a client's welcome.
fn welcome_plan(client: &TestClient) -> Option<String> {
    match &client.welcome {
        Some(ServerMessage::Welcome { room, .. }) => room.floor_plan.clone(),
        _ => None,
    }
}

/// Waits for a `floor_plan` message; returns its URL.
async fn told(client: &mut TestClient) -> Result<Option<String>> {
    client
        .wait_for("a floor_plan message", |m| match m {
            ServerMessage::FloorPlan { url } => Some(url.clone()),
            _ => None,
        })
        .await
}

async fn get(server: &TestServer, path: &str) -> Result<Response> {
    exchange(server.addr(), "GET", path, &[], b"").await
}

async fn upload(server: &TestServer, room: &str, token: &str, body: &[u8]) -> Result<Response> {
    let auth = format!("Bearer {token}");
    exchange(
        server.addr(),
        "PUT",
        &format!("/r/{room}/floor-plan"),
        &[("Authorization", auth.as_str())],
        body,
    )
    .await
}

async fn admin(server: &TestServer, method: &str, path: &str, body: &[u8]) -> Result<Response> {
    let auth = format!("Bearer {KEY}");
    exchange(
        server.addr(),
        method,
        path,
        &[("Authorization", auth.as_str())],
        body,
    )
    .await
}

/// Checks an image response: its type, nosniff, and for SVG a policy without scripts.
fn served_as(response: &Response, mime: &str) -> Result<()> {
    ensure!(
        response.status == 200,
        "{}: {}",
        response.status,
        response.text()
    );
    ensure!(
        response.header("content-type") == Some(mime),
        "{:?}",
        response.headers
    );
    ensure!(response.header("x-content-type-options") == Some("nosniff"));
    if mime == "image/svg+xml" {
        let csp = response
            .header("content-security-policy")
            .unwrap_or_default();
        ensure!(csp.contains("script-src 'none'"), "CSP: {csp:?}");
        ensure!(csp.contains("default-src 'none'"), "CSP: {csp:?}");
    }
    Ok(())
}

#[tokio::test]
async fn the_demo_room_starts_in_the_hall_with_its_stage() -> Result<()> {
    let server = TestServer::start().await?;
    let client = TestClient::join(&server, "Ada").await?;
    let url = welcome_plan(&client).expect("the lobby has a plan");
    assert!(url.starts_with("/plans/hall.svg?v="), "{url}");
    let Some(ServerMessage::Welcome { areas, .. }) = &client.welcome else {
        unreachable!()
    };
    assert!(
        areas.iter().any(|a| a.stage && a.y < 400.0),
        "a stage area where the hall's stage is drawn: {areas:?}"
    );
    let plan = get(&server, &url).await?;
    served_as(&plan, "image/svg+xml")?;
    assert!(plan.text().contains("viewBox=\"0 0 2400 1600\""));
    assert_eq!(
        plan.header("cache-control"),
        Some("public, max-age=31536000, immutable"),
        "the versioned URL is cached for good"
    );
    for name in ["foyer", "garden"] {
        served_as(
            &get(&server, &format!("/plans/{name}.svg")).await?,
            "image/svg+xml",
        )?;
    }
    assert_eq!(get(&server, "/plans/castle.svg").await?.status, 404);
    server.stop().await
}

#[tokio::test]
async fn a_host_chooses_a_builtin_plan_and_everyone_is_told_at_once() -> Result<()> {
    let server = TestServer::start().await?;
    let mut host = TestClient::join_host(&server, "lobby", "Host").await?;
    let mut ada = TestClient::join(&server, "Ada").await?;
    let set = |plan: Option<&str>| ClientMessage::SetFloorPlan {
        plan: plan.map(str::to_owned),
    };

    // Not a host: refused, and the plan stays.
    ada.send(&set(Some("builtin:garden"))).await?;
    assert_eq!(ada.expect_error().await?.0, ErrorCode::Forbidden);
    host.send(&set(Some("builtin:castle"))).await?;
    assert_eq!(host.expect_error().await?.0, ErrorCode::UnknownFloorPlan);

    host.send(&set(Some("builtin:garden"))).await?;
    let url = told(&mut ada).await?.expect("a plan");
    assert!(url.starts_with("/plans/garden.svg?v="), "{url}");
    assert_eq!(told(&mut host).await?.as_deref(), Some(url.as_str()));
    let late = TestClient::join(&server, "Ben").await?;
    assert_eq!(welcome_plan(&late).as_deref(), Some(url.as_str()));
    let about = get(&server, "/r/lobby/about").await?.json()?;
    assert_eq!(about["floor_plan"], url.as_str());

    host.send(&set(None)).await?;
    assert_eq!(told(&mut ada).await?, None);
    let about = get(&server, "/r/lobby/about").await?.json()?;
    assert_eq!(about["floor_plan"], Value::Null);
    server.stop().await
}

#[tokio::test]
async fn a_host_uploads_an_image_with_their_link_and_bad_ones_are_refused() -> Result<()> {
    let server = TestServer::start().await?;
    let mut ada = TestClient::join(&server, "Ada").await?;
    let host = server.token("lobby", TokenRole::Host, None);
    let participant = server.token("lobby", TokenRole::Participant, None);
    let elsewhere = server.token("other", TokenRole::Host, None);

    // Only a host of this room.
    assert_eq!(
        upload(&server, "lobby", &participant, PNG).await?.status,
        403
    );
    assert_eq!(upload(&server, "lobby", &elsewhere, PNG).await?.status, 401);
    assert_eq!(upload(&server, "lobby", "forged", PNG).await?.status, 401);
    let anonymous = exchange(server.addr(), "PUT", "/r/lobby/floor-plan", &[], PNG).await?;
    assert_eq!(anonymous.status, 401);
    let nowhere = server.token("nowhere", TokenRole::Host, None);
    assert_eq!(upload(&server, "nowhere", &nowhere, PNG).await?.status, 404);

    let answer = upload(&server, "lobby", &host, PNG).await?;
    assert_eq!(answer.status, 200, "{}", answer.text());
    let url = answer.json()?["floor_plan"]
        .as_str()
        .expect("a URL")
        .to_owned();
    assert!(url.starts_with("/r/lobby/floor-plan?v="), "{url}");
    assert_eq!(told(&mut ada).await?.as_deref(), Some(url.as_str()));
    let image = get(&server, &url).await?;
    served_as(&image, "image/png")?;
    assert_eq!(image.body, PNG);

    // Refused by their bytes, whatever they claim; the plan stays as it was.
    let gif = upload(&server, "lobby", &host, b"GIF89a\x01\0\x01\0\0\0\0;").await?;
    assert_eq!(gif.status, 415, "{}", gif.text());
    assert!(gif.json()?["error"].as_str().is_some());
    let broken = upload(&server, "lobby", &host, b"<svg><g></svg>").await?;
    assert_eq!(broken.status, 415);
    let not_svg = upload(&server, "lobby", &host, b"<html><svg/></html>").await?;
    assert_eq!(not_svg.status, 415);
    let mut big = PNG.to_vec();
    big.resize(hallway::floor_plan::MAX_FLOOR_PLAN_BYTES + 1, 0);
    let too_big = upload(&server, "lobby", &host, &big).await?;
    assert_eq!(too_big.status, 413, "{}", too_big.text());
    assert!(too_big.json()?["error"].as_str().is_some());
    assert_eq!(
        get(&server, "/r/lobby/about").await?.json()?["floor_plan"],
        url.as_str()
    );
    assert_eq!(get(&server, &url).await?.body, PNG);

    // An SVG is served with a policy under which its script never runs.
    let answer = upload(&server, "lobby", &host, SVG.as_bytes()).await?;
    assert_eq!(answer.status, 200, "{}", answer.text());
    let svg_url = told(&mut ada).await?.expect("a plan");
    assert_ne!(svg_url, url, "a new picture, a new URL");
    served_as(&get(&server, &svg_url).await?, "image/svg+xml")?;
    server.stop().await
}

#[tokio::test]
async fn operators_set_plans_with_the_admin_api_and_the_room_is_told() -> Result<()> {
    let server = TestServer::start_with(|c| c.admin_key = Some(KEY.into())).await?;
    let mut ada = TestClient::join(&server, "Ada").await?;

    let patch = |plan: Value| json!({ "floor_plan": plan }).to_string();
    let changed = admin(
        &server,
        "PATCH",
        "/api/rooms/lobby",
        patch(json!("builtin:foyer")).as_bytes(),
    )
    .await?;
    assert_eq!(changed.status, 200, "{}", changed.text());
    assert_eq!(changed.json()?["floor_plan"], "builtin:foyer");
    let url = told(&mut ada).await?.expect("a plan");
    assert!(url.starts_with("/plans/foyer.svg"), "{url}");

    let unknown = admin(
        &server,
        "PATCH",
        "/api/rooms/lobby",
        patch(json!("/etc/passwd")).as_bytes(),
    )
    .await?;
    assert_eq!(
        unknown.status,
        422,
        "a path is never read: {}",
        unknown.text()
    );

    let uploaded = admin(&server, "PUT", "/api/rooms/lobby/floor-plan", JPEG).await?;
    assert_eq!(uploaded.status, 200, "{}", uploaded.text());
    let url = told(&mut ada).await?.expect("a plan");
    served_as(&get(&server, &url).await?, "image/jpeg")?;
    let refused = admin(
        &server,
        "PUT",
        "/api/rooms/lobby/floor-plan",
        b"not an image",
    )
    .await?;
    assert_eq!(refused.status, 415);
    let unauthorised = exchange(
        server.addr(),
        "PUT",
        "/api/rooms/lobby/floor-plan",
        &[],
        JPEG,
    )
    .await?;
    assert_eq!(unauthorised.status, 401);

    let removed = admin(
        &server,
        "PATCH",
        "/api/rooms/lobby",
        patch(Value::Null).as_bytes(),
    )
    .await?;
    assert_eq!(removed.status, 200, "{}", removed.text());
    assert_eq!(told(&mut ada).await?, None);
    assert_eq!(get(&server, &url).await?.status, 404, "no longer the plan");

    // A room created with a plan has it from the start.
    let created = admin(
        &server,
        "POST",
        "/api/rooms",
        json!({ "slug": "garten", "floor_plan": "builtin:garden" })
            .to_string()
            .as_bytes(),
    )
    .await?;
    assert_eq!(created.status, 201, "{}", created.text());
    let guest = TestClient::join_room(&server, "garten", "Gast").await?;
    assert!(welcome_plan(&guest).is_some_and(|u| u.starts_with("/plans/garden.svg")));
    server.stop().await
}

#[tokio::test]
async fn a_plan_set_with_the_cli_is_kept_across_restarts() -> Result<()> {
    let data = std::env::temp_dir().join(format!(
        "hallway-plans-{}",
        hallway_tests::process::rand_suffix()
    ));
    std::fs::create_dir_all(&data)?;
    let image = data.join("plan.png");
    std::fs::write(&image, PNG)?;
    let cli = |args: &[&str]| -> Result<(bool, String)> {
        let output = std::process::Command::new(hallway_tests::process::binary_path()?)
            .args(args)
            .env("HALLWAY_DATA_DIR", &data)
            .output()?;
        Ok((
            output.status.success(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ),
        ))
    };
    let path = image.to_string_lossy().into_owned();
    let (ok, out) = cli(&["room", "create", "coffee", "--floor-plan", &path])?;
    assert!(ok, "{out}");
    let text = data.join("notes.txt");
    std::fs::write(&text, "not an image")?;
    let (ok, out) = cli(&[
        "room",
        "update",
        "coffee",
        "--floor-plan",
        &text.to_string_lossy(),
    ])?;
    assert!(!ok && out.contains("PNG, JPEG or SVG"), "{out}");
    let (ok, out) = cli(&["room", "update", "coffee", "--floor-plan", "builtin:nope"])?;
    assert!(!ok && out.contains("builtin:foyer"), "{out}");

    for _ in 0..2 {
        let dir = data.clone();
        let server = TestServer::start_with(move |c| c.data_dir = dir).await?;
        let client = TestClient::join_room(&server, "coffee", "Ada").await?;
        let url = welcome_plan(&client).expect("the plan");
        assert!(url.starts_with("/r/coffee/floor-plan?v="), "{url}");
        assert_eq!(get(&server, &url).await?.body, PNG);
        client.close().await?;
        server.stop().await?;
    }
    let (ok, out) = cli(&["room", "update", "coffee", "--floor-plan", "none"])?;
    assert!(ok, "{out}");
    let server = TestServer::start_with(|c| c.data_dir = data.clone()).await?;
    let client = TestClient::join_room(&server, "coffee", "Ada").await?;
    assert_eq!(welcome_plan(&client), None);
    server.stop().await?;
    let _ = std::fs::remove_dir_all(&data);
    Ok(())
}
