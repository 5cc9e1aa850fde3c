//! One task per WebSocket connection: the handshake, decoding and checking every frame,
//! rate limits, and writing the room's messages out of a bounded queue.
//!
//! Wire messages are converted to room commands here; nothing the client claims about
//! identity is believed (the sender of a signal is whoever owns this connection).

pub mod limits;
pub mod outbox;

use std::time::{Duration, Instant};

use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use hallway_proto::{ClientMessage, ErrorCode, ServerMessage, close, limits as proto_limits};
use tokio::sync::watch;
use tracing::debug;
use tungstenite::protocol::CloseFrame;
use tungstenite::protocol::frame::coding::{Data, OpCode};
use tungstenite::protocol::frame::{Frame as WireFrame, Utf8Bytes};
use tungstenite::{Bytes, Message};

use crate::http::upgrade::Socket;
use crate::room::actor::Command;
use crate::room::model::{DisplayName, EngineError, Media, ParticipantId, Role};
use crate::room::views;
use crate::room::{JoinError, RoomHandle};
use crate::rooms::Rooms;
use limits::{Kind, RateLimits, Verdict};
use outbox::{OutboxReceiver, Outgoing};

/// Most frames written to the socket before one flush.
const WRITE_BATCH: usize = 64;

/// Messages larger than this go out as fragments of this size: tungstenite's write buffer
/// grows to the largest frame and never shrinks, per connection.
pub const FRAGMENT: usize = 1024;

/// What a session needs from the server.
#[derive(Debug, Clone)]
pub struct SessionContext {
    /// Where rooms are found by slug.
    pub rooms: Rooms,
    /// Capacity of each session's outgoing queue, in frames.
    pub send_queue: usize,
    /// Sustained signals per second per connection.
    pub signal_rate: u32,
    /// How long a connection may take to say hello.
    pub hello_timeout: Duration,
    /// Flips to `true` when the server shuts down.
    pub shutdown: watch::Receiver<bool>,
}

type Sink = SplitSink<Socket, Message>;
type Stream = SplitStream<Socket>;

/// Why a session ended, for the log.
#[derive(Debug)]
enum End {
    /// The client closed or left, or the socket failed.
    Client,
    /// We closed with this code.
    Closed(u16),
}

/// Runs one connection to its end.
pub async fn run(socket: Socket, ctx: SessionContext) {
    let (mut sink, mut stream) = socket.split();
    let joined = match handshake(&mut sink, &mut stream, &ctx).await {
        Ok(joined) => joined,
        Err(End::Closed(code)) => {
            debug!(code, "handshake refused");
            return;
        }
        Err(End::Client) => return,
    };
    let Joined {
        id,
        room,
        mut outbox,
    } = joined;
    let end = serve(id, &room, &mut sink, &mut stream, &mut outbox, &ctx).await;
    room.leave(id).await;
    match end {
        End::Closed(code) => debug!(code, "session closed by the server"),
        End::Client => debug!("session closed by the client"),
    }
}

/// A session that passed the handshake.
struct Joined {
    id: ParticipantId,
    room: RoomHandle,
    outbox: OutboxReceiver,
}

async fn handshake(
    sink: &mut Sink,
    stream: &mut Stream,
    ctx: &SessionContext,
) -> Result<Joined, End> {
    let deadline = tokio::time::sleep(ctx.hello_timeout);
    tokio::pin!(deadline);
    let text = loop {
        let frame = tokio::select! {
            frame = stream.next() => frame,
            _ = &mut deadline => {
                return Err(close_with(sink, close::HELLO_TIMEOUT, "no hello in time").await);
            }
        };
        match read_frame(frame) {
            Frame::Text(text) => break text,
            Frame::Control => continue,
            Frame::Binary => {
                return Err(
                    refuse(sink, ErrorCode::BinaryNotSupported, "send JSON text frames").await,
                );
            }
            Frame::TooBig => return Err(close_with(sink, close::TOO_BIG, "frame too large").await),
            Frame::End => return Err(End::Client),
        }
    };
    let (version, slug, raw_name) = match ClientMessage::decode(&text) {
        Ok(ClientMessage::Hello {
            version,
            room,
            name,
        }) => (version, room, name),
        Ok(_) => {
            return Err(refuse(
                sink,
                ErrorCode::HelloRequired,
                "the first message must be hello",
            )
            .await);
        }
        Err(err) => return Err(refuse(sink, err.code(), &err.to_string()).await),
    };
    if version != proto_limits::PROTOCOL_VERSION {
        let message = format!(
            "this server speaks protocol version {}",
            proto_limits::PROTOCOL_VERSION
        );
        return Err(refuse(sink, ErrorCode::VersionMismatch, &message).await);
    }
    let name = match DisplayName::parse(&raw_name) {
        Ok(name) => name,
        Err(err) => return Err(refuse(sink, ErrorCode::InvalidName, &err.to_string()).await),
    };
    let Some(room) = ctx.rooms.get(&slug) else {
        return Err(refuse(sink, ErrorCode::RoomNotFound, "no room with that name").await);
    };
    let (link, outbox) = outbox::outbox(ctx.send_queue);
    match room.join(name, Role::Participant, link).await {
        Ok(id) => Ok(Joined { id, room, outbox }),
        Err(err @ JoinError::Refused(_)) => Err(refuse(sink, err.code(), &err.to_string()).await),
        Err(JoinError::Closed) => {
            Err(close_with(sink, close::GOING_AWAY, "the server is shutting down").await)
        }
    }
}

