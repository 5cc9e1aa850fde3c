//! A real `redis-server` for the cluster tests: Debian's package, started on 127.0.0.1 and
//! a free port with nothing persisted, stopped when dropped. It can also be made
//! unreachable for a while (stopped with SIGSTOP, continued with SIGCONT), as a Redis that
//! hangs or a network that drops it would be.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// A running `redis-server`.
#[derive(Debug)]
pub struct RedisServer {
    child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
}

impl RedisServer {
    /// Starts one and waits until it answers PING. The port is picked free and released
    /// first (redis-server cannot be given port 0), so another socket may take it in
    /// between: then redis-server exits, or a connection finds something else there, and
    /// the start is tried again on another port.
    pub fn start() -> Result<RedisServer> {
        let mut last = None;
        for _ in 0..5 {
            match RedisServer::try_start() {
                Ok(server) => return Ok(server),
                Err(err) => last = Some(err),
            }
        }
        Err(last.unwrap_or_else(|| anyhow::anyhow!("redis-server did not start")))
    }

    fn try_start() -> Result<RedisServer> {
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let child = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
            .args(["--save", "", "--appendonly", "no", "--loglevel", "warning"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .context(
                "starting redis-server (Debian's redis-server package; scripts/test installs it)",
            )?;
        let mut server = RedisServer {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
        };
        let until = Instant::now() + Duration::from_secs(10);
        loop {
            if server.child.try_wait()?.is_some() {
                bail!("redis-server exited (port {port} taken?)");
            }
            if server.answers_ping() {
                return Ok(server);
            }
            if Instant::now() > until {
                bail!("redis-server did not answer on {}", server.addr);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Whether a Redis answers PING at our address (not merely something accepting TCP:
    /// a connection to a free port in the ephemeral range can even connect to itself).
    fn answers_ping(&self) -> bool {
        use std::io::{Read, Write};
        let Ok(mut stream) = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200))
        else {
            return false;
        };
        let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
        let mut reply = [0u8; 7];
        stream.write_all(b"PING\r\n").is_ok()
            && stream.read_exact(&mut reply).is_ok()
            && &reply == b"+PONG\r\n"
    }

    /// The URL clients connect with.
    pub fn url(&self) -> String {
        format!("redis://{}/", self.addr)
    }

    /// Waits until room `slug`'s state has been written (the owner writes it every
    /// second and soon after a change) with whatever happened before this call. Fails
    /// after 10 s.
    pub async fn next_state_write(&self, slug: &str) -> Result<()> {
        self.state_writes(slug).await?.with_all_so_far().await
    }

    /// From now on, every write of room `slug`'s state, as Redis tells of it (keyspace
    /// notifications).
    pub async fn state_writes(&self, slug: &str) -> Result<StateWrites> {
        let client = redis::Client::open(self.url())?;
        let mut conn = client.get_multiplexed_async_connection().await?;
        redis::cmd("CONFIG")
            .arg("SET")
            .arg("notify-keyspace-events")
            .arg("K$")
            .query_async::<()>(&mut conn)
            .await?;
        let mut pubsub = client.get_async_pubsub().await?;
        pubsub
            .subscribe(format!("__keyspace@0__:hallway:room:{slug}:state"))
            .await?;
        Ok(StateWrites { pubsub })
    }

    /// Stops the process (SIGSTOP): it holds its connections but answers nothing.
    pub fn freeze(&self) -> Result<()> {
        self.signal("STOP")
    }

    /// Continues a frozen process (SIGCONT).
    pub fn thaw(&self) -> Result<()> {
        self.signal("CONT")
    }

    fn signal(&self, name: &str) -> Result<()> {
        let status = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()?;
        anyhow::ensure!(status.success(), "kill -{name} failed");
        Ok(())
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.thaw();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The writes of one room's state ([`RedisServer::state_writes`]).
pub struct StateWrites {
    pubsub: redis::aio::PubSub,
}

impl std::fmt::Debug for StateWrites {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StateWrites")
    }
}

impl StateWrites {
    /// Waits for the next write. Fails after 10 s.
    pub async fn next(&mut self) -> Result<()> {
        use futures_util::StreamExt;
        tokio::time::timeout(Duration::from_secs(10), self.pubsub.on_message().next())
            .await
            .context("the room's state was not written within 10 s")?
            .context("the subscription ended")?;
        Ok(())
    }

    /// Waits until the state has been written with whatever happened before this call:
    /// the writes told of already are passed over, then two more are waited for, because
    /// the first may have been under way already.
    pub async fn with_all_so_far(&mut self) -> Result<()> {
        use futures_util::StreamExt;
        // Once the ping's answer is back, every notification sent before it is in the
        // channel (the connection delivers in order): those are passed over.
        self.pubsub.ping::<redis::Value>().await?;
        let mut messages = self.pubsub.on_message();
        while let Ok(Some(_)) = tokio::time::timeout(Duration::ZERO, messages.next()).await {}
        drop(messages);
        self.next().await?;
        self.next().await
    }
}
