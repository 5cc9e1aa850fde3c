//! The shared test harness: a real server on a loopback port ([`TestServer`]) and a typed
//! WebSocket client ([`TestClient`]) that waits for conditions with deadlines instead of
//! sleeping.
//!
//! Every integration test under `tests/tests/` uses these; none starts a server or opens
//! a socket any other way. [`process::ServerProcess`] runs the real binary as the
//! container does, for tests of configuration, health and shutdown; [`raw::RawSocket`]
//! writes WebSocket frames byte by byte, for frames no library would send.

pub mod admin;
pub mod circles;
pub mod cluster;
pub mod glewlwyd;
pub mod hello;
pub mod http;
pub mod media;
pub mod process;
pub mod raw;
pub mod redis;
pub mod sight;
pub mod smtp;
pub mod turn;
pub mod udp_proxy;

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use futures_util::{SinkExt, StreamExt};
use hallway::{Config, RunningServer};
use hallway_proto::{ClientMessage, ServerMessage};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// How long any single wait may take before the test fails. Generous, because CI machines
/// are slow; a passing test never waits this long.
pub const DEADLINE: Duration = Duration::from_secs(10);

/// A `hallway` server running in this process on 127.0.0.1 with a free port.
#[derive(Debug)]
pub struct TestServer {
    /// The running server.
    server: RunningServer,
}

impl TestServer {
    /// Starts a server with the default configuration.
    pub async fn start() -> Result<TestServer> {
        TestServer::start_with(|_| {}).await
    }

    /// Starts a server after `adjust` has changed the default configuration.
    pub async fn start_with(adjust: impl FnOnce(&mut Config)) -> Result<TestServer> {
        let mut config = Config::defaults();
        config.bind = [127, 0, 0, 1].into();
        config.port = 0;
        config.media_port = 0;
        config.turn_port = 0;
        // Sessions close at once when a test stops its server (a test of draining sets
        // its own window).
        config.drain_seconds = 0;
        // A data folder of its own (the room store), and a secret, so that nothing is
        // written to the repository or shared between tests.
        config.data_dir =
            std::env::temp_dir().join(format!("hallway-test-{}", process::rand_suffix()));
        config.secret = Some(format!(
            "test-secret-{:032x}",
            std::process::id() as u128 * 7919 + 17
        ));
        adjust(&mut config);
        let server = hallway::start(config)
            .await
            .context("starting the test server")?;
        Ok(TestServer { server })
    }

    /// Mints a token for a signed link into `room`.
    pub fn token(
        &self,
        room: &str,
        role: hallway::access::TokenRole,
        name: Option<&str>,
    ) -> String {
        let in_a_day = hallway::clock::now_secs() + 24 * 3600;
        self.server.tokens.mint(room, role, name, in_a_day)
    }

    /// Opens a room with these settings (open to anyone).
    pub fn open_room(&self, settings: hallway::room::RoomSettings) -> Result<()> {
        self.server
            .rooms
            .open(settings, 10)
            .map(|_| ())
            .map_err(|e| anyhow!("opening the room: {e}"))
    }

    /// Where `/metrics` has a listener of its own (`--metrics-bind`), if it has one.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.server.metrics_addr
    }

    /// Where the SFU tells clients to send media.
    pub fn media_addr(&self) -> SocketAddr {
        self.server.sfu.announced()
    }

    /// The server's token minter, for tokens a test crafts itself.
    pub fn tokens(&self) -> &hallway::access::Tokens {
        &self.server.tokens
    }

    /// Where the server listens.
    pub fn addr(&self) -> SocketAddr {
        self.server.local_addr
    }

    /// The WebSocket endpoint.
    pub fn ws_url(&self) -> String {
        format!("ws://{}/ws", self.addr())
    }

    /// An HTTP URL on this server.
    pub fn http_url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr(), path)
    }

    /// Stops the server.
    pub async fn stop(self) -> Result<()> {
        self.server
            .shutdown()
            .await
            .context("stopping the test server")
    }
}

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A typed protocol client over a real WebSocket.
#[derive(Debug)]
pub struct TestClient {
    /// The connection.
    socket: Socket,
    /// Our participant id, once welcomed.
    pub id: String,
    /// The welcome we got, once joined.
    pub welcome: Option<ServerMessage>,
}

