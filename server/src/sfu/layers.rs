//! Simulcast: a publisher sends its camera in up to three layers (RTP streams named by
//! their `rid`: `l`, `m`, `h`, lowest first) and the SFU forwards one of them to each
//! receiver. This module holds the per-packet parts:
//!
//! - [`layer_of_rid`]: which layer a `rid` names;
//! - [`keyframe_start`]: whether a packet starts a keyframe (a receiver switches layers
//!   only there, since the new layer cannot be decoded from the old one's frames);
//! - [`LayerStats`]: what the publisher sends of each layer (its bit rate, whether it is
//!   still sent, its picture size), written by the publisher's task and read by receivers';
//! - [`Choice`]: one receiver's layer for one track, set by the receiver's task and obeyed
//!   on the publisher's, packet by packet, without a lock;
//! - [`Rewriter`]: the receiver's sequence numbers and timestamps stay continuous across
//!   layer switches (each layer is its own RTP stream with its own numbering).
//!
//! Which layer a receiver should get is decided in [`super::allocation`].

use std::sync::atomic::{AtomicU8, AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rtc::rtp::header::Header;

/// A simulcast layer: 0 is the lowest resolution.
pub(crate) type Layer = u8;

/// Layers a track may have.
pub(crate) const MAX_LAYERS: usize = 3;

/// No layer (a receiver that has not received any yet).
pub(crate) const NO_LAYER: Layer = u8::MAX;

/// A layer not seen for this long is taken as no longer sent (a publisher drops its top
/// layers when its own link or CPU cannot keep up).
const ACTIVE_WITHIN: Duration = Duration::from_millis(1500);

/// The layer a `rid` names. Browsers' own names for three layers are accepted too.
pub(crate) fn layer_of_rid(rid: &str) -> Option<Layer> {
    match rid {
        "l" | "q" | "0" | "low" => Some(0),
        "m" | "1" | "mid" => Some(1),
        "h" | "f" | "2" | "high" => Some(2),
        _ => None,
    }
}

/// A keyframe's first packet, with the picture's size when the codec's payload says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Keyframe {
    /// Width and height in pixels (VP8 only).
    pub size: Option<(u16, u16)>,
}

/// Whether `payload` (of a packet in codec `mime_type`) starts a keyframe. A codec whose
/// payload is not understood has none, so its layered tracks would never be forwarded:
/// the SFU negotiates only codecs understood here.
pub(crate) fn keyframe_start(mime_type: &str, payload: &[u8]) -> Option<Keyframe> {
    let codec = mime_type.rsplit('/').next().unwrap_or(mime_type);
    if codec.eq_ignore_ascii_case("vp8") {
        vp8(payload)
    } else if codec.eq_ignore_ascii_case("h264") {
        h264(payload).then_some(Keyframe { size: None })
    } else if codec.eq_ignore_ascii_case("vp9") {
        // I P L F B E V Z: a frame's first packet (B) not predicted from another (P = 0).
        let first = *payload.first()?;
        (first & 0x40 == 0 && first & 0x08 != 0).then_some(Keyframe { size: None })
    } else if codec.eq_ignore_ascii_case("av1") {
        // Z Y W W N - - -: the first packet of a new coded video sequence (N).
        let first = *payload.first()?;
        (first & 0x80 == 0 && first & 0x08 != 0).then_some(Keyframe { size: None })
    } else {
        None
    }
}

