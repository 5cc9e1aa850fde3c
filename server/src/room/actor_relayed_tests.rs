//! The actor with a session relayed from another node of a cluster: what the room tells
//! that node besides the session's own frames.

use std::sync::Arc;
use std::time::Duration;

use hallway_proto::ServerMessage;
use tokio::sync::mpsc;

use super::*;
use crate::room::model::RoomSettings;
use crate::transport::outbox::{Outgoing, relayed_outbox};
use crate::transport::{Down, Relayed};

/// Every snapshot the room queues for a relayed page is announced to the page's node
/// first (`Down::SnapshotAhead`, once per snapshot), so that the node can hold back the
/// news it would pass the page until the snapshot has gone by (see `cluster::sight`).
#[tokio::test(start_paused = true)]
async fn each_snapshot_for_a_relayed_page_is_announced_to_its_node_once_and_before_it() {
    let room = RoomHandle::spawn(
        Room::new(RoomSettings::new("test", "Test")).expect("room"),
        10,
    );
    let (down, mut node) = mpsc::channel(1024);
    let relayed = Relayed {
        node: Arc::from("node-b"),
        conn: 7,
        down,
    };
    let (link, mut outbox) = relayed_outbox(256, Some(relayed));
    let seat = room
        .join(
            DisplayName::parse("Rita Relayed").expect("name"),
            None,
            Role::Participant,
            None,
            link,
            None,
        )
        .await
        .expect("joins");
    for round in 1..=3 {
        room.missed(seat.id).await.expect("room runs");
        let mut snapshots = 0;
        for _ in 0..100 {
            while let Some(next) = outbox.recv_now() {
                let Outgoing::Frame(frame) = next else {
                    panic!("let go")
                };
                let message: ServerMessage =
                    serde_json::from_str(frame.as_str()).expect("valid message");
                snapshots += usize::from(matches!(message, ServerMessage::Snapshot { .. }));
            }
            if snapshots > 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(snapshots, 1, "round {round}: one snapshot");
        // The announcement is on the node's way by the time the snapshot can be taken.
        let mut announced = 0;
        while let Ok((conn, told)) = node.try_recv() {
            if told == Down::SnapshotAhead {
                assert_eq!(conn, 7, "for the page's connection");
                announced += 1;
            }
        }
        assert_eq!(announced, 1, "round {round}: announced once");
    }
}
