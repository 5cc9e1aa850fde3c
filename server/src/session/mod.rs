//! One task per WebSocket connection: the handshake, decoding and checking every frame,
//! rate limits, and writing the room's messages out of a bounded queue.
//!
//! Wire messages are converted to room commands here; nothing the client claims about
//! identity is believed (the sender of a signal is whoever owns this connection).

pub mod attempts;
pub mod classify;
pub mod conn;
pub mod echo;
pub mod limits;
pub mod outbox;

use std::time::{Duration, Instant};

use hallway_proto::{ClientMessage, ErrorCode, close, limits as proto_limits};
use tokio::sync::watch;
use tracing::debug;
use tungstenite::protocol::frame::Utf8Bytes;

use crate::access::{AccessError, AccessMode, Grant, TokenError, Tokens};
use crate::cluster::Route;
use crate::http::upgrade::Socket;
use crate::room::model::{DisplayName, EngineError, ParticipantId, ProfileLine, Role};
use crate::room::views;
use crate::room::{Departure, JoinError, RoomHandle, Seat};
use crate::rooms::Rooms;
use crate::sfu::MediaError;
use classify::{Incoming, SfuOrder};
use conn::{Conn, Frame};
use limits::{Kind, RateLimits, Verdict};
use outbox::{OutboxReceiver, Outgoing};

/// Most frames written to the socket before one flush.
const WRITE_BATCH: usize = 64;

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
    /// Silence from a client after which it is pinged.
    pub ping_interval: Duration,
    /// How long a pinged client has to answer before it is closed as dead.
    pub ping_timeout: Duration,
    /// The window over which sessions are told to reconnect when the server stops.
    pub drain: Duration,
    /// Verifies the tokens of signed links.
    pub tokens: Tokens,
    /// Flips to `true` when the server shuts down.
    pub shutdown: watch::Receiver<bool>,
    /// This node's cluster, in cluster mode.
    pub cluster: Option<crate::cluster::Cluster>,
    /// Failed passcodes and links, per address and room (guessing is slowed down).
    pub attempts: std::sync::Arc<attempts::Attempts>,
}

/// Why a session ended.
#[derive(Debug)]
pub enum End {
    /// The client left on purpose: said `leave`, or closed the connection.
    Left,
    /// The connection dropped or failed, or the client gave it up to resume on another.
    Lost,
    /// The client's page went away (close code 1001: a reload or a closed tab).
    Unloaded,
    /// We closed with this code.
    Closed(u16),
}

impl End {
    /// What the room makes of it: a lost participant keeps their place for the grace
    /// window; one who left, or whom the server closed for cause, is removed.
    fn departure(&self) -> Departure {
        match self {
            End::Left => Departure::Left,
            End::Lost => Departure::Lost,
            End::Unloaded => Departure::Unloaded,
            End::Closed(
                close::SLOW_CONSUMER
                | close::UNRESPONSIVE
                | close::SERVICE_RESTART
                | close::REPLACED,
            ) => Departure::Lost,
            End::Closed(_) => Departure::Left,
        }
    }
}

/// Runs one connection to its end. In a cluster, a connection to a room another node
/// owns is relayed there (see `cluster::relay`).
pub async fn run(socket: Socket, ctx: SessionContext, client: std::net::IpAddr) {
    let mut conn = Conn::new(socket);
    let Ok(hello) = first_text(&mut conn, &ctx).await else {
        return;
    };
    if let Some(cluster) = ctx.cluster.clone() {
        match cluster.route(&hello).await {
            Route::Here => {}
            Route::Elsewhere(slug) => {
                return crate::cluster::relay::run(conn, hello, slug, &ctx, &cluster).await;
            }
            Route::Unavailable => {
                if conn
                    .reply(
                        ErrorCode::Unavailable,
                        "the server cannot reach its cluster; try again in a moment",
                    )
                    .await
                    .is_ok()
                {
                    conn.close(close::TRY_AGAIN_LATER).await;
                }
                return;
            }
        }
    }
    attend(conn, hello, ctx, Some(client)).await;
}