/// VP8 (RFC 7741): the payload descriptor, then the first partition of a keyframe starts
/// with its frame tag (bit 0 clear), a start code and the picture's size.
fn vp8(payload: &[u8]) -> Option<Keyframe> {
    let first = *payload.first()?;
    let start_of_partition = first & 0x10 != 0;
    let partition = first & 0x07;
    if !start_of_partition || partition != 0 {
        return None;
    }
    let mut at = 1;
    if first & 0x80 != 0 {
        let extension = *payload.get(1)?;
        at = 2;
        if extension & 0x80 != 0 {
            // PictureID: one byte, or two when its first bit (M) is set.
            at += if *payload.get(at)? & 0x80 != 0 { 2 } else { 1 };
        }
        if extension & 0x40 != 0 {
            at += 1; // TL0PICIDX
        }
        if extension & 0x30 != 0 {
            at += 1; // TID / KEYIDX
        }
    }
    let frame = payload.get(at..)?;
    if frame.first()? & 0x01 != 0 {
        return None;
    }
    let size = match frame.get(3..10) {
        Some([0x9d, 0x01, 0x2a, w0, w1, h0, h1]) => Some((
            u16::from_le_bytes([*w0, *w1]) & 0x3fff,
            u16::from_le_bytes([*h0, *h1]) & 0x3fff,
        )),
        _ => None,
    };
    Some(Keyframe { size })
}

/// H264 (RFC 6184): an IDR picture or the parameter sets that precede one, alone, in an
/// aggregation packet (STAP-A) or as the first fragment of a fragmented unit (FU-A).
fn h264(payload: &[u8]) -> bool {
    let Some(first) = payload.first() else {
        return false;
    };
    let key = |nal: u8| matches!(nal & 0x1f, 5 | 7);
    match first & 0x1f {
        24 => {
            let mut at = 1;
            while let Some(len) = payload.get(at..at + 2) {
                let len = usize::from(u16::from_be_bytes([len[0], len[1]]));
                match payload.get(at + 2) {
                    Some(&nal) if key(nal) => return true,
                    Some(_) => at += 2 + len,
                    None => return false,
                }
            }
            false
        }
        28 => payload
            .get(1)
            .is_some_and(|&fu| fu & 0x80 != 0 && fu & 0x1f == 5),
        _ => key(*first),
    }
}

/// What a publisher sends of each layer of one track. Written by the publisher's task
/// for every packet, read by receivers' tasks now and then.
#[derive(Debug)]
pub(crate) struct LayerStats {
    epoch: Instant,
    /// Payload bytes received per layer, ever.
    bytes: [AtomicU64; MAX_LAYERS],
    /// When the layer's last packet came, in milliseconds since `epoch` (0: never).
    last_ms: [AtomicU64; MAX_LAYERS],
    /// The layer's picture size from its last keyframe (width << 16 | height; 0: unknown).
    size: [AtomicU32; MAX_LAYERS],
}

/// One layer as [`LayerStats::snapshot`] saw it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct LayerSnapshot {
    /// Payload bytes received, ever.
    pub bytes: u64,
    /// Whether it is still being sent.
    pub active: bool,
    /// Its width and height, if known.
    pub size: Option<(u16, u16)>,
}

impl Default for LayerStats {
    fn default() -> Self {
        LayerStats {
            epoch: Instant::now(),
            bytes: Default::default(),
            last_ms: Default::default(),
            size: Default::default(),
        }
    }
}

impl LayerStats {
    /// A packet of `layer` with `len` payload bytes arrived.
    pub(crate) fn record(
        &self,
        layer: Layer,
        len: usize,
        keyframe: Option<Keyframe>,
        now: Instant,
    ) {
        let i = usize::from(layer);
        if i >= MAX_LAYERS {
            return;
        }
        self.bytes[i].fetch_add(len as u64, Ordering::Relaxed);
        let ms = now.saturating_duration_since(self.epoch).as_millis() as u64 + 1;
        self.last_ms[i].store(ms, Ordering::Relaxed);
        if let Some(Keyframe { size: Some((w, h)) }) = keyframe {
            self.size[i].store(u32::from(w) << 16 | u32::from(h), Ordering::Relaxed);
        }
    }

    /// Every layer as it is now.
    pub(crate) fn snapshot(&self, now: Instant) -> [LayerSnapshot; MAX_LAYERS] {
        let now_ms = now.saturating_duration_since(self.epoch).as_millis() as u64 + 1;
        std::array::from_fn(|i| {
            let last = self.last_ms[i].load(Ordering::Relaxed);
            let size = self.size[i].load(Ordering::Relaxed);
            LayerSnapshot {
                bytes: self.bytes[i].load(Ordering::Relaxed),
                active: last != 0
                    && now_ms.saturating_sub(last) <= ACTIVE_WITHIN.as_millis() as u64,
                size: (size != 0).then_some(((size >> 16) as u16, size as u16)),
            }
        })
    }
}