async fn serve(
    id: ParticipantId,
    room: &RoomHandle,
    sink: &mut Sink,
    stream: &mut Stream,
    outbox: &mut OutboxReceiver,
    ctx: &SessionContext,
) -> End {
    let mut shutdown = ctx.shutdown.clone();
    let mut limits = RateLimits::new(Instant::now(), ctx.signal_rate);
    loop {
        tokio::select! {
            biased;
            () = stopping(&mut shutdown) => {
                return close_with(sink, close::GOING_AWAY, "the server is shutting down").await;
            }
            next = outbox.recv() => match next {
                Some(Outgoing::Frame(frame)) => {
                    if write_batch(sink, outbox, frame).await.is_err() {
                        return End::Client;
                    }
                }
                Some(Outgoing::Kicked(code)) => {
                    return close_with(sink, code, "you fell too far behind; reconnect").await;
                }
                None => return End::Client,
            },
            frame = stream.next() => match read_frame(frame) {
                Frame::Text(text) => {
                    if let Some(end) = on_text(id, room, sink, &mut limits, &text).await {
                        return end;
                    }
                }
                Frame::Binary => {
                    if reply_limited(sink, &mut limits, ErrorCode::BinaryNotSupported, "send JSON text frames").await.is_err() {
                        return End::Client;
                    }
                }
                Frame::Control => {}
                Frame::TooBig => return close_with(sink, close::TOO_BIG, "frame too large").await,
                Frame::End => return End::Client,
            },
        }
    }
}

/// Resolves once the server starts shutting down.
async fn stopping(shutdown: &mut watch::Receiver<bool>) {
    // The guard `wait_for` returns is not `Send`; drop it here rather than in `select!`.
    let _ = shutdown.wait_for(|stopping| *stopping).await;
}

/// Writes `first` and whatever else is queued, then flushes once.
async fn write_batch(
    sink: &mut Sink,
    outbox: &mut OutboxReceiver,
    first: Utf8Bytes,
) -> Result<(), tungstenite::Error> {
    // A welcome to a large room is hundreds of fragments, each a write: without this,
    // tokio's cooperative budget would send the task to the back of the run queue every
    // 128 of them, behind every other busy session. A full socket still suspends it.
    tokio::task::unconstrained(async {
        feed_text(sink, first).await?;
        for _ in 1..WRITE_BATCH {
            match outbox.try_recv() {
                Some(frame) => feed_text(sink, frame).await?,
                None => break,
            }
        }
        sink.flush().await
    })
    .await
}

/// Queues a text message, in fragments of [`FRAGMENT`] bytes when it is larger (the
/// fragments share the message's bytes; nothing is copied).
async fn feed_text(sink: &mut Sink, text: Utf8Bytes) -> Result<(), tungstenite::Error> {
    if text.len() <= FRAGMENT {
        return sink.feed(Message::Text(text)).await;
    }
    let bytes = Bytes::from(text);
    let mut at = 0;
    while at < bytes.len() {
        let end = (at + FRAGMENT).min(bytes.len());
        let opcode = if at == 0 {
            OpCode::Data(Data::Text)
        } else {
            OpCode::Data(Data::Continue)
        };
        let frame = WireFrame::message(bytes.slice(at..end), opcode, end == bytes.len());
        sink.feed(Message::Frame(frame)).await?;
        at = end;
    }
    Ok(())
}