/// How a connection ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Closed {
    /// The close code, if the server sent a close frame.
    pub code: Option<u16>,
    /// The close reason.
    pub reason: String,
}

impl Closed {
    /// A close frame with `code` and that code's reason (from `close::CODES`).
    pub fn with(code: u16) -> Closed {
        Closed {
            code: Some(code),
            reason: hallway_proto::close::reason(code).to_owned(),
        }
    }
}

impl TestClient {
    /// A client on an open WebSocket that has not said hello yet.
    fn over(socket: Socket) -> TestClient {
        TestClient {
            socket,
            id: String::new(),
            welcome: None,
        }
    }

    /// Opens a WebSocket to the server without saying hello.
    pub async fn connect(server: &TestServer) -> Result<TestClient> {
        TestClient::connect_to(server.addr()).await
    }

    /// Opens a WebSocket to the server at `addr` (one the test started as a process).
    pub async fn connect_to(addr: SocketAddr) -> Result<TestClient> {
        let (socket, _) = tokio::time::timeout(
            DEADLINE,
            tokio_tungstenite::connect_async(format!("ws://{addr}/ws")),
        )
        .await
        .context("connect timed out")?
        .context("connecting")?;
        Ok(TestClient::over(socket))
    }

    /// Opens a WebSocket to the server at `addr` with a receive window of about `bytes`:
    /// a client that stops reading for a while then fills its queue on the server soon,
    /// not after megabytes buffered by the kernel.
    pub async fn connect_small_window(addr: SocketAddr, bytes: u32) -> Result<TestClient> {
        let socket = tokio::net::TcpSocket::new_v4()?;
        socket.set_recv_buffer_size(bytes)?;
        let stream = tokio::time::timeout(DEADLINE, socket.connect(addr))
            .await
            .context("connect timed out")??;
        let (socket, _) = tokio::time::timeout(
            DEADLINE,
            tokio_tungstenite::client_async(
                format!("ws://{addr}/ws"),
                MaybeTlsStream::Plain(stream),
            ),
        )
        .await
        .context("connect timed out")?
        .context("connecting")?;
        Ok(TestClient::over(socket))
    }

    /// Opens a WebSocket as a page at `origin` would (with that Origin header); returns the
    /// HTTP status of a refusal as the error's text.
    pub async fn connect_from(server: &TestServer, origin: &str) -> Result<TestClient> {
        TestClient::connect_with(server, &[("Origin", origin)]).await
    }

    /// Opens a WebSocket with these extra request headers; returns the HTTP status of a
    /// refusal as the error's text.
    pub async fn connect_with(server: &TestServer, headers: &[(&str, &str)]) -> Result<TestClient> {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        use tokio_tungstenite::tungstenite::http::HeaderName;
        let mut request = server.ws_url().into_client_request()?;
        for (name, value) in headers {
            request.headers_mut().insert(
                HeaderName::from_bytes(name.as_bytes()).context("header name")?,
                value.parse().context("header value")?,
            );
        }
        let (socket, _) = tokio::time::timeout(DEADLINE, tokio_tungstenite::connect_async(request))
            .await
            .context("connect timed out")?
            .map_err(|e| match e {
                tokio_tungstenite::tungstenite::Error::Http(response) => {
                    anyhow!("refused with {}", response.status().as_u16())
                }
                other => anyhow!(other),
            })?;
        Ok(TestClient::over(socket))
    }

    /// Connects to the server at `addr` and joins `room` under `name`, with a token if given.
    pub async fn join_at(
        addr: SocketAddr,
        room: &str,
        name: &str,
        token: Option<&str>,
    ) -> Result<TestClient> {
        let mut client = TestClient::connect_to(addr).await?;
        match token {
            Some(token) => client.hello_with_token(room, name, token).await?,
            None => client.hello(room, name).await?,
        }
        client.welcomed().await?;
        Ok(client)
    }

    /// Connects and joins the default room (`lobby`) under `name`.
    pub async fn join(server: &TestServer, name: &str) -> Result<TestClient> {
        TestClient::join_room(server, "lobby", name).await
    }

    /// Connects and joins `room` under `name`; fails unless welcomed.
    pub async fn join_room(server: &TestServer, room: &str, name: &str) -> Result<TestClient> {
        let mut client = TestClient::connect(server).await?;
        client.hello(room, name).await?;
        client.welcomed().await?;
        Ok(client)
    }

