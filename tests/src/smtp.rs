//! A real SMTP server for the feedback tests: Debian's `python3-aiosmtpd`, started on
//! 127.0.0.1 and a free port, keeping every message it takes in a Maildir of its own;
//! stopped when dropped. (`/usr/bin/python3`: Debian's Python, which the package is for,
//! whatever other Python comes first on the PATH.)

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// A running SMTP server.
#[derive(Debug)]
pub struct SmtpServer {
    child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its Maildir.
    maildir: PathBuf,
}

impl SmtpServer {
    /// Starts one and waits until it greets. The port is picked free and released first
    /// (aiosmtpd cannot be given port 0): if another socket takes it in between, the start
    /// is tried again on another port.
    pub fn start() -> Result<SmtpServer> {
        let mut last = None;
        for _ in 0..5 {
            match SmtpServer::try_start() {
                Ok(server) => return Ok(server),
                Err(err) => last = Some(err),
            }
        }
        Err(last.unwrap_or_else(|| anyhow::anyhow!("aiosmtpd did not start")))
    }

    fn try_start() -> Result<SmtpServer> {
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        // Must not exist yet: the handler makes the Maildir itself.
        let maildir =
            std::env::temp_dir().join(format!("hallway-smtp-{}", crate::process::rand_suffix()));
        let child = Command::new("/usr/bin/python3")
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")])
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&maildir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .context("starting aiosmtpd (Debian's python3-aiosmtpd; scripts/test installs it)")?;
        let mut server = SmtpServer {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            maildir,
        };
        let until = Instant::now() + Duration::from_secs(15);
        loop {
            if server.child.try_wait()?.is_some() {
                bail!("aiosmtpd exited (port {port} taken?)");
            }
            if server.greets() {
                return Ok(server);
            }
            if Instant::now() > until {
                bail!("aiosmtpd did not greet on {}", server.addr);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Whether an SMTP server greets at our address (`220 …`).
    fn greets(&self) -> bool {
        use std::io::Read;
        let Ok(mut stream) = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200))
        else {
            return false;
        };
        let _ = stream.set_read_timeout(Some(Duration::from_millis(1000)));
        let mut greeting = [0u8; 4];
        stream.read_exact(&mut greeting).is_ok() && &greeting == b"220 "
    }

    /// The URL the server is given (`--smtp-url`): plain SMTP, as to a relay next door.
    pub fn url(&self) -> String {
        format!("smtp://{}", self.addr)
    }

    /// The messages taken so far, as raw text, oldest first.
    pub fn messages(&self) -> Result<Vec<String>> {
        let new = self.maildir.join("new");
        let Ok(entries) = std::fs::read_dir(&new) else {
            return Ok(Vec::new());
        };
        let mut files = entries
            .map(|e| e.map(|e| e.path()))
            .collect::<std::io::Result<Vec<_>>>()?;
        files.sort();
        files
            .iter()
            .map(|f| std::fs::read_to_string(f).context("reading a mail"))
            .collect()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.maildir);
    }
}