/// Runs, on a room's owner, the session of a client connected to another node.
pub async fn run_tunnel(tunnel: conn::Tunnel, ctx: SessionContext) {
    let mut conn = Conn::tunnel(tunnel);
    if let Ok(hello) = first_text(&mut conn, &ctx).await {
        // The client's address stays on its node: here only the room-wide ceiling applies.
        attend(conn, hello, ctx, None).await;
    }
}

/// A connection's session from its `hello` on: the handshake, then serving it until it
/// ends, then telling the room how it ended.
async fn attend(
    mut conn: Conn,
    hello: Utf8Bytes,
    ctx: SessionContext,
    client: Option<std::net::IpAddr>,
) {
    let joined = match handshake(&mut conn, &hello, &ctx, client).await {
        Ok(joined) => joined,
        Err(End::Closed(code)) => {
            debug!(code, "handshake refused");
            return;
        }
        Err(End::Left | End::Lost | End::Unloaded) => return,
    };
    let Joined {
        seat,
        room,
        mut outbox,
    } = joined;
    let end = serve(seat.id, &room, &mut conn, &mut outbox, &ctx).await;
    if matches!(end, End::Closed(close::SLOW_CONSUMER)) {
        // Counted here, once, however it came about: the room's order (its queue
        // overflowed) or a write the client did not take in time.
        metrics::counter!(crate::metrics::SLOW_CONSUMERS).increment(1);
    }
    // The connection ends now, not once a busy room has heard of it: telling the room
    // may wait for room in its inbox.
    conn.ended(&end);
    drop(conn);
    room.leave(seat, end.departure()).await;
    match end {
        End::Closed(code) => debug!(code, "session closed by the server"),
        End::Left => debug!("session closed by the client"),
        End::Lost => debug!("connection lost"),
        End::Unloaded => debug!("the client's page went away"),
    }
}

/// A session that passed the handshake.
struct Joined {
    seat: Seat,
    room: RoomHandle,
    outbox: OutboxReceiver,
}

/// The connection's first text frame (its `hello`, if it speaks the protocol), within
/// the hello timeout; anything else ends the connection.
async fn first_text(conn: &mut Conn, ctx: &SessionContext) -> Result<Utf8Bytes, End> {
    let deadline = tokio::time::sleep(ctx.hello_timeout);
    tokio::pin!(deadline);
    loop {
        let frame = tokio::select! {
            frame = conn.next() => frame,
            _ = &mut deadline => {
                return Err(conn.close(close::HELLO_TIMEOUT).await);
            }
        };
        match frame {
            Frame::Text(text) => return Ok(text),
            Frame::Control => continue,
            Frame::Binary(_) => {
                return Err(conn
                    .refuse(ErrorCode::BinaryNotSupported, "send JSON text frames")
                    .await);
            }
            Frame::TooBig => return Err(conn.close(close::TOO_BIG).await),
            Frame::ProtocolError(code) => return Err(conn.close(code).await),
            Frame::Closed(_) => return Err(conn.finish().await),
            Frame::End | Frame::Dropped(_) => return Err(End::Lost),
        }
    }
}

