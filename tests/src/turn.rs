//! A TURN client with the credentials a welcome hands out (or a wrong password, for
//! tests of what the server does with bad ones).

use std::sync::Arc;

use anyhow::{Context, Result, bail};
use hallway_proto::ServerMessage;
use tokio::net::UdpSocket;

/// A listening TURN client for the first ICE server of `welcome`, with its credential or,
/// if given, `password` instead.
pub async fn client(
    welcome: Option<&ServerMessage>,
    password: Option<&str>,
) -> Result<turn::client::Client> {
    let Some(ServerMessage::Welcome { ice_servers, .. }) = welcome else {
        bail!("no welcome");
    };
    let server = ice_servers
        .first()
        .context("no ICE server in the welcome")?;
    let url = server.urls.first().context("an ICE server without a URL")?;
    let addr = url
        .trim_start_matches("turn:")
        .split('?')
        .next()
        .context("a TURN URL")?
        .to_owned();
    let conn = UdpSocket::bind("127.0.0.1:0").await?;
    let password = password
        .map(str::to_owned)
        .unwrap_or_else(|| server.credential.clone().unwrap_or_default());
    let turn = turn::client::Client::new(turn::client::ClientConfig {
        stun_serv_addr: addr.clone(),
        turn_serv_addr: addr,
        username: server.username.clone().unwrap_or_default(),
        password,
        realm: "hallway".into(),
        software: String::new(),
        rto_in_ms: 0,
        conn: Arc::new(conn),
        vnet: None,
    })
    .await?;
    turn.listen().await?;
    Ok(turn)
}