/// Handles one text frame after the handshake; `Some` ends the session.
async fn on_text(
    id: ParticipantId,
    room: &RoomHandle,
    sink: &mut Sink,
    limits: &mut RateLimits,
    text: &str,
) -> Option<End> {
    let msg = match ClientMessage::decode(text) {
        Ok(msg) => msg,
        Err(err) => {
            return reply_limited(sink, limits, err.code(), &err.to_string())
                .await
                .err();
        }
    };
    let kind = match msg {
        ClientMessage::Move { .. } => Kind::Move,
        ClientMessage::Signal { .. } => Kind::Signal,
        _ => Kind::Other,
    };
    match limits.check(kind, Instant::now()) {
        Verdict::Allow => {}
        Verdict::Drop => return None,
        Verdict::DropAndNotify => {
            return reply(
                sink,
                ErrorCode::RateLimited,
                "too many messages; some were dropped",
            )
            .await
            .err();
        }
    }
    let command = match msg {
        ClientMessage::Hello { .. } => {
            return reply(sink, ErrorCode::AlreadyJoined, "hello was already sent")
                .await
                .err();
        }
        ClientMessage::Leave => return Some(close_with(sink, close::NORMAL, "goodbye").await),
        ClientMessage::Move { x, y } => Command::Move { x, y },
        ClientMessage::LockCircle { locked } => Command::Lock(locked),
        ClientMessage::Media {
            mic,
            camera,
            screen,
        } => Command::Media(Media {
            mic,
            camera,
            screen,
        }),
        ClientMessage::Signal { to, payload } => {
            if payload.get().len() > proto_limits::MAX_SIGNAL_PAYLOAD_BYTES {
                return reply(
                    sink,
                    ErrorCode::PayloadTooLarge,
                    "signal payloads are limited to 32 KiB",
                )
                .await
                .err();
            }
            // Relayed here, not by the room's task (see `room::directory`).
            let relayed = match to.parse::<ParticipantId>() {
                Ok(to) => room.relay(id, to, &payload),
                // Same answer as for a stranger: ids are not probeable.
                Err(_) => Err(EngineError::NotInSameCircle),
            };
            return match relayed {
                Ok(()) => None,
                Err(err) => reply(sink, views::error_code(err), &err.to_string())
                    .await
                    .err(),
            };
        }
    };
    match room.command(id, command).await {
        Ok(()) => None,
        Err(_) => Some(close_with(sink, close::GOING_AWAY, "the room has closed").await),
    }
}

/// Sends an `error` message; bad input draws from the rate limit like any other message.
async fn reply_limited(
    sink: &mut Sink,
    limits: &mut RateLimits,
    code: ErrorCode,
    message: &str,
) -> Result<(), End> {
    match limits.check(Kind::Other, Instant::now()) {
        Verdict::Allow => reply(sink, code, message).await,
        Verdict::DropAndNotify => {
            reply(
                sink,
                ErrorCode::RateLimited,
                "too many messages; some were dropped",
            )
            .await
        }
        Verdict::Drop => Ok(()),
    }
}

async fn reply(sink: &mut Sink, code: ErrorCode, message: &str) -> Result<(), End> {
    let msg = ServerMessage::Error {
        code,
        message: message.to_owned(),
        circle: None,
    };
    sink.send(Message::Text(msg.encode().into()))
        .await
        .map_err(|_| End::Client)
}

/// Sends an `error` and closes: the handshake was refused.
async fn refuse(sink: &mut Sink, code: ErrorCode, message: &str) -> End {
    if reply(sink, code, message).await.is_err() {
        return End::Client;
    }
    close_with(sink, close::REFUSED, code.as_str()).await
}

async fn close_with(sink: &mut Sink, code: u16, reason: &str) -> End {
    let frame = CloseFrame {
        code: code.into(),
        reason: Utf8Bytes::from(reason),
    };
    // The peer may already be gone; there is nothing more to do either way.
    let _ = sink.send(Message::Close(Some(frame))).await;
    let _ = sink.close().await;
    End::Closed(code)
}

/// A frame as the session cares about it.
enum Frame {
    Text(Utf8Bytes),
    Binary,
    /// Ping, pong (answered by the library) or a close from the peer's side pending.
    Control,
    /// Over [`proto_limits::MAX_FRAME_BYTES`].
    TooBig,
    /// Closed or failed.
    End,
}

fn read_frame(frame: Option<Result<Message, tungstenite::Error>>) -> Frame {
    match frame {
        Some(Ok(Message::Text(text))) => Frame::Text(text),
        Some(Ok(Message::Binary(_))) => Frame::Binary,
        Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => Frame::Control,
        Some(Ok(Message::Close(_))) | None => Frame::End,
        Some(Err(tungstenite::Error::Capacity(_))) => Frame::TooBig,
        Some(Err(_)) => Frame::End,
    }
}