async fn handshake(
    conn: &mut Conn,
    text: &Utf8Bytes,
    ctx: &SessionContext,
    client: Option<std::net::IpAddr>,
) -> Result<Joined, End> {
    let (version, slug, raw_name, raw_profile, token, passcode, resume) =
        match ClientMessage::decode(text) {
            Ok(ClientMessage::Hello {
                version,
                room,
                name,
                profile,
                token,
                passcode,
                resume,
            }) => {
                crate::metrics::message_in("hello");
                (version, room, name, profile, token, passcode, resume)
            }
            Ok(_) => {
                return Err(conn
                    .refuse(ErrorCode::HelloRequired, "the first message must be hello")
                    .await);
            }
            Err(err) => return Err(conn.refuse(err.code(), &err.to_string()).await),
        };
    if version != proto_limits::PROTOCOL_VERSION {
        let message = format!(
            "this server speaks protocol version {}",
            proto_limits::PROTOCOL_VERSION
        );
        return Err(conn.refuse(ErrorCode::VersionMismatch, &message).await);
    }
    let Some(room) = ctx.rooms.get(&slug) else {
        return Err(conn
            .refuse(ErrorCode::RoomNotFound, "no room with that name")
            .await);
    };
    // A resume token that names a participant proves they were admitted: coming back (a
    // reload, a dropped connection) needs no passcode, link or name again, and no limit
    // on guessing holds it up. A token that names no one is a hello like any other.
    if let Some(token) = resume {
        let (link, outbox) = outbox::outbox(ctx.send_queue);
        match room.resume(token, link).await {
            Ok(seat) => return Ok(Joined { seat, room, outbox }),
            Err(JoinError::NotResumed) => {}
            Err(err @ JoinError::Refused(_)) => {
                return Err(conn.refuse(err.code(), &err.to_string()).await);
            }
            Err(JoinError::Closed) => return Err(conn.close(close::SERVICE_RESTART).await),
        }
    }
    // Passcodes and links are not for guessing: past a few failures, wait.
    let guessing = token.is_some() || passcode.is_some();
    if guessing && let Some(wait) = ctx.attempts.address_wait(client, Instant::now()) {
        return Err(too_many_attempts(conn, wait).await);
    }
    // Identity and role come only from a verified token; without one, a participant.
    let grant = match token
        .as_deref()
        .map(|token| ctx.tokens.verify(token, &slug, crate::access::now_secs()))
    {
        None => Grant {
            role: Role::Participant,
            name: None,
            profile: None,
            link: None,
        },
        Some(Ok(grant)) => grant,
        Some(Err(err)) => {
            let code = if err == TokenError::Expired {
                ErrorCode::TokenExpired
            } else {
                ctx.attempts.failed(client, &slug, Instant::now());
                ErrorCode::InvalidToken
            };
            return Err(conn.refuse(code, &err.to_string()).await);
        }
    };
    let name = match DisplayName::parse(grant.name.as_deref().unwrap_or(&raw_name)) {
        Ok(name) => name,
        Err(err) => return Err(conn.refuse(ErrorCode::InvalidName, &err.to_string()).await),
    };
    // An invitation's line is the organiser's; without one, the person's own.
    let profile = match grant.profile.as_deref().or(raw_profile.as_deref()) {
        None => None,
        Some(line) => match ProfileLine::parse(line) {
            Ok(line) => line,
            Err(err) => {
                return Err(conn
                    .refuse(ErrorCode::InvalidProfile, &err.to_string())
                    .await);
            }
        },
    };
    // A passcode is checked only in a passcode room, and only without a verified link.
    let checks_passcode =
        grant.link.is_none() && passcode.is_some() && room.access().mode == AccessMode::Passcode;
    // The room-wide ceiling holds up passcode guesses only (a verified link is no guess).
    if checks_passcode && let Some(wait) = ctx.attempts.room_wait(&slug, Instant::now()) {
        return Err(too_many_attempts(conn, wait).await);
    }
    if let Err(err) = room
        .access()
        .admits(grant.link.is_some(), passcode.as_deref())
    {
        let code = match err {
            AccessError::PasscodeRequired => ErrorCode::PasscodeRequired,
            AccessError::WrongPasscode => {
                ctx.attempts.failed(client, &slug, Instant::now());
                ErrorCode::WrongPasscode
            }
            AccessError::InviteOnly => ErrorCode::InviteOnly,
        };
        return Err(conn.refuse(code, &err.to_string()).await);
    }
    // Mistakes are forgiven for a passcode or link that proved right here, not for a
    // hello that proved nothing (a passcode sent to an open room).
    if checks_passcode || grant.link.is_some() {
        ctx.attempts.succeeded(client);
    }
    let (link, outbox) = outbox::outbox(ctx.send_queue);
    match room
        .join(name, profile, grant.role, grant.link, link, None)
        .await
    {
        Ok(seat) => Ok(Joined { seat, room, outbox }),
        Err(err @ (JoinError::Refused(_) | JoinError::NotResumed)) => {
            Err(conn.refuse(err.code(), &err.to_string()).await)
        }
        Err(JoinError::Closed) => Err(conn.close(close::SERVICE_RESTART).await),
    }
}

/// Refuses a hello that must wait `wait` before guessing again.
async fn too_many_attempts(conn: &mut Conn, wait: std::time::Duration) -> End {
    let seconds = attempts::seconds(wait);
    let message = format!("too many wrong passcodes or invalid links; try again in {seconds} s");
    conn.refuse_with_wait(ErrorCode::TooManyAttempts, &message, seconds)
        .await
}

