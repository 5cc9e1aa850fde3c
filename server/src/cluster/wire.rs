//! What nodes of a cluster say to each other through Redis pub/sub, as bytes.
//!
//! - Up, from the node a client is connected to (its *entry* node) to the room's owner,
//!   on the room's channel: what the client's connection did (opened, sent a text frame,
//!   closed, …). Every batch names its node, so a batch is also a sign of life: entry nodes
//!   send an empty one every second for each room they have connections in.
//! - Down, from the owner to an entry node, on the node's channel: frames to write to the
//!   node's connections, and orders to close them. A frame queued for many connections
//!   (a tick for everyone) is the same shared bytes each time; a batch carries each
//!   distinct frame once, with the connections it goes to.
//!
//! Redis pub/sub delivers at most once: a batch is lost when a publish fails, when the
//! receiver's connection to Redis drops for a moment, or when the receiver cannot take it.
//! A sender that could not publish a batch has the connections it was for reconnect: they
//! resume and get the room again as a whole. For the losses a sender cannot see, every
//! batch names its sender and its place in the sender's numbered stream ([`Sequence`]); a
//! receiver that finds one missing ([`Gaps`]) does not wait for it (it will not come) but
//! has every connection it may have been for reconnect.
//!
//! The format is ours and simple: little-endian integers, lengths before bytes. Both ends
//! run the same build of Hallway; a batch that does not decode is dropped with a warning
//! (and found missing by the next one).

use std::collections::HashMap;
use std::hash::Hash;

use bytes::Bytes;
use tungstenite::protocol::frame::Utf8Bytes;

/// What the owner tells an entry node to do with one of its connections (the tunnel's
/// word: `transport::Down`).
pub use crate::transport::{Down, Movers, News, Place};

/// What a client's connection did, as its entry node reports it to the room's owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Up {
    /// The connection opened: the owner starts a session for it.
    Open,
    /// A text frame.
    Text(Utf8Bytes),
    /// A binary frame (not part of the protocol; the owner refuses it).
    Binary,
    /// A ping, a pong or a fragment: the client is alive.
    Control,
    /// A frame over the size limit.
    TooBig,
    /// The client closed the connection (with this code, if it gave one).
    Closed(Option<u16>),
    /// The connection dropped.
    End,
    /// The entry node closed the connection with this code (dead, or too slow to read).
    Dropped(u16),
    /// The entry node wrote this many more frames to the client: credit for the owner to
    /// send as many again (flow control, so that a client that reads slowly is held back
    /// on the owner, where its room skips and catches up, as on a single node).
    Ack(u32),
    /// The entry node could not queue news for the connection (its client reads too
    /// slowly): the room owes it a snapshot (see `cluster::sight`).
    Missed,
}

/// A batch's place in its sender's stream: a stream is one sender's batches on one
/// channel (a node's up batches to one room; an owner's forwarder to one node), numbered
/// from 0. A sender that starts again starts a new stream (a random id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sequence {
    /// The stream's id.
    pub stream: u64,
    /// The batch's number in it.
    pub number: u64,
}

/// Numbers the batches of one stream.
#[derive(Debug)]
pub struct Numbering {
    stream: u64,
    next: u64,
}

impl Numbering {
    /// A new stream.
    pub fn new() -> Numbering {
        Numbering {
            stream: rand::random(),
            next: 0,
        }
    }

    /// The place of the batch about to be published.
    pub fn upcoming(&self) -> Sequence {
        Sequence {
            stream: self.stream,
            number: self.next,
        }
    }

    /// The upcoming batch was published: the next one gets the next number. A batch that
    /// could not be published leaves its number to the next one: its sender knows which
    /// connections it was for and deals with them itself, precisely, and if it reaches
    /// its receiver after all, the repeated number is no loss. Receivers find only the
    /// losses their senders cannot see (a subscriber that was away, a batch it dropped).
    pub fn published(&mut self) {
        self.next += 1;
    }
}

impl Default for Numbering {
    fn default() -> Numbering {
        Numbering::new()
    }
}

/// Tells, for each sender, whether batches went missing between those received.
#[derive(Debug)]
pub struct Gaps<K> {
    expected: HashMap<K, Sequence>,
}

impl<K: Hash + Eq + Clone> Gaps<K> {
    /// Nothing received yet.
    pub fn new() -> Gaps<K> {
        Gaps {
            expected: HashMap::new(),
        }
    }