    /// Connects and joins with a token; fails unless welcomed.
    pub async fn join_with_token(
        server: &TestServer,
        room: &str,
        name: &str,
        token: &str,
    ) -> Result<TestClient> {
        let mut client = TestClient::connect(server).await?;
        client.hello_with_token(room, name, token).await?;
        client.welcomed().await?;
        Ok(client)
    }

    /// Connects and joins `room` as a host (through a host link) under `name`.
    pub async fn join_host(server: &TestServer, room: &str, name: &str) -> Result<TestClient> {
        let token = server.token(room, hallway::access::TokenRole::Host, None);
        TestClient::join_with_token(server, room, name, &token).await
    }

    /// Connects to `addr` and sends `hello` with a resume token; fails unless welcomed
    /// (resumed or not: the welcome says).
    pub async fn resume_at(
        addr: SocketAddr,
        room: &str,
        name: &str,
        token: &str,
    ) -> Result<TestClient> {
        let mut client = TestClient::connect_to(addr).await?;
        client.hello_with_resume(room, name, token, None).await?;
        client.welcomed().await?;
        Ok(client)
    }

    /// The resume token of our welcome.
    pub fn resume_token(&self) -> Option<&str> {
        match &self.welcome {
            Some(ServerMessage::Welcome { resume, .. }) => Some(resume),
            _ => None,
        }
    }

    /// Whether our welcome gave back a participant who resumed.
    pub fn resumed(&self) -> bool {
        matches!(
            &self.welcome,
            Some(ServerMessage::Welcome { resumed: true, .. })
        )
    }

    /// Reads our welcome (the next message, or fails), e.g. after waiting to be admitted.
    pub async fn welcomed(&mut self) -> Result<()> {
        let welcome = self.recv().await?;
        let ServerMessage::Welcome { you, .. } = &welcome else {
            bail!("expected welcome, got {welcome:?}");
        };
        self.id = you.clone();
        self.welcome = Some(welcome);
        Ok(())
    }

    /// Sends a typed message.
    pub async fn send(&mut self, msg: &ClientMessage) -> Result<()> {
        let text = serde_json::to_string(msg)?;
        self.send_text(&text).await
    }

    /// Sends a text frame as is.
    pub async fn send_text(&mut self, text: &str) -> Result<()> {
        self.socket
            .send(Message::text(text))
            .await
            .context("sending")
    }

    /// Sends any frame as is.
    pub async fn send_frame(&mut self, frame: Message) -> Result<()> {
        self.socket.send(frame).await.context("sending")
    }

    /// Walks to a point.
    pub async fn move_to(&mut self, x: f64, y: f64) -> Result<()> {
        self.send(&ClientMessage::Move {
            x,
            y,
            walking: false,
        })
        .await
    }

    /// Takes one step of a walk that goes on (no circle forms or is joined there).
    pub async fn walk_step(&mut self, x: f64, y: f64) -> Result<()> {
        self.send(&ClientMessage::Move {
            x,
            y,
            walking: true,
        })
        .await
    }

    /// Sends a signalling payload (JSON text) to a participant id.
    pub async fn signal(&mut self, to: &str, payload_json: &str) -> Result<()> {
        let payload = hallway_proto::Payload::from_json(payload_json)?;
        self.send(&ClientMessage::Signal {
            to: to.into(),
            payload,
        })
        .await
    }

    /// The next server message; fails on a close, a non-text frame or the deadline.
    pub async fn recv(&mut self) -> Result<ServerMessage> {
        tokio::time::timeout(DEADLINE, self.next_message())
            .await
            .context("no message before the deadline")?
    }

    /// The next server message, however long it takes (for a task that reads for as long
    /// as the test runs); fails on a close or a non-text frame.
    pub async fn next_message(&mut self) -> Result<ServerMessage> {
        loop {
            let frame = self
                .socket
                .next()
                .await
                .ok_or_else(|| anyhow!("the connection ended"))?
                .context("reading")?;
            match frame {
                Message::Text(text) => {
                    return serde_json::from_str(&text).with_context(|| format!("decoding {text}"));
                }
                Message::Close(frame) => bail!("closed by the server: {frame:?}"),
                Message::Ping(_) | Message::Pong(_) => continue,
                other => bail!("unexpected frame {other:?}"),
            }
        }
    }

