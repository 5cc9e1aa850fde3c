//! The first message of a connection, built as a test needs it: [`Hello`] with the fields
//! a test sets, and the [`TestClient`] methods that send one.

use anyhow::Result;
use hallway_proto::{ClientMessage, PROTOCOL_VERSION};

use crate::{TestClient, TestServer};

/// A `hello` for the current protocol version; fields not set are left out.
#[derive(Debug, Clone, Default)]
pub struct Hello {
    room: String,
    name: String,
    profile: Option<String>,
    token: Option<String>,
    passcode: Option<String>,
    resume: Option<String>,
}

impl Hello {
    /// A hello to `room` under `name`.
    pub fn new(room: &str, name: &str) -> Hello {
        Hello {
            room: room.into(),
            name: name.into(),
            ..Hello::default()
        }
    }

    /// With a profile line.
    pub fn profile(mut self, line: &str) -> Hello {
        self.profile = Some(line.into());
        self
    }

    /// With a signed link's token.
    pub fn token(mut self, token: &str) -> Hello {
        self.token = Some(token.into());
        self
    }

    /// With a passcode, if given.
    pub fn passcode(mut self, passcode: Option<&str>) -> Hello {
        self.passcode = passcode.map(Into::into);
        self
    }

    /// With a resume token.
    pub fn resume(mut self, token: &str) -> Hello {
        self.resume = Some(token.into());
        self
    }

    /// The message.
    pub fn message(&self) -> ClientMessage {
        ClientMessage::Hello {
            version: PROTOCOL_VERSION,
            room: self.room.clone(),
            name: self.name.clone(),
            profile: self.profile.clone(),
            token: self.token.clone(),
            passcode: self.passcode.clone(),
            resume: self.resume.clone(),
        }
    }
}

impl TestClient {
    /// Connects and says `hello`; fails unless welcomed.
    pub async fn join_with(server: &TestServer, hello: &Hello) -> Result<TestClient> {
        let mut client = TestClient::connect(server).await?;
        client.send(&hello.message()).await?;
        client.welcomed().await?;
        Ok(client)
    }

    /// Sends `hello` for the current protocol version.
    pub async fn hello(&mut self, room: &str, name: &str) -> Result<()> {
        self.send(&Hello::new(room, name).message()).await
    }

    /// Sends `hello` with a signed link's token.
    pub async fn hello_with_token(&mut self, room: &str, name: &str, token: &str) -> Result<()> {
        self.send(&Hello::new(room, name).token(token).message())
            .await
    }

    /// Sends `hello` with a passcode.
    pub async fn hello_with_passcode(
        &mut self,
        room: &str,
        name: &str,
        passcode: &str,
    ) -> Result<()> {
        let hello = Hello::new(room, name).passcode(Some(passcode));
        self.send(&hello.message()).await
    }

    /// Sends `hello` with a resume token (and a passcode, as a page sends its field).
    pub async fn hello_with_resume(
        &mut self,
        room: &str,
        name: &str,
        resume: &str,
        passcode: Option<&str>,
    ) -> Result<()> {
        let hello = Hello::new(room, name).resume(resume).passcode(passcode);
        self.send(&hello.message()).await
    }
}
