//! `sfu --simulcast`: the publisher sends its camera in three layers, as the client does
//! through the SFU (`l`, `m`, `h`: 320 × 180, 640 × 360 and 1280 × 720), and each listener
//! tells the server the size at which it shows the camera (`sfu_view`): a third small
//! (the low layer fills it), a third middle-sized, a third none (the top layer). The
//! payloads are VP8 as far as the SFU reads them: a payload descriptor, and a keyframe's
//! header with the picture's size, so that the server switches layers on keyframes and
//! each listener can tell which layer it receives from the keyframes' size.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use webrtc::media_stream::track_local::TrackLocal;
use webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP;

use crate::webrtc_peer::{LAYER_RIDS, LayerNames, VP8_PT, layer_ssrc};

/// A layer's picture size and its share of the top layer's bit rate.
pub(super) const LAYERS: [(u16, u16, f64); 3] =
    [(320, 180, 0.1), (640, 360, 0.33), (1280, 720, 1.0)];

/// Frames a second of every layer.
const FPS: u32 = 30;

/// Most payload bytes in one packet.
const MTU_PAYLOAD: usize = 1150;

/// A keyframe on every layer this often, besides those asked for.
const KEYFRAME_EVERY: Duration = Duration::from_secs(4);

/// The view a listener tells, by its number: small, middle-sized, or none (which calls
/// for the top layer).
pub(super) fn view_of(listener: usize) -> Option<(u32, u32)> {
    match listener % 3 {
        0 => Some((320, 180)),
        1 => Some((640, 360)),
        _ => None,
    }
}

/// A VP8 packet's payload of `size` bytes: the start of a frame (a one-byte payload
/// descriptor, `S` set) if `start`, and a keyframe's header with its picture size if
/// `key`.
fn vp8(size: usize, start: bool, key: Option<(u16, u16)>) -> Bytes {
    let mut p = vec![0u8; size.max(11)];
    p[0] = if start { 0x10 } else { 0x00 };
    if start {
        match key {
            Some((w, h)) => {
                // Frame tag: keyframe (P = 0), shown; then the start code and the size.
                p[1] = 0x10;
                p[4..7].copy_from_slice(&[0x9d, 0x01, 0x2a]);
                p[7..9].copy_from_slice(&w.to_le_bytes());
                p[9..11].copy_from_slice(&h.to_le_bytes());
            }
            None => p[1] = 0x11,
        }
    }
    Bytes::from(p)
}

/// The picture size of a keyframe's first packet as [`vp8`] makes it (what the SFU
/// forwards unchanged), else `None`.
pub(super) fn keyframe_size(payload: &[u8]) -> Option<(u16, u16)> {
    match payload.get(..11)? {
        [0x10, tag, _, _, 0x9d, 0x01, 0x2a, w0, w1, h0, h1] if tag & 1 == 0 => Some((
            u16::from_le_bytes([*w0, *w1]) & 0x3fff,
            u16::from_le_bytes([*h0, *h1]) & 0x3fff,
        )),
        _ => None,
    }
}

/// What the layered publisher has sent, per layer.
#[derive(Debug, Default)]
pub(super) struct Sent {
    /// Packets of each layer.
    pub packets: [AtomicU64; 3],
    /// Payload bytes of each layer.
    pub bytes: [AtomicU64; 3],
}

