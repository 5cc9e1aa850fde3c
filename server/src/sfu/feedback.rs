//! Which RTCP from participants reaches the SFU's own code: keyframe requests (PLI, FIR)
//! about tracks we forward, so that they can be passed on to the publisher, and the
//! bandwidth estimate that a receiver's transport-wide congestion control feedback gives
//! ([`SharedEstimate`]). Everything else (receiver reports, NACKs) is handled per hop by
//! the interceptors and stops there.

use std::collections::VecDeque;
use std::time::Instant;

use rtc::interceptor::{
    self as rc, Attribute, BandwidthEstimator, Interceptor, Packet, StreamInfo, TaggedPacket,
};
use rtc::rtcp::payload_feedbacks::full_intra_request::FullIntraRequest;
use rtc::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication;
use rtc::sansio::Protocol;
use rtc::shared::error::Error;

/// Slot of [`KeyframeRequests`]: after every built-in interceptor, nearest the application.
pub const SLOT: usize = 20_000;

/// Marks inbound keyframe requests for delivery to the application.
#[derive(Default)]
pub struct KeyframeRequests {
    read_queue: VecDeque<TaggedPacket>,
    write_queue: VecDeque<TaggedPacket>,
}

/// Whether a compound RTCP packet asks for a keyframe.
pub fn asks_for_keyframe(packets: &[Box<dyn rtc::rtcp::Packet>]) -> bool {
    packets.iter().any(|p| {
        p.as_any().downcast_ref::<PictureLossIndication>().is_some()
            || p.as_any().downcast_ref::<FullIntraRequest>().is_some()
    })
}

impl std::fmt::Debug for KeyframeRequests {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyframeRequests")
            .field("queued", &(self.read_queue.len() + self.write_queue.len()))
            .finish()
    }
}

impl Protocol<TaggedPacket, TaggedPacket, ()> for KeyframeRequests {
    type Rout = TaggedPacket;
    type Wout = TaggedPacket;
    type Eout = ();
    type Error = Error;
    type Time = Instant;

    fn handle_read(&mut self, mut msg: TaggedPacket) -> Result<(), Self::Error> {
        if let Packet::Rtcp(packets) = &msg.message.packet
            && asks_for_keyframe(packets)
        {
            msg.message.add(Attribute::DeliverToApplication);
        }
        self.read_queue.push_back(msg);
        Ok(())
    }

    fn poll_read(&mut self) -> Option<Self::Rout> {
        self.read_queue.pop_front()
    }

    fn handle_write(&mut self, msg: TaggedPacket) -> Result<(), Self::Error> {
        self.write_queue.push_back(msg);
        Ok(())
    }

    fn poll_write(&mut self) -> Option<Self::Wout> {
        self.write_queue.pop_front()
    }
}

impl Interceptor for KeyframeRequests {
    fn bind_local_stream(&mut self, _info: &StreamInfo) {}
    fn unbind_local_stream(&mut self, _info: &StreamInfo) {}
    fn bind_remote_stream(&mut self, _info: &StreamInfo) {}
    fn unbind_remote_stream(&mut self, _info: &StreamInfo) {}
}

/// Google Congestion Control fed by a receiver's transport-wide congestion control
/// feedback, its estimate shared with the connection's task (the interceptor that drives
/// it is out of the application's reach once the connection is built).
pub struct SharedEstimate {
    gcc: rc::Gcc,
    estimate: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

/// Where a new connection's estimate starts: enough for a few cameras in their top layer,
/// so that nobody starts in the low layer and waits for the estimate to climb.
const INITIAL_ESTIMATE: f64 = 3_000_000.0;
/// The lowest estimate: every camera's lowest layer and the audio of a large circle.
const MIN_ESTIMATE: f64 = 150_000.0;
/// The highest estimate worth having.
const MAX_ESTIMATE: f64 = 50_000_000.0;

impl std::fmt::Debug for SharedEstimate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedEstimate")
            .field("target", &self.gcc.target_bitrate())
            .finish()
    }
}

impl SharedEstimate {
    /// A new estimator, and where its estimate (bits per second; 0 until the first
    /// feedback) can be read.
    pub fn new() -> (SharedEstimate, std::sync::Arc<std::sync::atomic::AtomicU64>) {
        let estimate = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        (
            SharedEstimate {
                gcc: rc::Gcc::new(INITIAL_ESTIMATE, MIN_ESTIMATE, MAX_ESTIMATE),
                estimate: estimate.clone(),
            },
            estimate,
        )
    }

    fn publish(&self) {
        self.estimate.store(
            self.gcc.target_bitrate() as u64,
            std::sync::atomic::Ordering::Relaxed,
        );
    }
}

impl BandwidthEstimator for SharedEstimate {
    fn on_reports(&mut self, now: Instant, reports: &[rc::PacketReport]) {
        if reports.is_empty() {
            return;
        }
        self.gcc.on_reports(now, reports);
        self.publish();
    }

    fn target_bitrate(&self) -> f64 {
        self.gcc.target_bitrate()
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.gcc.handle_timeout(now);
    }

    fn poll_timeout(&self) -> Option<Instant> {
        self.gcc.poll_timeout()
    }

    fn stats(&self) -> rc::EstimatorStats {
        self.gcc.stats()
    }
}