    /// Stays connected until `until`, as an idle browser does: reads and skips what comes
    /// (answering the server's pings on the way); fails if the connection ends.
    pub async fn idle_until(&mut self, until: tokio::time::Instant) -> Result<()> {
        loop {
            match tokio::time::timeout_at(until, self.socket.next()).await {
                Err(_) => return Ok(()),
                Ok(None) => bail!("the connection ended while idle"),
                Ok(Some(frame)) => {
                    if let Message::Close(frame) = frame.context("reading while idle")? {
                        bail!("closed by the server while idle: {frame:?}");
                    }
                }
            }
        }
    }

    /// Reads until a message satisfies `pick` and returns what it picked; fails at the
    /// deadline. Messages before it are skipped.
    pub async fn wait_for<T>(
        &mut self,
        what: &str,
        mut pick: impl FnMut(&ServerMessage) -> Option<T>,
    ) -> Result<T> {
        let until = tokio::time::Instant::now() + DEADLINE;
        loop {
            let msg = tokio::time::timeout_at(until, self.recv())
                .await
                .with_context(|| format!("waiting for {what}"))?
                .with_context(|| format!("waiting for {what}"))?;
            if let Some(found) = pick(&msg) {
                return Ok(found);
            }
        }
    }

    /// Like [`TestClient::wait_for`], for something that takes longer than [`DEADLINE`]
    /// (a media connection's failure is noticed after seconds of silence): fails after
    /// `limit`.
    pub async fn wait_for_within<T>(
        &mut self,
        what: &str,
        limit: Duration,
        mut pick: impl FnMut(&ServerMessage) -> Option<T>,
    ) -> Result<T> {
        let until = tokio::time::Instant::now() + limit;
        loop {
            let frame = tokio::time::timeout_at(until, self.socket.next())
                .await
                .with_context(|| format!("waiting for {what}"))?
                .ok_or_else(|| anyhow!("the connection ended"))?
                .context("reading")?;
            match frame {
                Message::Text(text) => {
                    let msg: ServerMessage =
                        serde_json::from_str(&text).with_context(|| format!("decoding {text}"))?;
                    if let Some(found) = pick(&msg) {
                        return Ok(found);
                    }
                }
                Message::Close(frame) => bail!("closed by the server: {frame:?}"),
                _ => {}
            }
        }
    }

    /// Reads until a message satisfies `pick`, failing if any message before it satisfies
    /// `forbidden`. Use a later message that is certain to arrive as the barrier.
    pub async fn wait_for_without<T>(
        &mut self,
        what: &str,
        mut forbidden: impl FnMut(&ServerMessage) -> bool,
        mut pick: impl FnMut(&ServerMessage) -> Option<T>,
    ) -> Result<T> {
        self.wait_for(what, |msg| {
            if forbidden(msg) {
                return Some(Err(anyhow!(
                    "got a forbidden message while waiting for {what}: {msg:?}"
                )));
            }
            pick(msg).map(Ok)
        })
        .await?
    }

    /// Waits for an `error` message and returns its code and circle.
    pub async fn expect_error(&mut self) -> Result<(hallway_proto::ErrorCode, Option<u64>)> {
        self.wait_for("an error", |msg| match msg {
            ServerMessage::Error { code, circle, .. } => Some((*code, *circle)),
            _ => None,
        })
        .await
    }

    /// Waits until the circle with this member set is announced; returns its id.
    pub async fn wait_for_circle_with(&mut self, members: &[String]) -> Result<u64> {
        let mut want: Vec<&str> = members.iter().map(String::as_str).collect();
        want.sort_unstable();
        self.wait_for("a circle with these members", |msg| match msg {
            ServerMessage::CircleChanged { circle } => {
                let mut have: Vec<&str> = circle.members.iter().map(String::as_str).collect();
                have.sort_unstable();
                (have == want).then_some(circle.id)
            }
            _ => None,
        })
        .await
    }

    /// Reads until the server closes the connection; returns the close frame. Messages
    /// before it are skipped.
    pub async fn wait_closed(&mut self) -> Result<Closed> {
        let until = tokio::time::Instant::now() + DEADLINE;
        loop {
            let next = tokio::time::timeout_at(until, self.socket.next())
                .await
                .context("waiting for a close")?;
            match next {
                None => {
                    return Ok(Closed {
                        code: None,
                        reason: String::new(),
                    });
                }
                Some(Ok(Message::Close(frame))) => return Ok(closed(frame)),
                Some(Ok(_)) => continue,
                // A reset after the close frame, or a refused write: closed all the same.
                Some(Err(_)) => {
                    return Ok(Closed {
                        code: None,
                        reason: String::new(),
                    });
                }
            }
        }
    }