/// Sends the camera's layers at `top_kbps` for the top one (the others at their share),
/// 30 frames a second each, until aborted: each frame in packets of at most
/// [`MTU_PAYLOAD`], the last one marked; a keyframe on every layer at the start, every
/// [`KEYFRAME_EVERY`] and when the SFU asked for one (`keyframe_requests` grew). Layers
/// above `top` (what the server last said, `sfu_layers`) are paused.
pub(super) async fn send_layers(
    video: Arc<TrackLocalStaticRTP>,
    names: LayerNames,
    top_kbps: u32,
    keyframe_requests: Arc<AtomicU64>,
    top: Arc<AtomicU8>,
    sent: Arc<Sent>,
) {
    let start = Instant::now();
    let mut frames = 0u64;
    let mut seq = [0u16; 3];
    let mut asked = keyframe_requests.load(Ordering::Relaxed);
    let mut last_key = [None::<Instant>; 3];
    let (mid, rid) = (
        Bytes::from(names.mid.clone()),
        LAYER_RIDS.map(|rid| Bytes::from_static(rid.as_bytes())),
    );
    loop {
        let due = (start.elapsed().as_secs_f64() * f64::from(FPS)) as u64;
        while frames < due {
            frames += 1;
            let now_asked = keyframe_requests.load(Ordering::Relaxed);
            let asked_now = now_asked != asked;
            asked = now_asked;
            let timestamp = (frames as u32).wrapping_mul(90_000 / FPS);
            for (i, &(w, h, share)) in LAYERS.iter().enumerate() {
                if i > usize::from(top.load(Ordering::Relaxed)) {
                    // Paused: started again with a keyframe.
                    last_key[i] = None;
                    continue;
                }
                let key = asked_now || last_key[i].is_none_or(|at| at.elapsed() >= KEYFRAME_EVERY);
                if key {
                    last_key[i] = Some(Instant::now());
                }
                let frame_bytes =
                    (f64::from(top_kbps) * share * 1000.0 / 8.0 / f64::from(FPS)) as usize;
                let count = frame_bytes.div_ceil(MTU_PAYLOAD).max(1);
                for k in 0..count {
                    seq[i] = seq[i].wrapping_add(1);
                    let size = (frame_bytes / count).max(11);
                    let mut packet = rtc::rtp::Packet {
                        header: rtc::rtp::header::Header {
                            version: 2,
                            marker: k + 1 == count,
                            payload_type: VP8_PT,
                            sequence_number: seq[i],
                            timestamp,
                            ssrc: layer_ssrc(i),
                            ..Default::default()
                        },
                        payload: vp8(size, k == 0, key.then_some((w, h))),
                    };
                    let named = packet
                        .header
                        .set_extension(names.mid_id, mid.clone())
                        .is_ok()
                        && packet
                            .header
                            .set_extension(names.rid_id, rid[i].clone())
                            .is_ok();
                    if named && video.write_rtp(packet).await.is_ok() {
                        sent.packets[i].fetch_add(1, Ordering::Relaxed);
                        sent.bytes[i].fetch_add(size as u64, Ordering::Relaxed);
                    }
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Counts, per listener, how many packets its tracks' sequence numbers say were sent to
/// it (the SFU numbers each receiver's stream without gaps across layer switches, so a
/// gap is a loss).
#[derive(Debug, Default)]
pub(super) struct Sequence {
    last: Option<u16>,
}

impl Sequence {
    /// A packet numbered `seq` arrived: how many more were sent than counted so far.
    pub(super) fn expected(&mut self, seq: u16) -> u64 {
        match self.last {
            None => {
                self.last = Some(seq);
                1
            }
            Some(last) => {
                let ahead = seq.wrapping_sub(last) as i16;
                if ahead > 0 {
                    self.last = Some(seq);
                    ahead as u64
                } else {
                    // Late or repeated: counted when it was due.
                    0
                }
            }
        }
    }
}

/// The picture size of the last keyframe a listener received (`None`: none yet).
pub(super) type LastKeyframe = Arc<std::sync::Mutex<Option<(u16, u16)>>>;

/// Tallies the layers listeners receive now, by the size of the last keyframe each got,
/// e.g. `[(Some((320, 180)), 100), …]` (`None`: no keyframe yet).
pub(super) fn tally(received: &[LastKeyframe]) -> Vec<(Option<(u16, u16)>, usize)> {
    let mut counts = std::collections::BTreeMap::new();
    for r in received {
        let size = r.lock().map(|s| *s).unwrap_or(None);
        *counts.entry(size).or_insert(0) += 1;
    }
    counts.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_keyframe_says_its_size_and_the_sfu_reads_the_same() {
        let key = vp8(400, true, Some((640, 360)));
        assert_eq!(keyframe_size(&key), Some((640, 360)));
        assert_eq!(keyframe_size(&vp8(400, true, None)), None);
        assert_eq!(keyframe_size(&vp8(400, false, None)), None);
    }

    #[test]
    fn gaps_in_the_numbering_are_losses_and_late_packets_are_not_counted_twice() {
        let mut s = Sequence::default();
        assert_eq!(s.expected(65_534), 1);
        assert_eq!(s.expected(65_535), 1);
        assert_eq!(s.expected(2), 3, "0 and 1 lost, across the wrap");
        assert_eq!(s.expected(1), 0, "late");
        assert_eq!(s.expected(2), 0, "repeated");
    }
}
