//! `gather` with an absurd coordinate is refused with `invalid_position`, like `move`,
//! through the real server.

use anyhow::Result;
use hallway_proto::{ClientMessage, ErrorCode};
use hallway_tests::{TestClient, TestServer};

#[tokio::test]
async fn gather_to_an_absurd_point_is_invalid_position() -> Result<()> {
    let server = TestServer::start().await?;
    let mut hanna = TestClient::join_host(&server, "lobby", "Hanna").await?;
    hanna
        .send(&ClientMessage::Gather {
            x: Some(1.0e30),
            y: Some(300.0),
            area: None,
        })
        .await?;
    assert_eq!(hanna.expect_error().await?.0, ErrorCode::InvalidPosition);
    server.stop().await
}
