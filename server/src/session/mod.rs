//! One task per WebSocket connection: the handshake, decoding and checking every frame,
//! rate limits, and writing the room's messages out of a bounded queue.
//!
//! Wire messages are converted to room commands here; nothing the client claims about
//! identity is believed (the sender of a signal is whoever owns this connection).

pub(crate) mod attempts;
pub(crate) mod classify;
pub(crate) mod limits;

use std::ops::ControlFlow;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hallway_proto::{ClientMessage, ErrorCode, close, limits as proto_limits};
use tracing::debug;
use tungstenite::protocol::frame::Utf8Bytes;

use crate::access::{AccessError, AccessMode, Grant, TokenError, Tokens};
use crate::room::model::{DisplayName, EngineError, ParticipantId, ProfileLine, Role};
use crate::room::views;
use crate::room::{Departure, JoinError, RoomHandle, Seat};
use crate::rooms::Rooms;
use crate::sfu::{MediaError, RoomMedia};
use crate::transport::conn::{self, Conn, Frame, Tunnel};
use crate::transport::outbox::{self, OutboxReceiver};
use crate::transport::{End, Handler, Keepalive, Served};
use classify::{Incoming, SfuOrder};
use limits::{Kind, RateLimits, Verdict};

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
    /// Pings, and letting go when the server stops.
    pub keepalive: Keepalive,
    /// Verifies the tokens of signed links.
    pub tokens: Tokens,
    /// Failed passcodes and links, per address and room (guessing is slowed down).
    pub attempts: std::sync::Arc<attempts::Attempts>,
}

/// What the room makes of how a session ended: a lost participant keeps their place for
/// the grace window; one who left, or whom the server closed for cause, is removed.
fn departure(end: &End) -> Departure {
    match end {
        End::Left => Departure::Left,
        End::Lost => Departure::Reconnecting,
        End::Unloaded => Departure::Unloaded,
        End::Closed(
            close::SLOW_CONSUMER | close::UNRESPONSIVE | close::SERVICE_RESTART | close::REPLACED,
        ) => Departure::Reconnecting,
        End::Closed(_) => Departure::Left,
    }
}

/// Runs, on a room's owner, the session of a client connected to another node.
pub(crate) async fn run_tunnel(tunnel: Tunnel, ctx: Arc<SessionContext>) {
    let mut conn = Conn::tunnel(tunnel);
    if let Ok(hello) = conn.first_text(ctx.hello_timeout).await {
        // The client's address stays on its node: here only the room-wide ceiling applies.
        run(conn, hello, ctx, None).await;
    }
}

