//! A UDP relay on loopback between one WebRTC peer and the SFU, which a test can make
//! misbehave: pass everything, drop DTLS (ICE completes, DTLS never does), or drop
//! everything (the peer vanished, as behind a closed laptop lid). The peer is pointed at
//! it by rewriting the SFU's candidate in the offers it receives ([`UdpProxy::rewrite`]).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use anyhow::Result;
use tokio::net::UdpSocket;

/// What the relay lets through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Mode {
    /// Everything.
    Pass = 0,
    /// Everything but DTLS records (first byte 20..=63, RFC 7983).
    DropDtls = 1,
    /// Nothing.
    Blackhole = 2,
}

/// The relay; it runs until dropped.
#[derive(Debug)]
pub struct UdpProxy {
    /// Where the peer sends (the address its offers name instead of the SFU's).
    pub addr: SocketAddr,
    /// The SFU's address.
    pub sfu: SocketAddr,
    mode: Arc<AtomicU8>,
    task: tokio::task::JoinHandle<()>,
}

impl UdpProxy {
    /// A relay to the SFU at `sfu`, passing everything.
    pub async fn start(sfu: SocketAddr) -> Result<UdpProxy> {
        let front = UdpSocket::bind("127.0.0.1:0").await?;
        let back = UdpSocket::bind("127.0.0.1:0").await?;
        let addr = front.local_addr()?;
        let mode = Arc::new(AtomicU8::new(Mode::Pass as u8));
        let shared = mode.clone();
        let task = tokio::spawn(async move {
            let mut peer: Option<SocketAddr> = None;
            let (mut a, mut b) = ([0u8; 2048], [0u8; 2048]);
            loop {
                let mode = |data: &[u8]| match shared.load(Ordering::Relaxed) {
                    0 => true,
                    1 => !matches!(data.first(), Some(20..=63)),
                    _ => false,
                };
                tokio::select! {
                    Ok((n, from)) = front.recv_from(&mut a) => {
                        peer = Some(from);
                        if mode(&a[..n]) {
                            let _ = back.send_to(&a[..n], sfu).await;
                        }
                    }
                    Ok((n, _)) = back.recv_from(&mut b) => {
                        if let (Some(to), true) = (peer, mode(&b[..n])) {
                            let _ = front.send_to(&b[..n], to).await;
                        }
                    }
                }
            }
        });
        Ok(UdpProxy {
            addr,
            sfu,
            mode,
            task,
        })
    }

    /// From now on, let through what `mode` says.
    pub fn set(&self, mode: Mode) {
        self.mode.store(mode as u8, Ordering::Relaxed);
    }

    /// The SFU's description with this relay's address as the SFU's UDP candidate.
    pub fn rewrite(&self, sdp: &str) -> String {
        sdp.replace(
            &format!("{} {} typ host", self.sfu.ip(), self.sfu.port()),
            &format!("{} {} typ host", self.addr.ip(), self.addr.port()),
        )
    }
}

impl Drop for UdpProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}