async fn serve(
    id: ParticipantId,
    room: &RoomHandle,
    conn: &mut Conn,
    outbox: &mut OutboxReceiver,
    ctx: &SessionContext,
) -> End {
    let mut shutdown = ctx.shutdown.clone();
    let mut limits = RateLimits::new(Instant::now(), ctx.signal_rate);
    // Keepalive: a ping after `ping_interval` of silence, a close after `ping_timeout` more.
    let mut pinged = false;
    let keepalive = tokio::time::sleep(ctx.ping_interval);
    tokio::pin!(keepalive);
    loop {
        tokio::select! {
            biased;
            () = stopping(&mut shutdown) => {
                // Spread the reconnections of a restart over the drain window.
                let wait = ctx.drain.mul_f64(rand::random::<f64>());
                tokio::time::sleep(wait).await;
                return conn.close(close::SERVICE_RESTART).await;
            }
            () = &mut keepalive => {
                if pinged {
                    return conn.close(close::UNRESPONSIVE).await;
                }
                if let Err(err) = conn.ping().await {
                    return conn::ended_by(&err);
                }
                pinged = true;
                keepalive.as_mut().reset(tokio::time::Instant::now() + ctx.ping_timeout);
            }
            next = outbox.recv() => match next {
                Some(Outgoing::Frame(frame)) => {
                    if let Err(err) = write_batch(conn, outbox, frame).await {
                        return conn::ended_by(&err);
                    }
                }
                Some(Outgoing::Kicked(code)) => {
                    return conn.close(code).await;
                }
                None => return End::Lost,
            },
            frame = conn.next() => {
                // Any frame, a pong included, shows the client is alive.
                pinged = false;
                keepalive.as_mut().reset(tokio::time::Instant::now() + ctx.ping_interval);
                match frame {
                Frame::Text(text) => {
                    if let Some(end) = on_text(id, room, conn, &mut limits, &text).await {
                        return end;
                    }
                }
                Frame::Binary(_) => {
                    if let Err(end) = reply_limited(conn, &mut limits, ErrorCode::BinaryNotSupported, "send JSON text frames").await {
                        return end;
                    }
                }
                Frame::Control => {}
                Frame::TooBig => return conn.close(close::TOO_BIG).await,
                // A client that broke the WebSocket protocol is not a network blip: it
                // leaves at once (no grace window), like one the server closed for cause.
                Frame::ProtocolError(code) => return conn.close(code).await,
                // A client that gives up on a connection it believes dead says so; any
                // other close means it left.
                Frame::Closed(Some(close::ABANDONED)) => {
                    conn.finish().await;
                    return End::Lost;
                }
                // A browser closes with 1001 when its page goes away: perhaps a reload
                // that comes straight back, perhaps a closed tab.
                Frame::Closed(Some(close::GOING_AWAY)) => {
                    conn.finish().await;
                    return End::Unloaded;
                }
                Frame::End => return End::Lost,
                Frame::Dropped(code) => return End::Closed(code),
                Frame::Closed(_) => return conn.finish().await,
                }
            }
        }
    }
}

/// Resolves once the server starts shutting down.
pub(crate) async fn stopping(shutdown: &mut watch::Receiver<bool>) {
    // The guard `wait_for` returns is not `Send`; drop it here rather than in `select!`.
    let _ = shutdown.wait_for(|stopping| *stopping).await;
}

/// Writes `first` and whatever else is queued (up to [`WRITE_BATCH`]) in one write;
/// returns how many frames it wrote.
pub(crate) async fn write_batch(
    conn: &mut Conn,
    outbox: &mut OutboxReceiver,
    first: Utf8Bytes,
) -> std::io::Result<usize> {
    let mut batch = Vec::with_capacity(8);
    batch.push(first);
    while batch.len() < WRITE_BATCH {
        match outbox.try_recv() {
            Some(frame) => batch.push(frame),
            None => break,
        }
    }
    conn.send(&batch).await.map(|()| batch.len())
}

