//! One WebSocket connection as sessions and relays use it: tungstenite parses what the client sends
//! (and answers its pings); what the server sends is framed here and written with one
//! vectored write per batch, straight from the shared message bytes.
//!
//! Why not tungstenite's writer: it copies every frame into a write buffer that grows to
//! the largest batch it ever held and never shrinks, per connection. A welcome to a room
//! of 1,500 is 300 KB; ticks in a busy room are several KB. Writing the shared bytes
//! ourselves costs no copy and keeps nothing between batches. The two never interleave:
//! a session finishes every batch it starts before it reads again, and flushes whatever
//! tungstenite queued (a pong) before it writes.
//!
//! Every write is bounded by [`WRITE_TIMEOUT`]: a client that stopped reading (its TCP
//! window closed) takes nothing, not even a ping or a close frame, and must not hold its
//! session, its queue and its socket forever.

use std::io::{self, IoSlice};
use std::time::Duration;

use futures_util::future::BoxFuture;
use futures_util::{FutureExt, SinkExt, StreamExt};
use hallway_proto::{ErrorCode, ServerMessage, close};
use tokio::io::AsyncWriteExt;
use tungstenite::Message;
use tungstenite::protocol::frame::Utf8Bytes;

use super::{End, Socket};

/// A write the client's socket does not take for this long fails with
/// [`io::ErrorKind::TimedOut`], and the session ends as a slow consumer.
pub(crate) const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// Runs one write under [`WRITE_TIMEOUT`]. (A combinator, not an `async fn`: that would
/// keep a second copy of `write` in every future that awaits it.)
fn bounded<T>(write: impl Future<Output = io::Result<T>>) -> impl Future<Output = io::Result<T>> {
    tokio::time::timeout(WRITE_TIMEOUT, write)
        .map(|timed| timed.unwrap_or_else(|_| Err(io::ErrorKind::TimedOut.into())))
}

/// What a session on a room's owner tells the node that holds its client's connection
/// (the other end of a [`Tunnel`]), and what the room tells that node about it.
#[derive(Debug, Clone, PartialEq)]
pub enum Down {
    /// Write these text frames, in order.
    Frames(Vec<Utf8Bytes>),
    /// Close with this code once every frame before has been written.
    Close(u16),
    /// The part of the floor the connection's page shows (its edges, the margin
    /// included) and whose page it is: from now on the node cuts the page's ticks out of
    /// the room's [`Down::Movers`] itself.
    View {
        /// The participant (a `ParticipantId`'s number).
        me: u128,
        /// Left, top, right, bottom, in floor units.
        edges: [f32; 4],
        /// The circles there the page may not have heard of (in a big room), each a
        /// `circle_changed`: the node queues them before anything the room sends later
        /// on this way, as far as they fit.
        circles: Vec<Utf8Bytes>,
    },
    /// One tick's movers in a room, once for the whole node (not for one connection): the
    /// node cuts each page's tick out of them (`room::movers`), for its connections to
    /// that room whose view it was told. (Not on the round's tick: the owner sends each
    /// page the round, which carries more.)
    Movers(std::sync::Arc<Movers>),
    /// News of a place on the floor (a circle's change), once for the whole node: the
    /// node sends it to its connections to that room whose view it was told and that it
    /// concerns: their page shows one of the places, and they are not among its people
    /// (the room tells those itself, on the way its other frames to them take).
    News(std::sync::Arc<News>),
    /// A snapshot for this connection is on its way, behind what its session queued
    /// before it: the node holds back the news it would pass to the page until that
    /// snapshot has been written, and then passes it. (News sent after the snapshot was
    /// built travels the node's way, which is faster than the session's: passed at once,
    /// it could reach the page first, and the snapshot would then show the page an older
    /// state of that circle until its next change.)
    SnapshotAhead,
}

/// News of places on the floor, as a room's owner sends it to the nodes of relayed pages.
#[derive(Debug, Clone, PartialEq)]
pub struct News {
    /// The room's slug.
    pub room: String,
    /// The message, as the pages get it.
    pub frame: Utf8Bytes,
    /// The places it concerns: a disc (centre x, y and radius) and who is there (each a
    /// `ParticipantId`'s number). A circle's change names where it was and where it is.
    pub places: Vec<Place>,
}