/// One receiver's layer of one track. The receiver's task sets the target; the
/// publisher's task, packet by packet, forwards the current layer and moves to the target
/// at its next keyframe.
#[derive(Debug)]
pub(crate) struct Choice {
    target: AtomicU8,
    current: AtomicU8,
    /// The layer the receiver calls for (what its view needs and its estimate allows:
    /// [`super::upswitch::UpSwitches::call`]; [`NO_LAYER`] until its first allocation): the
    /// publisher's task pauses the layers no receiver calls for.
    called_for: AtomicU8,
}

impl Choice {
    /// A track without layers (audio, or video sent once): layer 0 from the start.
    pub(crate) fn single() -> Choice {
        Choice {
            target: AtomicU8::new(0),
            current: AtomicU8::new(0),
            called_for: AtomicU8::new(NO_LAYER),
        }
    }

    /// A simulcast track: nothing until the first keyframe of `target`.
    pub(crate) fn layered(target: Layer) -> Choice {
        Choice {
            target: AtomicU8::new(target),
            current: AtomicU8::new(NO_LAYER),
            called_for: AtomicU8::new(NO_LAYER),
        }
    }

    /// The layer wanted.
    pub(crate) fn target(&self) -> Layer {
        self.target.load(Ordering::Relaxed)
    }

    /// The layer forwarded now.
    pub(crate) fn current(&self) -> Layer {
        self.current.load(Ordering::Relaxed)
    }

    /// The layer the receiver calls for ([`NO_LAYER`]: not known yet).
    pub(crate) fn called_for(&self) -> Layer {
        self.called_for.load(Ordering::Relaxed)
    }

    /// Says which layer the receiver calls for.
    pub(crate) fn set_called_for(&self, layer: Layer) {
        self.called_for.store(layer, Ordering::Relaxed);
    }

    /// Asks for `layer` from its next keyframe on.
    pub(crate) fn set_target(&self, layer: Layer) {
        self.target.store(layer, Ordering::Relaxed);
    }

    /// Whether a packet of `layer` goes to this receiver (called for every packet, by the
    /// publisher's task only, which is why load-then-store is enough).
    pub(crate) fn admit(&self, layer: Layer, keyframe: bool) -> bool {
        let current = self.current.load(Ordering::Relaxed);
        if layer == current {
            return true;
        }
        if keyframe && layer == self.target.load(Ordering::Relaxed) {
            self.current.store(layer, Ordering::Relaxed);
            return true;
        }
        false
    }
}

/// Keeps what a receiver gets of one track one continuous RTP stream while the layer it
/// comes from changes: sequence numbers go on by one, and timestamps by the time that
/// passed, at each switch. A packet of the new layer older than the one switched at
/// (reordered, or retransmitted) is dropped: its number would be one the old layer used.
#[derive(Debug)]
pub(crate) struct Rewriter {
    clock_rate: u32,
    layer: Layer,
    seq_delta: u16,
    ts_delta: u32,
    last: Option<(u16, u32, Instant)>,
    /// The original sequence number of the current layer's first packet.
    since: Option<u16>,
}

/// Packets after a switch within which older ones of the new layer are looked for.
const SWITCH_WINDOW: u16 = 1024;

/// Whether sequence number `a` comes before `b` (modulo 2^16).
fn before(a: u16, b: u16) -> bool {
    let ahead = b.wrapping_sub(a);
    ahead != 0 && ahead < 0x8000
}

impl Rewriter {
    /// For a track whose codec's clock runs at `clock_rate` Hz.
    pub(crate) fn new(clock_rate: u32) -> Rewriter {
        Rewriter {
            clock_rate: clock_rate.max(1),
            layer: NO_LAYER,
            seq_delta: 0,
            ts_delta: 0,
            last: None,
            since: None,
        }
    }