/// Handles one text frame after the handshake; `Some` ends the session.
async fn on_text(
    id: ParticipantId,
    room: &RoomHandle,
    conn: &mut Conn,
    limits: &mut RateLimits,
    text: &str,
) -> Option<End> {
    let msg = match ClientMessage::decode(text) {
        Ok(msg) => msg,
        Err(err) => {
            return reply_limited(conn, limits, err.code(), &err.to_string())
                .await
                .err();
        }
    };
    crate::metrics::message_in(msg.kind());
    let kind = match msg {
        ClientMessage::Move { .. } => Kind::Move,
        ClientMessage::Signal { .. } => Kind::Signal,
        ClientMessage::Chat { .. } => Kind::Chat,
        ClientMessage::Rtt { .. } => Kind::Rtt,
        _ => Kind::Other,
    };
    match limits.check(kind, Instant::now()) {
        Verdict::Allow => {}
        Verdict::Drop => return None,
        Verdict::DropAndNotify => {
            return conn
                .reply(
                    ErrorCode::RateLimited,
                    "too many messages; some were dropped",
                )
                .await
                .err();
        }
    }
    let command = match classify::classify(msg) {
        Incoming::Command(command) => command,
        Incoming::Refused(code, message) => return conn.reply(code, message).await.err(),
        Incoming::Leave => return Some(conn.close(close::NORMAL).await),
        Incoming::Ping => {
            let pong = Utf8Bytes::from_static(r#"{"type":"pong"}"#);
            return conn
                .send(&[pong])
                .await
                .err()
                .map(|err| conn::ended_by(&err));
        }
        Incoming::Sfu(order) => return on_sfu(id, room, conn, order).await,
        Incoming::Rtt {
            target,
            circle,
            text,
            done,
        } => {
            // Relayed here, like signals: keystrokes are none of the room task's business.
            return match room.relay_rtt(id, target, circle, &text, done) {
                Ok(()) => None,
                Err(err) => conn
                    .reply(views::error_code(err), &err.to_string())
                    .await
                    .err(),
            };
        }
        Incoming::Signal { to, payload } => {
            // Relayed here, not by the room's task (see `room::directory`).
            let relayed = match to {
                Some(to) => room.relay(id, to, &payload),
                // Same answer as for a stranger: ids are not probeable.
                None => Err(EngineError::NotInSameCircle),
            };
            return match relayed {
                Ok(()) => None,
                Err(err) => conn
                    .reply(views::error_code(err), &err.to_string())
                    .await
                    .err(),
            };
        }
    };
    match room.command(id, command).await {
        Ok(()) => None,
        Err(_) => Some(conn.close(close::GOING_AWAY).await),
    }
}

/// Hands a description to the room's SFU routes (not through the room's task: media
/// negotiation is none of the engine's business). Refusals are `error` messages.
async fn on_sfu(
    id: ParticipantId,
    room: &RoomHandle,
    conn: &mut Conn,
    order: SfuOrder,
) -> Option<End> {
    let Some(media) = room.media() else {
        return conn
            .reply(ErrorCode::MediaUnavailable, "this server has no SFU")
            .await
            .err();
    };
    let result = match order {
        SfuOrder::Offer(sdp, screen) => media.offer(id, sdp, screen),
        SfuOrder::Answer(sdp, connection) => media.answer(id, sdp, connection),
        SfuOrder::Unpublish => {
            media.unpublish_all(id);
            Ok(())
        }
        SfuOrder::Restart => {
            media.restart(id);
            Ok(())
        }
        SfuOrder::View(views) => {
            media.view(id, &views);
            Ok(())
        }
    };
    let code = match &result {
        Ok(()) => return None,
        Err(MediaError::NothingToAnswer) => ErrorCode::InvalidDescription,
        Err(MediaError::NotJoined | MediaError::Unavailable(_)) => ErrorCode::MediaUnavailable,
    };
    let message = result.err().map(|e| e.to_string()).unwrap_or_default();
    conn.reply(code, &message).await.err()
}

/// Sends an `error` message; bad input draws from the rate limit like any other message.
async fn reply_limited(
    conn: &mut Conn,
    limits: &mut RateLimits,
    code: ErrorCode,
    message: &str,
) -> Result<(), End> {
    match limits.check(Kind::Other, Instant::now()) {
        Verdict::Allow => conn.reply(code, message).await,
        Verdict::DropAndNotify => {
            conn.reply(
                ErrorCode::RateLimited,
                "too many messages; some were dropped",
            )
            .await
        }
        Verdict::Drop => Ok(()),
    }
}
