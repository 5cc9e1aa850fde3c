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
        "HALLWAY_METRICS_BIND",
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
        "HALLWAY_METRICS_BIND",
    ];
    let mut kept: Vec<(&str, &str)> = env
        .iter()
        .filter(|(k, _)| !moved.contains(&k.as_str()))
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    kept.push(("HALLWAY_METRICS_BIND", "127.0.0.1:0"));
    let server = ServerProcess::start(&[], &kept)?;
    assert_eq!(http_get(server.addr, "/healthz").await?.0, 200);
    // Prometheus scrapes the metrics listener over the container network; the main port
    // (the one the reverse proxy reaches) has none.
    let metrics: std::net::SocketAddr = server
        .banner
        .iter()
        .find_map(|l| l.strip_prefix("Metrics: http://"))
        .and_then(|rest| rest.strip_suffix("/metrics"))
        .context("the banner names the metrics listener")?
        .parse()?;
    let (status, scraped) = http_get(metrics, "/metrics").await?;
    assert_eq!(status, 200);
    assert!(scraped.contains("hallway_messages_in_total"), "{scraped}");
    assert_eq!(http_get(server.addr, "/metrics").await?.0, 404);

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

/// The `HALLWAY_…` settings of the nodes in `docker/compose.cluster.yaml` (its
/// `x-node-env` block).
fn cluster_node_env(text: &str) -> Vec<(String, String)> {
    text.lines()
        .skip_while(|l| !l.starts_with("x-node-env:"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.trim().split_once(": "))
        .filter(|(k, _)| k.starts_with("HALLWAY_"))
        .map(|(k, v)| (k.to_owned(), v.trim_matches('"').to_owned()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cluster_configuration_runs_nodes_that_share_a_room() -> Result<()> {
    let text = std::fs::read_to_string(repo_root().join("docker/compose.cluster.yaml"))?;
    let env = cluster_node_env(&text);
    assert!(
        env.iter()
            .any(|(k, v)| k == "HALLWAY_REDIS_URL" && v.starts_with("redis://")),
        "the nodes are pointed at Redis: {env:?}"
    );
    for node in [
        "hallway-1",
        "hallway-2",
        "hallway-3",
        "balancer",
        "redis",
        "turn",
    ] {
        assert!(text.contains(&format!("\n  {node}:")), "a {node} service");
    }
    let nginx = std::fs::read_to_string(repo_root().join("docker/nginx-cluster.conf"))?;
    for line in [
        "server hallway-1:8080",
        "server hallway-2:8080",
        "server hallway-3:8080",
        "proxy_set_header Upgrade $http_upgrade;",
        "proxy_set_header Connection $connection_upgrade;",
        "proxy_set_header X-Forwarded-For",
    ] {
        assert!(nginx.contains(line), "nginx-cluster.conf has {line:?}");
    }
    // Two nodes with that configuration (Redis is the test's own; addresses and ports
    // are the test's): they start, and a client of the second meets one of the first.
    let redis = hallway_tests::redis::RedisServer::start()?;
    let url = redis.url();
    let kept: Vec<(&str, &str)> = env
        .iter()
        .map(|(k, v)| match k.as_str() {
            "HALLWAY_REDIS_URL" => (k.as_str(), url.as_str()),
            _ => (k.as_str(), v.as_str()),
        })
        .collect();
    let first = ServerProcess::start(&[], &kept)?;
    let second = ServerProcess::start(&[], &kept)?;
    for node in [&first, &second] {
        assert_eq!(http_get(node.addr, "/healthz").await?.0, 200);
    }
    let _anna = hallway_tests::TestClient::join_at(first.addr, "lobby", "Anna", None).await?;
    let ben = hallway_tests::TestClient::join_at(second.addr, "lobby", "Ben", None).await?;
    let Some(hallway_proto::ServerMessage::Welcome { participants, .. }) = &ben.welcome else {
        bail!("no welcome");
    };
    assert_eq!(participants.len(), 2);
    Ok(())
}