/// A place news is about: a disc on the floor and the people in it.
#[derive(Debug, Clone, PartialEq)]
pub struct Place {
    /// The disc's centre.
    pub centre: (f32, f32),
    /// Its radius.
    pub radius: f32,
    /// Who is there.
    pub people: Vec<u128>,
}

/// One tick's movers in a room, as its owner sends them to the nodes of relayed pages.
#[derive(Debug, Clone, PartialEq)]
pub struct Movers {
    /// The room's slug.
    pub room: String,
    /// The floor's width and height (what the node's grid of movers covers).
    pub floor: (f32, f32),
    /// Who moved (a `ParticipantId`'s number) and where to.
    pub movers: Vec<(u128, f32, f32)>,
}

/// Where a relayed session's client is connected: the forwarder to that node and the
/// connection's number there. The room's task uses it to tell that node what the page
/// shows and, once per tick, the room's movers (see [`Down::View`]).
#[derive(Debug, Clone)]
pub struct Relayed {
    /// The node's id.
    pub node: std::sync::Arc<str>,
    /// The connection's number on it.
    pub conn: u64,
    /// The forwarder to it.
    pub down: tokio::sync::mpsc::Sender<(u64, Down)>,
}

/// How a failed write ends the session: a timeout means the client stopped reading.
pub(crate) fn ended_by(err: &io::Error) -> End {
    if err.kind() == io::ErrorKind::TimedOut {
        End::Closed(close::SLOW_CONSUMER)
    } else {
        End::Lost
    }
}

/// A frame as the session cares about it.
#[derive(Debug)]
pub(crate) enum Frame {
    /// A text message.
    Text(Utf8Bytes),
    /// A binary message (not part of the protocol).
    Binary(tungstenite::Bytes),
    /// Ping, pong (answered by the library) or a fragment still being assembled.
    Control,
    /// Over the frame or message size limit.
    TooBig,
    /// The client broke the WebSocket protocol: the connection is to be closed with this
    /// code ([`close::PROTOCOL_ERROR`], or [`close::INVALID_PAYLOAD`] for text that is not
    /// UTF-8).
    ProtocolError(u16),
    /// The client closed the connection (with this close code, if it gave one).
    Closed(Option<u16>),
    /// The connection dropped or failed.
    End,
    /// The node the client is connected to closed the connection with this code (in a
    /// cluster: the client was too slow or stopped answering pings there).
    Dropped(u16),
    /// The node the client is connected to could not queue news for it (in a cluster:
    /// the client reads too slowly there): the room owes it a snapshot.
    Missed,
}

/// A client connection: a WebSocket on this node, or (in a cluster, on the room's owner)
/// a tunnel to a WebSocket on another node.
#[derive(Debug)]
pub(crate) struct Conn {
    io: Io,
}

#[derive(Debug)]
enum Io {
    /// Boxed: a WebSocket is ten times the size of a tunnel.
    Ws(Box<Socket>),
    Tunnel(Tunnel),
}

impl Conn {
    /// Wraps an accepted WebSocket.
    pub(crate) fn new(ws: Socket) -> Conn {
        Conn {
            io: Io::Ws(Box::new(ws)),
        }
    }

    /// Where the client is, if it is connected to another node of a cluster.
    pub(crate) fn relayed(&self) -> Option<Relayed> {
        match &self.io {
            Io::Ws(_) => None,
            Io::Tunnel(tunnel) => Some(Relayed {
                node: tunnel.node.clone(),
                conn: tunnel.conn,
                down: tunnel.down.clone(),
            }),
        }
    }

    /// Wraps the owner's end of a connection to another node.
    pub(crate) fn tunnel(tunnel: Tunnel) -> Conn {
        Conn {
            io: Io::Tunnel(tunnel),
        }
    }

    /// The next frame from the client. Cancel-safe.
    pub(crate) async fn next(&mut self) -> Frame {
        let ws = match &mut self.io {
            Io::Ws(ws) => ws,
            Io::Tunnel(tunnel) => return tunnel.events.recv().await.unwrap_or(Frame::End),
        };
        match ws.next().await {
            Some(Ok(Message::Text(text))) => Frame::Text(text),
            Some(Ok(Message::Binary(data))) => Frame::Binary(data),
            Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => Frame::Control,
            Some(Ok(Message::Close(frame))) => Frame::Closed(frame.map(|f| u16::from(f.code))),
            None => Frame::End,
            Some(Err(tungstenite::Error::Capacity(_))) => Frame::TooBig,
            Some(Err(err)) => match protocol_error(&err) {
                Some(code) => Frame::ProtocolError(code),
                None => Frame::End,
            },
        }
    }