    /// Notes a batch from `sender` at `at`; `true` if batches of its stream were skipped
    /// since the last one received. The first batch of a stream starts it, wherever it
    /// is: a receiver that starts listening does not miss what came before. (Redis keeps
    /// one publisher's order, so a batch behind the expected one is not a loss; the
    /// stream goes on from it.)
    pub fn missed(&mut self, sender: &K, at: Sequence) -> bool {
        let next = Sequence {
            stream: at.stream,
            number: at.number.saturating_add(1),
        };
        match self.expected.get_mut(sender) {
            Some(expected) => {
                let skipped = expected.stream == at.stream && expected.number < at.number;
                *expected = next;
                skipped
            }
            None => {
                self.expected.insert(sender.clone(), next);
                false
            }
        }
    }

    /// Forgets `sender` (gone silent): whatever it sends next starts afresh.
    pub fn forget(&mut self, sender: &K) {
        self.expected.remove(sender);
    }
}

impl<K: Hash + Eq + Clone> Default for Gaps<K> {
    fn default() -> Gaps<K> {
        Gaps::new()
    }
}

/// Why a batch did not decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// It ended in the middle of something.
    #[error("a cluster batch was cut short")]
    Truncated,
    /// An unknown kind, a bad frame index or text that is not UTF-8.
    #[error("a cluster batch is malformed")]
    Malformed,
}

/// Encodes an up batch from `node`, at `at` in its stream to the room.
pub fn encode_up(node: &str, at: Sequence, items: &[(u64, Up)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(32 + node.len() + items.len() * 24);
    put_origin(&mut out, node, at);
    put_u32(&mut out, items.len());
    for (conn, up) in items {
        out.extend_from_slice(&conn.to_le_bytes());
        match up {
            Up::Open => out.push(0),
            Up::Text(text) => {
                out.push(1);
                put_bytes(&mut out, text.as_bytes());
            }
            Up::Binary => out.push(2),
            Up::Control => out.push(3),
            Up::TooBig => out.push(4),
            Up::Closed(code) => {
                out.push(5);
                out.extend_from_slice(
                    &code.map_or(0u32, |c| 0x1_0000 | u32::from(c)).to_le_bytes(),
                );
            }
            Up::End => out.push(6),
            Up::Dropped(code) => {
                out.push(7);
                out.extend_from_slice(&code.to_le_bytes());
            }
            Up::Ack(count) => {
                out.push(8);
                out.extend_from_slice(&count.to_le_bytes());
            }
            Up::Missed => out.push(9),
        }
    }
    out
}

/// A batch as received: who sent it, its place in the sender's stream, what it carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch<T> {
    /// The sending node.
    pub node: String,
    /// Its place in the sender's stream.
    pub at: Sequence,
    /// What it carries, by connection.
    pub items: Vec<(u64, T)>,
}

/// Decodes an up batch: the node it came from and what its connections did.
pub fn decode_up(bytes: Bytes) -> Result<Batch<Up>, WireError> {
    let mut r = Reader { bytes, at: 0 };
    let (node, at) = r.origin()?;
    let count = r.u32()? as usize;
    let mut items = Vec::with_capacity(count.min(4096));
    for _ in 0..count {
        let conn = r.u64()?;
        let up = match r.u8()? {
            0 => Up::Open,
            1 => Up::Text(Utf8Bytes::try_from(r.bytes_field()?).map_err(|_| WireError::Malformed)?),
            2 => Up::Binary,
            3 => Up::Control,
            4 => Up::TooBig,
            5 => {
                let raw = r.u32()?;
                Up::Closed((raw & 0x1_0000 != 0).then_some(raw as u16))
            }
            6 => Up::End,
            7 => Up::Dropped(r.u16()?),
            8 => Up::Ack(r.u32()?),
            9 => Up::Missed,
            _ => return Err(WireError::Malformed),
        };
        items.push((conn, up));
    }
    Ok(Batch { node, at, items })
}

/// About how many bytes an item that is not frames takes in a down batch (frames are
/// counted once per distinct frame by whoever batches them).
pub fn size_apart(down: &Down) -> usize {
    match down {
        Down::Movers(movers) => movers.room.len() + movers.movers.len() * 24,
        Down::News(news) => news.room.len() + news.frame.len() + news.places.len() * 64,
        Down::View { circles, .. } => circles.iter().map(|c| c.len() + 4).sum::<usize>(),
        Down::Frames(_) | Down::Close(_) | Down::SnapshotAhead => 0,
    }
}

