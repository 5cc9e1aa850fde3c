//! A UDP relay on loopback between WebRTC peers and the SFU, which a test can make
//! misbehave: pass everything, drop DTLS (ICE completes, DTLS never does), or drop
//! everything (the peer vanished, as behind a closed laptop lid). The peer is pointed at
//! it by rewriting the SFU's candidate in the offers it receives ([`UdpProxy::rewrite`]).
//!
//! Like a NAT, it gives every peer address its own socket towards the SFU: a new
//! connection (a new local port) is a new source to the SFU, and a replaced connection
//! that still sends cannot take over the new one's replies.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use anyhow::Result;
use tokio::net::UdpSocket;
use tokio::task::JoinSet;

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

/// Whether `mode` lets `data` through.
fn lets_through(mode: &AtomicU8, data: &[u8]) -> bool {
    match mode.load(Ordering::Relaxed) {
        0 => true,
        1 => !matches!(data.first(), Some(20..=63)),
        _ => false,
    }
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
        let front = Arc::new(UdpSocket::bind("127.0.0.1:0").await?);
        let addr = front.local_addr()?;
        let mode = Arc::new(AtomicU8::new(Mode::Pass as u8));
        let shared = mode.clone();
        let task = tokio::spawn(async move {
            // Per peer address: its socket towards the SFU, whose replies go back to it.
            let mut backs: HashMap<SocketAddr, Arc<UdpSocket>> = HashMap::new();
            let mut replies = JoinSet::new();
            let mut a = [0u8; 2048];
            loop {
                let Ok((n, from)) = front.recv_from(&mut a).await else {
                    continue;
                };
                let back = match backs.get(&from) {
                    Some(back) => back.clone(),
                    None => {
                        let Ok(back) = UdpSocket::bind("127.0.0.1:0").await else {
                            continue;
                        };
                        let back = Arc::new(back);
                        backs.insert(from, back.clone());
                        let (front, replying, mode) = (front.clone(), back.clone(), shared.clone());
                        replies.spawn(async move {
                            let mut b = [0u8; 2048];
                            while let Ok((n, _)) = replying.recv_from(&mut b).await {
                                if lets_through(&mode, &b[..n]) {
                                    let _ = front.send_to(&b[..n], from).await;
                                }
                            }
                        });
                        back
                    }
                };
                if lets_through(&shared, &a[..n]) {
                    let _ = back.send_to(&a[..n], sfu).await;
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
        // The reply tasks live in the relay task's JoinSet, which aborts them when dropped.
        self.task.abort();
    }
}
