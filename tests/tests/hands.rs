//! Raised hands and reactions: shown to everyone; only the known reactions.

use anyhow::Result;
use hallway_proto::{ClientMessage, ErrorCode, ServerMessage};
use hallway_tests::{TestClient, TestServer};

#[tokio::test]
async fn hands_and_reactions_reach_everyone() -> Result<()> {
    let server = TestServer::start().await?;
    let mut a = TestClient::join(&server, "Anna").await?;
    let mut b = TestClient::join(&server, "Ben").await?;
    a.send(&ClientMessage::Hand { raised: true }).await?;
    let a_id = a.id.clone();
    b.wait_for("Anna's hand", |m| {
        matches!(m, ServerMessage::Hand { id, raised: true, at: Some(_) } if *id == a_id)
            .then_some(())
    })
    .await?;
    // A late joiner sees the raised hand in the snapshot.
    let late = TestClient::join(&server, "Late").await?;
    let Some(ServerMessage::Welcome { participants, .. }) = &late.welcome else {
        panic!("no welcome")
    };
    assert!(
        participants
            .iter()
            .find(|p| p.id == a.id)
            .is_some_and(|p| p.hand)
    );

    a.send(&ClientMessage::React {
        reaction: "applause".into(),
    })
    .await?;
    let reaction = b
        .wait_for("a reaction", |m| match m {
            ServerMessage::Reaction { id, reaction } if *id == a_id => Some(reaction.clone()),
            _ => None,
        })
        .await?;
    assert_eq!(reaction, "applause");
    a.send(&ClientMessage::React {
        reaction: "<script>".into(),
    })
    .await?;
    assert_eq!(a.expect_error().await?.0, ErrorCode::UnknownReaction);
    a.send(&ClientMessage::Hand { raised: false }).await?;
    b.wait_for("hand down", |m| {
        matches!(m, ServerMessage::Hand { id, raised: false, at: None } if *id == a_id)
            .then_some(())
    })
    .await?;
    Ok(())
}