/// Encodes a down batch from the owner `node`, at `at` in its stream to the receiving
/// node, each distinct frame once (frames are told apart by the memory they share: clones
/// of one message are one frame).
pub fn encode_down(node: &str, at: Sequence, items: &[(u64, Down)]) -> Vec<u8> {
    /// One item, with its frames as indices into the batch's distinct frames.
    enum Op<'a> {
        Frames(Vec<u32>),
        Other(&'a Down),
    }
    let mut frames: Vec<&Utf8Bytes> = Vec::new();
    let mut index: std::collections::HashMap<(usize, usize), u32> =
        std::collections::HashMap::new();
    let mut ops: Vec<(u64, Op)> = Vec::with_capacity(items.len());
    let mut size = 0;
    for (conn, down) in items {
        match down {
            Down::Frames(list) => {
                let refs = list
                    .iter()
                    .map(|frame| {
                        let key = (frame.as_bytes().as_ptr() as usize, frame.len());
                        *index.entry(key).or_insert_with(|| {
                            frames.push(frame);
                            size += frame.len() + 4;
                            (frames.len() - 1) as u32
                        })
                    })
                    .collect();
                ops.push((*conn, Op::Frames(refs)));
            }
            other => {
                size += size_apart(other);
                ops.push((*conn, Op::Other(down)));
            }
        }
    }
    let mut out = Vec::with_capacity(32 + node.len() + size + ops.len() * 16);
    put_origin(&mut out, node, at);
    put_u32(&mut out, frames.len());
    for frame in &frames {
        put_bytes(&mut out, frame.as_bytes());
    }
    put_u32(&mut out, ops.len());
    for (conn, op) in ops {
        out.extend_from_slice(&conn.to_le_bytes());
        match op {
            Op::Frames(refs) => {
                out.push(0);
                put_u32(&mut out, refs.len());
                for r in refs {
                    out.extend_from_slice(&r.to_le_bytes());
                }
            }
            Op::Other(Down::Close(code)) => {
                out.push(1);
                out.extend_from_slice(&code.to_le_bytes());
            }
            Op::Other(Down::View { me, edges, circles }) => {
                out.push(2);
                out.extend_from_slice(&me.to_le_bytes());
                for edge in edges {
                    out.extend_from_slice(&edge.to_le_bytes());
                }
                put_u32(&mut out, circles.len());
                for circle in circles {
                    put_bytes(&mut out, circle.as_bytes());
                }
            }
            Op::Other(Down::Movers(movers)) => {
                out.push(3);
                put_bytes(&mut out, movers.room.as_bytes());
                out.extend_from_slice(&movers.floor.0.to_le_bytes());
                out.extend_from_slice(&movers.floor.1.to_le_bytes());
                put_u32(&mut out, movers.movers.len());
                for (id, x, y) in &movers.movers {
                    out.extend_from_slice(&id.to_le_bytes());
                    out.extend_from_slice(&x.to_le_bytes());
                    out.extend_from_slice(&y.to_le_bytes());
                }
            }
            Op::Other(Down::News(news)) => {
                out.push(4);
                put_bytes(&mut out, news.room.as_bytes());
                put_bytes(&mut out, news.frame.as_bytes());
                put_u32(&mut out, news.places.len());
                for place in &news.places {
                    out.extend_from_slice(&place.centre.0.to_le_bytes());
                    out.extend_from_slice(&place.centre.1.to_le_bytes());
                    out.extend_from_slice(&place.radius.to_le_bytes());
                    put_u32(&mut out, place.people.len());
                    for id in &place.people {
                        out.extend_from_slice(&id.to_le_bytes());
                    }
                }
            }
            Op::Other(Down::SnapshotAhead) => out.push(5),
            // Frames are always an `Op::Frames`.
            Op::Other(Down::Frames(_)) => {}
        }
    }
    out
}