    /// Rewrites a packet of `layer` in place; `false`: the packet is to be dropped.
    pub(crate) fn rewrite(&mut self, layer: Layer, header: &mut Header, now: Instant) -> bool {
        if layer == self.layer {
            if let Some(since) = self.since {
                if before(header.sequence_number, since) {
                    return false;
                }
                // Well past the switch nothing from before it comes any more (and the
                // comparison would wrap around).
                if header.sequence_number.wrapping_sub(since) > SWITCH_WINDOW {
                    self.since = None;
                }
            }
        } else {
            self.since = Some(header.sequence_number);
            if let Some((seq, ts, at)) = self.last {
                let elapsed = now.saturating_duration_since(at);
                let ticks = (elapsed.as_micros() as u64 * u64::from(self.clock_rate) / 1_000_000)
                    .max(1) as u32;
                self.seq_delta = seq.wrapping_add(1).wrapping_sub(header.sequence_number);
                self.ts_delta = ts.wrapping_add(ticks).wrapping_sub(header.timestamp);
            }
            self.layer = layer;
        }
        header.sequence_number = header.sequence_number.wrapping_add(self.seq_delta);
        header.timestamp = header.timestamp.wrapping_add(self.ts_delta);
        // Only a packet newer than the last one moves the reference on (a late one keeps
        // its place behind it).
        if self
            .last
            .is_none_or(|(seq, _, _)| before(seq, header.sequence_number))
        {
            self.last = Some((header.sequence_number, header.timestamp, now));
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(seq: u16, ts: u32) -> Header {
        Header {
            sequence_number: seq,
            timestamp: ts,
            ..Default::default()
        }
    }

    #[test]
    fn rids_name_layers_lowest_first() {
        assert_eq!(layer_of_rid("l"), Some(0));
        assert_eq!(layer_of_rid("m"), Some(1));
        assert_eq!(layer_of_rid("h"), Some(2));
        assert_eq!(layer_of_rid("x"), None);
    }

    /// A VP8 keyframe as Chromium sends it: descriptor with a two-byte PictureID, then the
    /// frame tag, start code and a 320×180 picture.
    #[test]
    fn a_vp8_keyframe_is_found_with_its_size() {
        let keyframe = [
            0x90, 0x80, 0x81, 0x23, // X S, I, PictureID (M set)
            0x50, 0x2a, 0x01, // frame tag (key), size of the first partition
            0x9d, 0x01, 0x2a, 0x40, 0x01, 0xb4, 0x00, // start code, 320 × 180
        ];
        assert_eq!(
            keyframe_start("video/VP8", &keyframe),
            Some(Keyframe {
                size: Some((320, 180))
            })
        );
        let mut delta = keyframe;
        delta[4] |= 0x01;
        assert_eq!(keyframe_start("video/VP8", &delta), None);
        let mut middle = keyframe;
        middle[0] &= !0x10;
        assert_eq!(
            keyframe_start("video/VP8", &middle),
            None,
            "not a partition's start"
        );
        assert_eq!(keyframe_start("video/VP8", &[]), None);
        assert_eq!(keyframe_start("video/VP8", &[0x90]), None);
    }

    #[test]
    fn h264_keyframes_alone_aggregated_and_fragmented() {
        assert!(keyframe_start("video/H264", &[0x65, 0]).is_some(), "IDR");
        assert!(keyframe_start("video/H264", &[0x67, 0]).is_some(), "SPS");
        assert!(
            keyframe_start("video/H264", &[0x41, 0]).is_none(),
            "P slice"
        );
        // STAP-A: an SEI (6) of two bytes, then an SPS.
        assert!(keyframe_start("video/H264", &[0x78, 0, 2, 0x06, 0, 0, 1, 0x67]).is_some());
        assert!(keyframe_start("video/H264", &[0x78, 0, 2, 0x06, 0, 0, 1, 0x41]).is_none());
        // FU-A: the first fragment of an IDR, and a later one.
        assert!(keyframe_start("video/H264", &[0x7c, 0x85, 0]).is_some());
        assert!(keyframe_start("video/H264", &[0x7c, 0x05, 0]).is_none());
        assert!(keyframe_start("audio/opus", &[0x65]).is_none());
    }

    /// The publisher's task forwards the current layer and moves to the target at its
    /// first keyframe, not before.
    #[test]
    fn a_receiver_switches_layers_at_a_keyframe() {
        let choice = Choice::layered(0);
        assert!(!choice.admit(0, false), "nothing before a keyframe");
        assert!(!choice.admit(2, true), "another layer's keyframe");
        assert!(choice.admit(0, true));
        assert!(choice.admit(0, false));
        choice.set_target(2);
        assert!(
            choice.admit(0, false),
            "the old layer until the new one's keyframe"
        );
        assert!(!choice.admit(2, false));
        assert!(choice.admit(2, true));
        assert!(!choice.admit(0, false));
        assert_eq!(choice.current(), 2);
        let single = Choice::single();
        assert!(single.admit(0, false));
    }

    /// Two layers with their own numbering become one stream: the first packet after the
    /// switch follows the last one before it.
    #[test]
    fn sequence_numbers_and_timestamps_go_on_across_a_switch() {
        let start = Instant::now();
        let mut rewriter = Rewriter::new(90_000);
        let mut h = header(100, 5_000);
        rewriter.rewrite(0, &mut h, start);
        assert_eq!((h.sequence_number, h.timestamp), (100, 5_000));
        let mut h = header(101, 8_000);
        rewriter.rewrite(0, &mut h, start + Duration::from_millis(33));
        assert_eq!((h.sequence_number, h.timestamp), (101, 8_000));
        // Layer 2 numbers from 60000 with a timestamp far away; 40 ms later.
        let mut h = header(60_000, 1_000_000);
        rewriter.rewrite(2, &mut h, start + Duration::from_millis(73));
        assert_eq!((h.sequence_number, h.timestamp), (102, 8_000 + 3_600));
        let mut h = header(60_001, 1_003_000);
        rewriter.rewrite(2, &mut h, start + Duration::from_millis(106));
        assert_eq!((h.sequence_number, h.timestamp), (103, 14_600));
        // A late packet of this layer from before the switch would reuse a number the old
        // layer had: it is dropped, and does not move the reference back.
        let mut h = header(59_999, 997_000);
        assert!(!rewriter.rewrite(2, &mut h, start + Duration::from_millis(107)));
        let mut h = header(60_002, 1_006_000);
        assert!(rewriter.rewrite(2, &mut h, start + Duration::from_millis(140)));
        assert_eq!(h.sequence_number, 104);
        // A late one after the switch keeps its place.
        let mut h = header(60_001, 1_003_000);
        assert!(rewriter.rewrite(2, &mut h, start + Duration::from_millis(141)));
        assert_eq!(h.sequence_number, 103);
        let mut h = header(60_003, 1_009_000);
        assert!(rewriter.rewrite(2, &mut h, start + Duration::from_millis(173)));
        assert_eq!(h.sequence_number, 105);
        // Long after the switch the numbers wrap around, and packets still go through.
        for n in 0..70_000u32 {
            let seq = 60_004u16.wrapping_add(n as u16);
            let mut h = header(seq, 1_012_000 + n * 3000);
            assert!(rewriter.rewrite(2, &mut h, start), "packet {n} dropped");
        }
    }

    #[test]
    fn a_layer_not_seen_lately_is_not_active() {
        let stats = LayerStats::default();
        let now = Instant::now();
        stats.record(0, 1000, None, now);
        stats.record(
            2,
            500,
            Some(Keyframe {
                size: Some((640, 360)),
            }),
            now,
        );
        let snap = stats.snapshot(now + Duration::from_millis(100));
        assert!(snap[0].active && snap[2].active && !snap[1].active);
        assert_eq!(snap[2].size, Some((640, 360)));
        assert_eq!(snap[0].bytes, 1000);
        let later = stats.snapshot(now + Duration::from_secs(3));
        assert!(!later[0].active);
    }
}