    /// The connection's first text frame (a `hello`, if the client speaks the protocol),
    /// within `timeout`; anything else ends the connection.
    pub(crate) async fn first_text(&mut self, timeout: Duration) -> Result<Utf8Bytes, End> {
        let deadline = tokio::time::sleep(timeout);
        tokio::pin!(deadline);
        loop {
            let frame = tokio::select! {
                frame = self.next() => frame,
                _ = &mut deadline => {
                    return Err(self.close(close::HELLO_TIMEOUT).await);
                }
            };
            match frame {
                Frame::Text(text) => return Ok(text),
                // Nothing of the client's own (not before its hello, in any case).
                Frame::Control | Frame::Missed => continue,
                Frame::Binary(_) => {
                    return Err(self
                        .refuse(ErrorCode::BinaryNotSupported, "send JSON text frames")
                        .await);
                }
                Frame::TooBig => return Err(self.close(close::TOO_BIG).await),
                Frame::ProtocolError(code) => return Err(self.close(code).await),
                Frame::Closed(_) => return Err(self.finish().await),
                Frame::End | Frame::Dropped(_) => return Err(End::Lost),
            }
        }
    }

    /// Writes text messages, all in one vectored write, and flushes.
    pub(crate) async fn send(&mut self, messages: &[Utf8Bytes]) -> io::Result<()> {
        match &mut self.io {
            Io::Ws(ws) => bounded(write_all(ws, messages)).await,
            // Boxed: a tunnel's write (credit, then the queue) is three times a socket's,
            // and every session's serve loop would keep that size (`transport::serve`).
            Io::Tunnel(tunnel) => {
                bounded(Box::pin(async {
                    // Credit from the client's node: it has written what came before.
                    let count = u32::try_from(messages.len()).unwrap_or(u32::MAX);
                    tunnel
                        .credit
                        .acquire_many(count)
                        .await
                        .map_err(|_| io::Error::from(io::ErrorKind::BrokenPipe))?
                        .forget();
                    tunnel.down(Down::Frames(messages.to_vec())).await
                }))
                .await
            }
        }
    }

    /// Writes one binary message (only the conformance echo sends any).
    pub(crate) async fn send_binary(&mut self, data: &[u8]) -> io::Result<()> {
        let Io::Ws(ws) = &mut self.io else {
            return Err(io::ErrorKind::Unsupported.into());
        };
        bounded(async {
            ws.flush().await.map_err(io::Error::other)?;
            let (bytes, len) = header(0x82, data.len());
            let io = ws.get_mut();
            io.write_all(&bytes[..len]).await?;
            io.write_all(data).await?;
            io.flush().await
        })
        .await
    }

    /// Completes the closing handshake the client started (tungstenite has queued the
    /// reply to its close frame) and ends the connection.
    pub(crate) async fn finish(&mut self) -> End {
        let ws = match &mut self.io {
            Io::Ws(ws) => ws,
            Io::Tunnel(tunnel) => {
                // The client's node completed the handshake when it saw the close.
                tunnel.closed = true;
                return End::Left;
            }
        };
        // Flushing sends the queued reply (`close` would refuse: tungstenite sends
        // nothing after the peer's close); then the server closes the TCP connection
        // first, as RFC 6455 asks.
        let _ = bounded(async {
            ws.flush().await.map_err(io::Error::other)?;
            ws.get_mut().shutdown().await
        })
        .await;
        End::Left
    }

    /// Sends a ping (empty payload); the client's pong arrives as a control frame.
    pub(crate) async fn ping(&mut self) -> io::Result<()> {
        let Io::Ws(ws) = &mut self.io else {
            // The client's node pings it, and passes its pongs on.
            return Ok(());
        };
        bounded(async {
            ws.flush().await.map_err(io::Error::other)?;
            let io = ws.get_mut();
            io.write_all(&[0x89, 0]).await?;
            io.flush().await
        })
        .await
    }

