//! A server bound to every interface without `--media-announce` tells clients this
//! machine's own addresses, not only 127.0.0.1 (which Firefox ignores, and which other
//! machines of a LAN cannot reach). In a network namespace of the test's own with a
//! LAN-like address: the SFU's answer to a broadcaster offers host candidates on that
//! address and on loopback, and the TURN server's URL names that address.
//! (Needs root for `ip netns`, as the suite's other restricted-network tests.)

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::process::{Child, Command, Stdio};

use anyhow::{Context, Result, bail};
use hallway::access::{TokenRole, Tokens};
use hallway::clock::now_secs;
use hallway_proto::{ClientMessage, ServerMessage};
use hallway_tests::TestClient;
use hallway_tests::media::Publisher;
use hallway_tests::process::{binary_path, rand_suffix};

const LAN: &str = "10.213.7.1";
const SECRET: &str = "media-addresses-test-secret-0123456789";

/// A network namespace with loopback and an interface holding [`LAN`]; removed
/// when dropped.
struct Namespace {
    name: String,
}

fn ip(args: &[&str]) -> Result<()> {
    let status = Command::new("ip")
        .args(args)
        .status()
        .context("running ip (iproute2)")?;
    if !status.success() {
        bail!("ip {} failed (root needed)", args.join(" "));
    }
    Ok(())
}

impl Namespace {
    fn new() -> Result<Namespace> {
        let name = format!("hallway-media-{}", &rand_suffix()[..8]);
        ip(&["netns", "add", &name])?;
        let ns = Namespace { name };
        ip(&["-n", &ns.name, "link", "set", "lo", "up"])?;
        // A veth pair inside the namespace stands for a network card (no `dummy` module
        // on every kernel).
        ip(&[
            "-n", &ns.name, "link", "add", "lan0", "type", "veth", "peer", "name", "lan1",
        ])?;
        ip(&[
            "-n",
            &ns.name,
            "addr",
            "add",
            &format!("{LAN}/24"),
            "dev",
            "lan0",
        ])?;
        ip(&["-n", &ns.name, "link", "set", "lan0", "up"])?;
        ip(&["-n", &ns.name, "link", "set", "lan1", "up"])?;
        // A default route, as any machine on a network has (WebRTC stacks open multicast
        // sockets, which fail with ENODEV without one).
        ip(&["-n", &ns.name, "route", "add", "default", "dev", "lan0"])?;
        Ok(ns)
    }
}

impl Drop for Namespace {
    fn drop(&mut self) {
        // `ip netns exec` runs the server as its child: end whatever runs in here first.
        if let Ok(out) = Command::new("ip")
            .args(["netns", "pids", &self.name])
            .output()
        {
            for pid in String::from_utf8_lossy(&out.stdout).split_whitespace() {
                let _ = Command::new("kill").args(["-9", pid]).status();
            }
        }
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

/// The binary inside the namespace, bound to every interface; its port.
fn serve(ns: &Namespace) -> Result<(Child, u16)> {
    let mut child = Command::new("ip")
        .args(["netns", "exec", &ns.name])
        .arg(binary_path()?)
        .env("HALLWAY_BIND", "0.0.0.0")
        .env("HALLWAY_PORT", "0")
        .env("HALLWAY_MEDIA_PORT", "0")
        .env("HALLWAY_TURN_PORT", "0")
        .env("HALLWAY_DRAIN_SECONDS", "0")
        .env("HALLWAY_SECRET", SECRET)
        .env(
            "HALLWAY_DATA_DIR",
            std::env::temp_dir().join(format!("hallway-test-{}", rand_suffix())),
        )
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .context("starting hallway in the namespace")?;
    let stdout = child.stdout.take().context("no stdout")?;
    for line in BufReader::new(stdout).lines() {
        let line = line?;
        // "… listening on http://<host>:<port>", the host a name or an address.
        if let Some(rest) = line.split("listening on http://").nth(1) {
            let port = rest
                .trim()
                .rsplit(':')
                .next()
                .and_then(|p| p.parse().ok())
                .with_context(|| format!("a port in {line:?}"))?;
            return Ok((child, port));
        }
    }
    let _ = child.kill();
    bail!("hallway did not say where it listens")
}

/// What a host going on air is told, inside the namespace: the TURN URLs of its
/// welcome and the SFU's answer to its offer.
async fn broadcast_inside(port: u16) -> Result<(Vec<String>, String)> {
    let addr = SocketAddr::from(([10, 213, 7, 1], port));
    let token =
        Tokens::new(SECRET.as_bytes()).mint("lobby", TokenRole::Host, None, now_secs() + 3600);
    let mut hanna = TestClient::join_at(addr, "lobby", "Hanna", Some(&token)).await?;
    let urls = match &hanna.welcome {
        Some(ServerMessage::Welcome { ice_servers, .. }) => {
            ice_servers.iter().flat_map(|s| s.urls.clone()).collect()
        }
        _ => bail!("no welcome"),
    };
    hanna.send(&ClientMessage::Broadcast { on: true }).await?;
    let id = hanna.id.clone();
    hanna
        .wait_for("the broadcast", |m| match m {
            ServerMessage::Broadcast { id: who, on: true } if *who == id => Some(()),
            _ => None,
        })
        .await?;
    let answer = Publisher::answer_only(&mut hanna).await?;
    Ok((urls, answer))
}

#[test]
fn bound_to_every_interface_the_server_offers_the_machines_own_address() -> Result<()> {
    let ns = Namespace::new()?;
    let (mut server, port) = serve(&ns)?;
    let netns = format!("/var/run/netns/{}", ns.name);
    // The client runs on a thread that has entered the namespace (a thread's network
    // namespace is its own), on a runtime of that thread alone.
    let outcome = std::thread::spawn(move || -> Result<(Vec<String>, String)> {
        let file = std::fs::File::open(&netns)?;
        nix::sched::setns(file.as_raw_fd(), nix::sched::CloneFlags::CLONE_NEWNET)?;
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
            .block_on(broadcast_inside(port))
    })
    .join()
    .map_err(|_| anyhow::anyhow!("the client thread panicked"))?;
    let _ = server.kill();
    let _ = server.wait();
    let (urls, answer) = outcome?;
    assert!(
        urls.iter().any(|u| u.starts_with(&format!("turn:{LAN}:"))),
        "TURN is offered on the machine's address: {urls:?}"
    );
    let candidates: Vec<&str> = answer
        .lines()
        .filter(|l| l.starts_with("a=candidate"))
        .collect();
    for address in [LAN, "127.0.0.1"] {
        assert!(
            candidates
                .iter()
                .any(|c| c.contains(&format!(" {address} ")) && c.contains(" udp ")),
            "no UDP host candidate on {address}: {candidates:?}"
        );
    }
    Ok(())
}
