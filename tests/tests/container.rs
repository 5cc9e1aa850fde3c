//! What the container runs, without a Docker engine: the binary started with the ENV of
//! `docker/Dockerfile` (ports and data folder moved to free ones for the test), and the
//! Dockerfile's HEALTHCHECK command run against it.

use std::process::Command;

use anyhow::{Context, Result, bail};
use hallway_tests::process::{ServerProcess, binary_path, http_get, repo_root};

/// The `KEY=value` pairs of the Dockerfile's ENV instructions.
fn dockerfile_env(text: &str) -> Vec<(String, String)> {
    let joined = text.replace("\\\n", " ");
    joined
        .lines()
        .filter_map(|l| l.trim().strip_prefix("ENV "))
        .flat_map(|l| l.split_whitespace())
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// The HEALTHCHECK's command, as its exec-form JSON array.
fn healthcheck(text: &str) -> Result<Vec<String>> {
    let joined = text.replace("\\\n", " ");
    let line = joined
        .lines()
        .find(|l| l.trim_start().starts_with("HEALTHCHECK"))
        .context("no HEALTHCHECK")?;
    let json = line.split(" CMD ").nth(1).context("no CMD")?;
    Ok(serde_json::from_str(json.trim())?)
}

#[tokio::test]
async fn the_container_configuration_serves_and_its_healthcheck_passes() -> Result<()> {
    let text = std::fs::read_to_string(repo_root().join("docker/Dockerfile"))?;
    let env = dockerfile_env(&text);
    for key in [
        "HALLWAY_BIND",
        "HALLWAY_PORT",
        "HALLWAY_DATA_DIR",
        "HALLWAY_MEDIA_PORT",
    ] {
        assert!(
            env.iter().any(|(k, _)| k == key),
            "the Dockerfile sets {key}"
        );
    }
    // The test's own loopback address, free ports and a temporary data folder; the rest is
    // the container's configuration as written.
    let moved = [
        "HALLWAY_BIND",
        "HALLWAY_PORT",
        "HALLWAY_MEDIA_PORT",
        "HALLWAY_TURN_PORT",
        "HALLWAY_DATA_DIR",
    ];
    let kept: Vec<(&str, &str)> = env
        .iter()
        .filter(|(k, _)| !moved.contains(&k.as_str()))
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let server = ServerProcess::start(&[], &kept)?;
    assert_eq!(http_get(server.addr, "/healthz").await?.0, 200);

    // The HEALTHCHECK, with the binary at its place in the image replaced by ours.
    let check = healthcheck(&text)?;
    let args = &check[1..];
    let port = server.addr.port().to_string();
    let run = |port: &str| -> Result<std::process::Output> {
        Ok(Command::new(binary_path()?)
            .args(args)
            .env("HALLWAY_BIND", "127.0.0.1")
            .env("HALLWAY_PORT", port)
            .output()?)
    };
    let healthy = run(&port)?;
    if !healthy.status.success() {
        bail!("HEALTHCHECK failed: {healthy:?}");
    }
    drop(server);
    // Nothing listens there any more: unhealthy, exit status 1.
    let unhealthy = run(&port)?;
    assert_eq!(unhealthy.status.code(), Some(1), "{unhealthy:?}");
    Ok(())
}