    /// The session is over: a tunnel tells the client's node how to close the client's
    /// connection, if nothing was said yet (a session that ended on a write that timed out
    /// wrote no close frame).
    pub(crate) fn ended(&mut self, end: &End) {
        if let Io::Tunnel(tunnel) = &mut self.io {
            if !tunnel.closed {
                tunnel.closed = true;
                let code = match end {
                    End::Closed(code) => *code,
                    End::Left | End::Lost | End::Unloaded => close::SERVICE_RESTART,
                };
                let _ = tunnel.down.try_send((tunnel.conn, Down::Close(code)));
            }
        }
    }

    /// Sends an `error` message. (Boxed, like [`Conn::close`]: a rare path that would
    /// otherwise set the size of every session's future; see `transport::serve`.)
    pub(crate) fn reply<'a>(
        &'a mut self,
        code: ErrorCode,
        message: &'a str,
    ) -> BoxFuture<'a, Result<(), End>> {
        Box::pin(self.reply_with_wait(code, message, None))
    }

    /// Sends an `error` that says how many seconds to wait before trying again.
    async fn reply_with_wait(
        &mut self,
        code: ErrorCode,
        message: &str,
        retry_after: Option<u64>,
    ) -> Result<(), End> {
        metrics::counter!(crate::metrics::ERRORS, "code" => code.as_str()).increment(1);
        let msg = ServerMessage::Error {
            code,
            message: message.to_owned(),
            circle: None,
            retry_after,
        };
        self.send(&[Utf8Bytes::from(msg.encode())])
            .await
            .map_err(|err| ended_by(&err))
    }

    /// Sends an `error` and closes: the handshake was refused.
    pub(crate) async fn refuse(&mut self, code: ErrorCode, message: &str) -> End {
        if let Err(end) = self.reply(code, message).await {
            return end;
        }
        self.close(close::REFUSED).await
    }

    /// Sends an `error` with the seconds to wait, and closes: the handshake was refused.
    pub(crate) async fn refuse_with_wait(
        &mut self,
        code: ErrorCode,
        message: &str,
        seconds: u64,
    ) -> End {
        if let Err(end) = self.reply_with_wait(code, message, Some(seconds)).await {
            return end;
        }
        self.close(close::REFUSED).await
    }

    /// Sends a close frame with the code's reason (from [`close::CODES`]) and shuts the
    /// connection down. Also right after tungstenite reported a protocol error: it
    /// writes nothing itself then, and the socket underneath is still open.
    pub(crate) fn close(&mut self, code: u16) -> BoxFuture<'_, End> {
        Box::pin(self.close_now(code))
    }

    async fn close_now(&mut self, code: u16) -> End {
        let ws = match &mut self.io {
            Io::Ws(ws) => ws,
            Io::Tunnel(tunnel) => {
                // The client's node writes the close frame.
                tunnel.closed = true;
                let _ = bounded(tunnel.down(Down::Close(code))).await;
                return End::Closed(code);
            }
        };
        // The table's reasons fit a close frame (at most 123 bytes; a proto test checks).
        let mut payload = code.to_be_bytes().to_vec();
        payload.extend_from_slice(close::reason(code).as_bytes());
        let (bytes, len) = header(0x88, payload.len());
        let mut frame = bytes[..len].to_vec();
        frame.extend_from_slice(&payload);
        // The peer may already be gone, or no longer reading; there is nothing more to do
        // either way.
        let _ = bounded(async {
            ws.flush().await.map_err(io::Error::other)?;
            let io = ws.get_mut();
            io.write_all(&frame).await?;
            io.shutdown().await
        })
        .await;
        End::Closed(code)
    }
}

/// The owner's end of a client connection held by another node of the cluster: what the
/// client sends arrives as frames from the cluster's bridge; what the session writes goes
/// to the node's forwarder, which publishes it to the node in batches.
#[derive(Debug)]
pub(crate) struct Tunnel {
    /// The connection's number on its node.
    pub conn: u64,
    /// What the client sent, in order.
    pub events: tokio::sync::mpsc::Receiver<Frame>,
    /// The forwarder to the client's node (bounded: a session waits for room like it
    /// waits for a socket, under the same write timeout).
    pub down: tokio::sync::mpsc::Sender<(u64, Down)>,
    /// Frames the client's node may still take: each write takes one per frame, and the
    /// node gives them back as it writes them to the client (`Up::Ack`). A client that
    /// reads slowly thus holds its session back here, and its room skips and catches up
    /// for it as for a local client, instead of its node's queue overflowing.
    pub credit: std::sync::Arc<tokio::sync::Semaphore>,
    /// A close was sent (or the client closed): nothing more to say on drop.
    pub closed: bool,
    /// The node the client is connected to.
    pub node: std::sync::Arc<str>,
}