/// A connection's session from its `hello` on, on this node: the handshake, then serving
/// it until it ends, then telling the room how it ended. `client` is the client's
/// address, when its connection is on this node. The context is shared (one `Arc` per
/// session rather than a copy of it kept by each).
pub(crate) async fn run(
    mut conn: Conn,
    hello: Utf8Bytes,
    ctx: Arc<SessionContext>,
    client: Option<std::net::IpAddr>,
) {
    // The handshake and the goodbye are boxed while they run: this future lasts as long
    // as the connection, and keeps the size of its largest state (see `transport::serve`).
    let joined = match Box::pin(handshake(&mut conn, &hello, &ctx, client)).await {
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
        media,
        mut outbox,
    } = joined;
    let mut session = Session {
        id: seat.id,
        room: &room,
        media,
        limits: RateLimits::new(Instant::now(), ctx.signal_rate),
    };
    let end = serve(&mut session, &mut conn, &mut outbox, &ctx).await;
    if matches!(end, End::Closed(close::SLOW_CONSUMER)) {
        // Counted here, once, however it came about: the room's order (its queue
        // overflowed) or a write the client did not take in time.
        metrics::counter!(crate::metrics::SLOW_CONSUMERS).increment(1);
    }
    // The connection ends now, not once a busy room has heard of it: telling the room
    // may wait for room in its inbox.
    conn.ended(&end);
    drop(conn);
    Box::pin(room.leave(seat, departure(&end))).await;
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
    media: Option<Arc<RoomMedia>>,
    outbox: OutboxReceiver,
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
    let Some((room, media)) = ctx.rooms.get_with_media(&slug) else {
        return Err(conn
            .refuse(ErrorCode::RoomNotFound, "no room with that name")
            .await);
    };
    // A resume token that names a participant proves they were admitted: coming back (a
    // reload, a dropped connection) needs no passcode, link or name again, and no limit
    // on guessing holds it up. A token that names no one is a hello like any other.
    if let Some(token) = resume {
        let (link, outbox) = outbox::relayed_outbox(ctx.send_queue, conn.relayed());
        match room.resume(token, link).await {
            Ok(seat) => {
                return Ok(Joined {
                    seat,
                    room,
                    media,
                    outbox,
                });
            }
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
        .map(|token| ctx.tokens.verify(token, &slug, crate::clock::now_secs()))
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
    let (link, outbox) = outbox::relayed_outbox(ctx.send_queue, conn.relayed());
    match room
        .join(name, profile, grant.role, grant.link, link, None)
        .await
    {
        Ok(seat) => Ok(Joined {
            seat,
            room,
            media,
            outbox,
        }),
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

/// Serves a joined session until it ends.
async fn serve(
    session: &mut Session<'_>,
    conn: &mut Conn,
    outbox: &mut OutboxReceiver,
    ctx: &SessionContext,
) -> End {
    match crate::transport::serve(conn, outbox, &ctx.keepalive, session).await {
        Served::Handled(end) | Served::Ended(end) => end,
        Served::Kicked(code) => End::Closed(code),
        Served::Abandoned => End::Lost,
    }
}

/// A joined session, as it handles what its client sends.
struct Session<'a> {
    id: ParticipantId,
    room: &'a RoomHandle,
    /// The room's media routes through the SFU, if the server has one.
    media: Option<Arc<RoomMedia>>,
    limits: RateLimits,
}

impl Handler for Session<'_> {
    type Output = End;

    async fn frame(&mut self, conn: &mut Conn, frame: Frame) -> ControlFlow<End> {
        let end = match frame {
            Frame::Text(text) => on_text(self, conn, &text).await,
            Frame::Binary(_) => reply_limited(
                conn,
                &mut self.limits,
                ErrorCode::BinaryNotSupported,
                "send JSON text frames",
            )
            .await
            .err(),
            Frame::Control => None,
            Frame::TooBig => Some(conn.close(close::TOO_BIG).await),
            // A client that broke the WebSocket protocol is not a network blip: it leaves
            // at once (no grace window), like one the server closed for cause.
            Frame::ProtocolError(code) => Some(conn.close(code).await),
            // A client that gives up on a connection it believes dead says so; any other
            // close means it left.
            Frame::Closed(Some(close::ABANDONED)) => {
                conn.finish().await;
                Some(End::Lost)
            }
            // A browser closes with 1001 when its page goes away: perhaps a reload that
            // comes straight back, perhaps a closed tab.
            Frame::Closed(Some(close::GOING_AWAY)) => {
                conn.finish().await;
                Some(End::Unloaded)
            }
            Frame::End => Some(End::Lost),
            Frame::Dropped(code) => Some(End::Closed(code)),
            Frame::Missed => match self.room.missed(self.id).await {
                Ok(()) => None,
                Err(_) => Some(conn.close(close::SERVICE_RESTART).await),
            },
            Frame::Closed(_) => Some(conn.finish().await),
        };
        match end {
            Some(end) => ControlFlow::Break(end),
            None => ControlFlow::Continue(()),
        }
    }
}

/// Handles one text frame after the handshake; `Some` ends the session.
async fn on_text(session: &mut Session<'_>, conn: &mut Conn, text: &str) -> Option<End> {
    let (id, room, limits) = (session.id, session.room, &mut session.limits);
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
        // Both follow the pointer: a walk and a pan are a few a second.
        ClientMessage::Move { .. } | ClientMessage::View { .. } => Kind::Move,
        ClientMessage::Signal { .. } => Kind::Signal,
        // A search is typed by a person, like a chat message, and costs the room a look
        // at everyone.
        ClientMessage::Chat { .. } | ClientMessage::Find { .. } => Kind::Chat,
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
        Incoming::Sfu(order) => return on_sfu(id, session.media.as_deref(), conn, order).await,
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
    media: Option<&RoomMedia>,
    conn: &mut Conn,
    order: SfuOrder,
) -> Option<End> {
    let Some(media) = media else {
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
