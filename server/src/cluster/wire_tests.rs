//! Tests of the cluster's wire format (`wire.rs`).
use super::*;
use proptest::prelude::*;

impl Numbering {
    /// The upcoming place, counted as published.
    fn take(&mut self) -> Sequence {
        let at = self.upcoming();
        self.published();
        at
    }
}

#[test]
fn up_batches_round_trip() {
    let items = vec![
        (1, Up::Open),
        (1, Up::Text(Utf8Bytes::from_static(r#"{"type":"hello"}"#))),
        (2, Up::Closed(Some(4011))),
        (3, Up::Closed(None)),
        (4, Up::Dropped(4008)),
        (5, Up::End),
        (6, Up::Control),
        (7, Up::Binary),
        (8, Up::TooBig),
        (9, Up::Ack(64)),
        (10, Up::Missed),
    ];
    let at = Sequence {
        stream: 7,
        number: 41,
    };
    let bytes = encode_up("node-a", at, &items);
    assert_eq!(
        decode_up(Bytes::from(bytes)),
        Ok(Batch {
            node: "node-a".to_owned(),
            at,
            items
        })
    );
}

#[test]
fn a_frame_for_many_connections_is_carried_once() {
    let tick = Utf8Bytes::from(format!(
        r#"{{"type":"tick","positions":[{}]}}"#,
        "1".repeat(500)
    ));
    let items: Vec<(u64, Down)> = (0..100)
        .map(|conn| (conn, Down::Frames(vec![tick.clone()])))
        .chain([(7, Down::Close(1012))])
        .collect();
    let at = Numbering::new().take();
    let bytes = encode_down("owner", at, &items);
    assert!(bytes.len() < 600 + 100 * 20, "{} bytes", bytes.len());
    let decoded = decode_down(Bytes::from(bytes)).expect("decodes");
    assert_eq!((decoded.node.as_str(), decoded.at), ("owner", at));
    assert_eq!(decoded.items, items);
}

#[test]
fn views_a_ticks_movers_news_and_snapshots_ahead_round_trip() {
    let movers = Down::Movers(std::sync::Arc::new(Movers {
        room: "halle".into(),
        floor: (6000.0, 4000.0),
        movers: vec![(7, 512.5, 640.0), (u128::MAX, 0.0, 3999.0)],
    }));
    let items = vec![
        (
            3,
            Down::View {
                me: u128::from(u64::MAX),
                edges: [-300.0, 100.0, 1900.0, 1360.0],
                circles: vec![Utf8Bytes::from_static(r#"{"type":"circle_changed"}"#)],
            },
        ),
        (0, movers),
        (
            0,
            Down::News(std::sync::Arc::new(News {
                room: "halle".into(),
                frame: Utf8Bytes::from_static(r#"{"type":"circle_dissolved","id":4}"#),
                places: vec![Place {
                    centre: (100.0, 200.0),
                    radius: 90.5,
                    people: vec![7, 8, u128::MAX],
                }],
            })),
        ),
        (3, Down::SnapshotAhead),
        (3, Down::Frames(vec![Utf8Bytes::from_static("{}")])),
    ];
    let at = Numbering::new().take();
    let bytes = encode_down("owner", at, &items);
    let decoded = decode_down(Bytes::from(bytes.clone())).expect("decodes");
    assert_eq!(decoded.items, items);
    // Cut anywhere, it is an error, not a panic.
    for end in 0..bytes.len() {
        assert!(decode_down(Bytes::from(bytes[..end].to_vec())).is_err());
    }
}

#[test]
fn a_missing_batch_is_found_by_the_next_one() {
    let mut numbering = Numbering::new();
    let mut gaps = Gaps::new();
    let [a, b, c, d] = [(); 4].map(|()| numbering.take());
    // The receiver starts listening at the second batch: nothing is missed.
    assert!(!gaps.missed(&"node-a", b));
    assert!(!gaps.missed(&"node-a", c));
    // e without d: a gap, found once.
    let e = numbering.take();
    assert!(gaps.missed(&"node-a", e));
    let f = numbering.take();
    assert!(!gaps.missed(&"node-a", f));
    // One from behind (as a forged or repeated one would be) is no loss; the stream
    // goes on from there.
    assert!(!gaps.missed(&"node-a", a));
    assert!(!gaps.missed(&"node-a", b));
    let _ = d;
    // Each sender on its own; a sender that starts again starts a new stream.
    assert!(!gaps.missed(&"node-b", Numbering::new().take()));
    let mut again = Numbering::new();
    assert!(!gaps.missed(&"node-a", again.take()));
    assert!(!gaps.missed(&"node-a", again.take()));
    // A forgotten sender starts afresh wherever it is.
    gaps.forget(&"node-a");
    again.take();
    assert!(!gaps.missed(&"node-a", again.take()));
}

#[test]
fn bad_batches_are_errors_not_panics() {
    assert_eq!(
        decode_up(Bytes::from_static(&[1, 0])),
        Err(WireError::Truncated)
    );
    let at = Numbering::new().take();
    let mut bad = encode_up("n", at, &[(1, Up::Open)]);
    *bad.last_mut().expect("not empty") = 99;
    assert_eq!(decode_up(Bytes::from(bad)), Err(WireError::Malformed));
    let mut frames = encode_down(
        "n",
        at,
        &[(1, Down::Frames(vec![Utf8Bytes::from_static("x")]))],
    );
    let at = frames.len() - 4;
    frames[at] = 9; // an index past the frames
    assert_eq!(decode_down(Bytes::from(frames)), Err(WireError::Malformed));
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = decode_up(Bytes::from(bytes.clone()));
        let _ = decode_down(Bytes::from(bytes));
    }
}
