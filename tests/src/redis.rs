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
    /// Starts one and waits until it answers.
    pub fn start() -> Result<RedisServer> {
        // A free port: bound and released (redis-server cannot be given port 0).
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
        let server = RedisServer {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
        };
        let until = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(server.addr).is_err() {
            if Instant::now() > until {
                bail!("redis-server did not start listening on {}", server.addr);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(server)
    }

    /// The URL clients connect with.
    pub fn url(&self) -> String {
        format!("redis://{}/", self.addr)
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