    /// Sends a WebSocket ping and waits for the pong with the same payload; messages in
    /// between are skipped.
    pub async fn ping(&mut self, payload: &[u8]) -> Result<()> {
        self.socket
            .send(Message::Ping(payload.to_vec().into()))
            .await?;
        let until = tokio::time::Instant::now() + DEADLINE;
        loop {
            let frame = tokio::time::timeout_at(until, self.socket.next())
                .await
                .context("waiting for a pong")?
                .ok_or_else(|| anyhow!("the connection ended"))??;
            if let Message::Pong(got) = frame {
                if got.as_ref() == payload {
                    return Ok(());
                }
            }
        }
    }

    /// Closes the connection from the client side.
    pub async fn close(mut self) -> Result<()> {
        self.socket.close(None).await.context("closing")
    }
}

fn closed(frame: Option<CloseFrame>) -> Closed {
    match frame {
        Some(frame) => Closed {
            code: Some(frame.code.into()),
            reason: frame.reason.to_string(),
        },
        None => Closed {
            code: None,
            reason: String::new(),
        },
    }
}

/// The close code a raw WebSocket receives within `within`, reading past anything else;
/// `None` if it ends without one, errs, or says nothing in time.
pub async fn close_code_within<S>(socket: &mut WebSocketStream<S>, within: Duration) -> Option<u16>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    tokio::time::timeout(within, async {
        while let Some(frame) = socket.next().await {
            match frame {
                Ok(Message::Close(frame)) => return frame.map(|f| u16::from(f.code)),
                Ok(_) => {}
                Err(_) => return None,
            }
        }
        None
    })
    .await
    .ok()
    .flatten()
}

/// Waits (up to `within`) until the room `lobby` at `addr` shows the participant called
/// `name` as reconnecting (its connection let go) or no longer there, as a newcomer's
/// welcome shows it; each look is a short visit by an observer who leaves again.
pub async fn stuck_is_let_go(addr: SocketAddr, name: &str, within: Duration) -> Result<()> {
    let until = tokio::time::Instant::now() + within;
    loop {
        let observer = TestClient::join_at(addr, "lobby", "Observer", None).await?;
        let let_go = match &observer.welcome {
            Some(ServerMessage::Welcome { participants, .. }) => participants
                .iter()
                .filter(|p| p.name == name)
                .all(|p| p.reconnecting),
            _ => false,
        };
        observer.close().await?;
        if let_go {
            return Ok(());
        }
        if tokio::time::Instant::now() > until {
            bail!("{name} was still served after {within:?}");
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Two clients, Anna and Ben, standing together in a fresh circle at (525, 500):
/// returns (a, b, circle id).
pub async fn pair(server: &TestServer) -> Result<(TestClient, TestClient, u64)> {
    let (mut a, mut b) = walk_up(server).await?;
    let members = [a.id.clone(), b.id.clone()];
    let circle = a.wait_for_circle_with(&members).await?;
    assert_eq!(b.wait_for_circle_with(&members).await?, circle);
    Ok((a, b, circle))
}

/// Anna stands at (500, 500) and Ben walks up to her (550, 500), where they form a circle;
/// returns (a, b) before reading anything that came of it (`connect`, then the circle).
pub async fn walk_up(server: &TestServer) -> Result<(TestClient, TestClient)> {
    let mut a = TestClient::join(server, "Anna").await?;
    let mut b = TestClient::join(server, "Ben").await?;
    a.move_to(500.0, 500.0).await?;
    // Wait until Anna's move is applied (it is in a tick), so that Ben walks up to her.
    let a_id = a.id.clone();
    b.wait_for("Anna at 500,500", |m| match m {
        ServerMessage::Tick { positions, .. } => positions
            .iter()
            .any(|(id, x, _)| *id == a_id && *x == 500.0)
            .then_some(()),
        _ => None,
    })
    .await?;
    b.move_to(550.0, 500.0).await?;
    Ok((a, b))
}