impl Tunnel {
    async fn down(&mut self, what: Down) -> io::Result<()> {
        self.down
            .send((self.conn, what))
            .await
            .map_err(|_| io::ErrorKind::BrokenPipe.into())
    }
}

impl Drop for Tunnel {
    fn drop(&mut self) {
        if !self.closed {
            // The session ended without closing (its forwarder was stuck or gone): the
            // client's node is told to let the client go and come back.
            let _ = self
                .down
                .try_send((self.conn, Down::Close(close::SERVICE_RESTART)));
        }
    }
}

/// The close code for a read error that is the client's breach of RFC 6455, if it is one;
/// `None` for a connection that dropped or failed otherwise. tungstenite only reports
/// these ("fail the WebSocket connection"); RFC 6455 section 7.1.7 asks for a close frame
/// with the right code before the TCP close.
fn protocol_error(err: &tungstenite::Error) -> Option<u16> {
    use tungstenite::error::ProtocolError as P;
    match err {
        // A text message, or a close frame's reason, that is not UTF-8.
        tungstenite::Error::Utf8(_) => Some(close::INVALID_PAYLOAD),
        tungstenite::Error::Protocol(
            P::NonZeroReservedBits
            | P::UnmaskedFrameFromClient
            | P::FragmentedControlFrame
            | P::ControlFrameTooBig
            | P::UnknownControlFrameType(_)
            | P::UnknownDataFrameType(_)
            | P::UnexpectedContinueFrame
            | P::ExpectedFragment(_)
            | P::InvalidOpcode(_)
            | P::InvalidCloseSequence
            | P::ReceivedAfterClosing,
        ) => Some(close::PROTOCOL_ERROR),
        // A reset without a close, I/O errors, and what a server's reader cannot meet
        // (handshake and client-side errors).
        _ => None,
    }
}

/// Writes text frames to a WebSocket in one vectored write, and flushes.
async fn write_all(ws: &mut Socket, messages: &[Utf8Bytes]) -> io::Result<()> {
    // Whatever tungstenite queued (a pong, a close reply) goes first, whole.
    ws.flush().await.map_err(io::Error::other)?;
    let mut headers = Vec::with_capacity(messages.len());
    for message in messages {
        headers.push(header(0x81, message.len()));
    }
    let mut slices = Vec::with_capacity(messages.len() * 2);
    for (message, (bytes, len)) in messages.iter().zip(&headers) {
        slices.push(IoSlice::new(&bytes[..*len]));
        slices.push(IoSlice::new(message.as_bytes()));
    }
    let io = ws.get_mut();
    let mut remaining = &mut slices[..];
    while !remaining.is_empty() {
        let written = io.write_vectored(remaining).await?;
        if written == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        IoSlice::advance_slices(&mut remaining, written);
    }
    io.flush().await
}

/// A server frame header (unmasked): the bytes and how many of them are used.
fn header(first: u8, len: usize) -> ([u8; 10], usize) {
    let mut out = [0u8; 10];
    out[0] = first;
    if len < 126 {
        out[1] = len as u8;
        (out, 2)
    } else if len <= usize::from(u16::MAX) {
        out[1] = 126;
        out[2..4].copy_from_slice(&(len as u16).to_be_bytes());
        (out, 4)
    } else {
        out[1] = 127;
        out[2..10].copy_from_slice(&(len as u64).to_be_bytes());
        (out, 10)
    }
}

#[cfg(test)]
mod tests {
    use super::header;

    #[test]
    fn headers_use_the_shortest_length_encoding() {
        assert_eq!(&header(0x81, 5).0[..2], &[0x81, 5]);
        assert_eq!(&header(0x81, 126).0[..4], &[0x81, 126, 0, 126]);
        assert_eq!(
            &header(0x81, 70_000).0[..10],
            &[0x81, 127, 0, 0, 0, 0, 0, 1, 0x11, 0x70]
        );
    }
}