/// Decodes a down batch; a frame sent to many connections is decoded once and shared.
pub fn decode_down(bytes: Bytes) -> Result<Batch<Down>, WireError> {
    let mut r = Reader { bytes, at: 0 };
    let (node, at) = r.origin()?;
    let count = r.u32()? as usize;
    let mut frames = Vec::with_capacity(count.min(4096));
    for _ in 0..count {
        frames.push(Utf8Bytes::try_from(r.bytes_field()?).map_err(|_| WireError::Malformed)?);
    }
    let ops = r.u32()? as usize;
    let mut items = Vec::with_capacity(ops.min(65_536));
    for _ in 0..ops {
        let conn = r.u64()?;
        let down = match r.u8()? {
            0 => {
                let n = r.u32()? as usize;
                let mut list = Vec::with_capacity(n.min(4096));
                for _ in 0..n {
                    let i = r.u32()? as usize;
                    list.push(frames.get(i).ok_or(WireError::Malformed)?.clone());
                }
                Down::Frames(list)
            }
            1 => Down::Close(r.u16()?),
            2 => {
                let me = r.u128()?;
                let edges = [r.f32()?, r.f32()?, r.f32()?, r.f32()?];
                let n = r.u32()? as usize;
                let mut circles = Vec::with_capacity(n.min(128));
                for _ in 0..n {
                    circles.push(
                        Utf8Bytes::try_from(r.bytes_field()?).map_err(|_| WireError::Malformed)?,
                    );
                }
                Down::View { me, edges, circles }
            }
            3 => {
                let room = String::from_utf8(r.bytes_field()?.to_vec())
                    .map_err(|_| WireError::Malformed)?;
                let floor = (r.f32()?, r.f32()?);
                let n = r.u32()? as usize;
                let mut movers = Vec::with_capacity(n.min(65_536));
                for _ in 0..n {
                    movers.push((r.u128()?, r.f32()?, r.f32()?));
                }
                Down::Movers(std::sync::Arc::new(Movers {
                    room,
                    floor,
                    movers,
                }))
            }
            4 => {
                let room = String::from_utf8(r.bytes_field()?.to_vec())
                    .map_err(|_| WireError::Malformed)?;
                let frame =
                    Utf8Bytes::try_from(r.bytes_field()?).map_err(|_| WireError::Malformed)?;
                let n = r.u32()? as usize;
                let mut places = Vec::with_capacity(n.min(16));
                for _ in 0..n {
                    let centre = (r.f32()?, r.f32()?);
                    let radius = r.f32()?;
                    let count = r.u32()? as usize;
                    let mut people = Vec::with_capacity(count.min(1024));
                    for _ in 0..count {
                        people.push(r.u128()?);
                    }
                    places.push(Place {
                        centre,
                        radius,
                        people,
                    });
                }
                Down::News(std::sync::Arc::new(News {
                    room,
                    frame,
                    places,
                }))
            }
            5 => Down::SnapshotAhead,
            _ => return Err(WireError::Malformed),
        };
        items.push((conn, down));
    }
    Ok(Batch { node, at, items })
}

/// Writes who sends a batch and where it is in their stream.
fn put_origin(out: &mut Vec<u8>, node: &str, at: Sequence) {
    put_bytes(out, node.as_bytes());
    out.extend_from_slice(&at.stream.to_le_bytes());
    out.extend_from_slice(&at.number.to_le_bytes());
}

fn put_u32(out: &mut Vec<u8>, n: usize) {
    // Batches are far below 4 GiB (a Redis message is at most 512 MiB).
    out.extend_from_slice(&(n as u32).to_le_bytes());
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    put_u32(out, bytes.len());
    out.extend_from_slice(bytes);
}

/// Reads a batch front to back; fields are slices of the one buffer, not copies.
struct Reader {
    bytes: Bytes,
    at: usize,
}

impl Reader {
    fn take(&mut self, n: usize) -> Result<Bytes, WireError> {
        let end = self.at.checked_add(n).ok_or(WireError::Truncated)?;
        if end > self.bytes.len() {
            return Err(WireError::Truncated);
        }
        let out = self.bytes.slice(self.at..end);
        self.at = end;
        Ok(out)
    }

    fn u8(&mut self) -> Result<u8, WireError> {
        Ok(self.take(1)?[0])
    }

    fn u16(&mut self) -> Result<u16, WireError> {
        let b = self.take(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }

    fn u32(&mut self) -> Result<u32, WireError> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn u64(&mut self) -> Result<u64, WireError> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(&b);
        Ok(u64::from_le_bytes(a))
    }

    fn u128(&mut self) -> Result<u128, WireError> {
        let b = self.take(16)?;
        let mut a = [0u8; 16];
        a.copy_from_slice(&b);
        Ok(u128::from_le_bytes(a))
    }

    fn f32(&mut self) -> Result<f32, WireError> {
        let b = self.take(4)?;
        Ok(f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn origin(&mut self) -> Result<(String, Sequence), WireError> {
        let node =
            String::from_utf8(self.bytes_field()?.to_vec()).map_err(|_| WireError::Malformed)?;
        let stream = self.u64()?;
        let number = self.u64()?;
        Ok((node, Sequence { stream, number }))
    }

    fn bytes_field(&mut self) -> Result<Bytes, WireError> {
        let n = self.u32()? as usize;
        self.take(n)
    }
}

#[cfg(test)]
#[path = "wire_tests.rs"]
mod tests;
