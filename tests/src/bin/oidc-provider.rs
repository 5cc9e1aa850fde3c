//! The test OpenID Connect provider (glewlwyd behind the harness's proxy, see
//! `hallway_tests::glewlwyd`) for the browser tests, which run in Node: prints
//! `{"issuer": …}` on a line, reads the redirect URI to register on a line from standard
//! input, prints `{"ready": true}`, and runs until its standard input closes.

use std::io::Read;

use anyhow::{Context, Result};
use hallway_tests::glewlwyd::Glewlwyd;

#[tokio::main]
async fn main() -> Result<()> {
    let provider = Glewlwyd::start().await?;
    println!("{}", serde_json::json!({ "issuer": provider.issuer() }));
    let redirect_uri = tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line).map(|_| line)
    })
    .await?
    .context("reading the redirect URI")?;
    provider.add_client(redirect_uri.trim()).await?;
    println!("{}", serde_json::json!({ "ready": true }));
    // Until the test closes standard input (or ends, which closes it).
    tokio::task::spawn_blocking(|| std::io::stdin().read_to_end(&mut Vec::new())).await??;
    Ok(())
}
