//! Helpers of the tests of what each page is sent (`view`): telling the server what a
//! page shows, a room chat message as a barrier for "at once", and the circles a message
//! tells of. Used by `sight.rs` and `cluster_sight.rs`.

use std::collections::BTreeSet;

use anyhow::Result;
use hallway_proto::{CircleInfo, ClientMessage, ServerMessage};

use crate::TestClient;

/// Tells the server what `client`'s page shows.
pub async fn view(client: &mut TestClient, x: f64, y: f64, width: f64, height: f64) -> Result<()> {
    client
        .send(&ClientMessage::View {
            x,
            y,
            width,
            height,
        })
        .await
}

/// Sends a room chat message: everything queued for anyone before it reaches them first.
pub async fn barrier(from: &mut TestClient, text: &str) -> Result<()> {
    from.send(&ClientMessage::Chat {
        to: "room".into(),
        text: text.into(),
    })
    .await
}

/// Reads until the barrier `text`, handing every message before it to `each`.
pub async fn until_barrier(
    client: &mut TestClient,
    text: &str,
    mut each: impl FnMut(&ServerMessage),
) -> Result<()> {
    client
        .wait_for(&format!("the barrier {text:?}"), |m| match m {
            ServerMessage::Chat { message } if message.text == text => Some(()),
            other => {
                each(other);
                None
            }
        })
        .await
}

/// The circles a message tells of as they are now: a `circle_changed`, or the circles out
/// of sight a round carries.
pub fn circles_in(m: &ServerMessage) -> &[CircleInfo] {
    match m {
        ServerMessage::CircleChanged { circle } => std::slice::from_ref(circle),
        ServerMessage::Tick { circles, .. } => circles,
        _ => &[],
    }
}

/// Waits until `client` sees a circle of exactly `members`; returns its id.
pub async fn sees_circle(client: &mut TestClient, members: &[&str]) -> Result<u64> {
    let want: BTreeSet<&str> = members.iter().copied().collect();
    client
        .wait_for("the circle", |m| {
            circles_in(m)
                .iter()
                .find(|circle| {
                    circle
                        .members
                        .iter()
                        .map(String::as_str)
                        .collect::<BTreeSet<_>>()
                        == want
                })
                .map(|circle| circle.id)
        })
        .await
}
