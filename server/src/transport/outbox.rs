//! A session's outgoing queue: bounded, never makes the room wait, and gives its memory
//! back once drained.
//!
//! tokio's bounded channel keeps its blocks (32 slots each) for the life of the channel:
//! about 2.5 KiB per connection after the first burst (a welcome and a few dozen join
//! announcements), which is a fifth of an idle connection's cost. This queue is a
//! `VecDeque` behind a mutex that is never held across an `.await`, shrunk to nothing
//! whenever the session empties it.
//!
//! A queue can also hold one *lead*: a frame that comes before everything queued and is
//! made only when the session takes it (a welcome: the room builds it, the session's task
//! encodes it, so that a room's task does not spend a join's largest message on JSON).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::Notify;
use tungstenite::protocol::frame::Utf8Bytes;

/// Slots a session's queue keeps free for events: a room skips ticks for a session whose
/// queue has no more room than this, so that circle changes and signals still fit when
/// positions pile up (and the SFU takes a queue this full for a stalled room).
pub(crate) const EVENT_RESERVE: usize = 32;

/// A queue's capacity left after a burst before it is released.
const KEEP_CAPACITY: usize = 16;

/// Creates a queue of at most `capacity` frames.
pub(crate) fn outbox(capacity: usize) -> (OutboxSender, OutboxReceiver) {
    relayed_outbox(capacity, None)
}

/// Creates a queue of at most `capacity` frames for a session whose client is connected
/// where `relayed` says (`None`: here).
pub(crate) fn relayed_outbox(
    capacity: usize,
    relayed: Option<super::Relayed>,
) -> (OutboxSender, OutboxReceiver) {
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            queue: VecDeque::new(),
            lead: None,
            kicked: None,
            closing: None,
            capacity,
            senders: 1,
            receiver_alive: true,
        }),
        ready: Notify::new(),
        relayed: relayed.map(Box::new),
    });
    (
        OutboxSender {
            shared: shared.clone(),
        },
        OutboxReceiver { shared },
    )
}

#[derive(Debug)]
struct Shared {
    state: Mutex<State>,
    /// Wakes the receiver when a frame arrives or the sender goes away.
    ready: Notify,
    /// Where the client is, if it is connected to another node of a cluster (boxed: most
    /// connections are not, and an idle one costs what this struct costs).
    relayed: Option<Box<super::Relayed>>,
}

#[derive(Debug)]
struct State {
    queue: VecDeque<Utf8Bytes>,
    /// The frame that comes before `queue`, made when taken (see [`OutboxSender::lead`]).
    lead: Option<Lead>,
    /// Set when the room lets the session go: close with this code.
    kicked: Option<u16>,
    /// Set when the session is to close with this code once the queue is written out.
    closing: Option<u16>,
    capacity: usize,
    /// Live senders: the room's link and the room's directory entry.
    senders: usize,
    receiver_alive: bool,
}

impl State {
    /// Slots taken: what is queued, and the lead.
    fn used(&self) -> usize {
        self.queue.len() + usize::from(self.lead.is_some())
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding this lock cannot leave the queue inconsistent (every
        // critical section is a single push, pop or flag write), so a poisoned lock is
        // still usable.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A frame made when the session takes it.
struct Lead(Box<dyn FnOnce() -> Utf8Bytes + Send>);

impl std::fmt::Debug for Lead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Lead")
    }
}

/// Why a frame was not queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendError {
    /// The queue is at capacity.
    Full,
    /// The session has ended.
    Closed,
}

/// The room's end of a session's queue. Clones share the queue; it closes for the
/// session when the last one is dropped.
#[derive(Debug)]
pub struct OutboxSender {
    shared: Arc<Shared>,
}

impl Clone for OutboxSender {
    fn clone(&self) -> Self {
        self.shared.lock().senders += 1;
        OutboxSender {
            shared: self.shared.clone(),
        }
    }
}

impl OutboxSender {
    /// Queues a frame without waiting.
    pub fn try_send(&self, frame: Utf8Bytes) -> Result<(), SendError> {
        let mut state = self.shared.lock();
        if !state.receiver_alive {
            return Err(SendError::Closed);
        }
        if state.used() >= state.capacity {
            return Err(SendError::Full);
        }
        state.queue.push_back(frame);
        drop(state);
        self.shared.ready.notify_one();
        Ok(())
    }

    /// Queues a frame without waiting, as [`OutboxSender::try_send`] does, once `before`
    /// has run and said yes (`false`: not queued, as if the queue were full). `before`
    /// runs only when the frame fits, and whatever it sends elsewhere is there before the
    /// session can take the frame (a cluster's node hears that a snapshot is on its way
    /// before the snapshot can reach it). It runs while the queue is held: it must not
    /// wait, nor touch this queue.
    pub fn try_send_after(
        &self,
        frame: Utf8Bytes,
        before: impl FnOnce() -> bool,
    ) -> Result<(), SendError> {
        let mut state = self.shared.lock();
        if !state.receiver_alive {
            return Err(SendError::Closed);
        }
        if state.used() >= state.capacity || !before() {
            return Err(SendError::Full);
        }
        state.queue.push_back(frame);
        drop(state);
        self.shared.ready.notify_one();
        Ok(())
    }

    /// Queues the first frame of a session (its welcome), made on the session's task when
    /// it takes it; it takes a slot until then, and everything queued later comes after
    /// it. On a queue that already holds frames (someone admitted from the waiting room,
    /// whose queue may still hold what they were told while waiting) it is made at once
    /// and queued behind them, as [`OutboxSender::try_send`] would: a lead never overtakes
    /// a frame queued before it.
    pub fn lead(&self, make: impl FnOnce() -> Utf8Bytes + Send + 'static) -> Result<(), SendError> {
        let mut state = self.shared.lock();
        if !state.receiver_alive {
            return Err(SendError::Closed);
        }
        if state.used() >= state.capacity {
            return Err(SendError::Full);
        }
        if state.used() > 0 {
            drop(state);
            return self.try_send(make());
        }
        state.lead = Some(Lead(Box::new(make)));
        drop(state);
        self.shared.ready.notify_one();
        Ok(())
    }

    /// Where the client is, if it is connected to another node of a cluster.
    pub fn relayed(&self) -> Option<&super::Relayed> {
        self.shared.relayed.as_deref()
    }

    /// Free slots.
    pub fn capacity(&self) -> usize {
        let state = self.shared.lock();
        state.capacity.saturating_sub(state.used())
    }

    /// Whether the session has ended.
    pub fn is_closed(&self) -> bool {
        !self.shared.lock().receiver_alive
    }

    /// Tells the session to close with `code` once it has written what is queued.
    pub fn close_after(&self, code: u16) {
        let mut state = self.shared.lock();
        state.closing.get_or_insert(code);
        drop(state);
        self.shared.ready.notify_one();
    }

    /// Tells the session to close with `code` now, whatever is still queued.
    pub fn kick(&self, code: u16) {
        let mut state = self.shared.lock();
        state.kicked = Some(code);
        state.queue = VecDeque::new();
        // Dropped without the lock (a welcome is large).
        let lead = state.lead.take();
        drop(state);
        drop(lead);
        self.shared.ready.notify_one();
    }
}

/// What the session gets from its queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outgoing {
    /// A frame to write.
    Frame(Utf8Bytes),
    /// Close the connection with this code.
    Kicked(u16),
}

impl Drop for OutboxSender {
    fn drop(&mut self) {
        let mut state = self.shared.lock();
        state.senders -= 1;
        let last = state.senders == 0;
        drop(state);
        if last {
            self.shared.ready.notify_one();
        }
    }
}

/// The session's end of its queue.
#[derive(Debug)]
pub(crate) struct OutboxReceiver {
    shared: Arc<Shared>,
}

impl OutboxReceiver {
    /// The next frame, or the order to close; `None` once the room dropped every sender
    /// and the queue is empty. Cancel-safe: a frame is taken only when it is returned.
    pub(crate) async fn recv(&mut self) -> Option<Outgoing> {
        loop {
            {
                let mut state = self.shared.lock();
                if let Some(code) = state.kicked {
                    return Some(Outgoing::Kicked(code));
                }
                if let Some(Lead(make)) = state.lead.take() {
                    // Made without the lock: the room queues meanwhile, behind it.
                    drop(state);
                    return Some(Outgoing::Frame(make()));
                }
                if let Some(frame) = pop(&mut state) {
                    return Some(Outgoing::Frame(frame));
                }
                if let Some(code) = state.closing {
                    return Some(Outgoing::Kicked(code));
                }
                if state.senders == 0 {
                    return None;
                }
            }
            // A notification sent after the check above is stored as a permit, so none
            // is lost between the check and this wait.
            self.shared.ready.notified().await;
        }
    }

    /// The next frame if one is queued (not the order to close).
    pub(crate) fn try_recv(&mut self) -> Option<Utf8Bytes> {
        let mut state = self.shared.lock();
        if let Some(Lead(make)) = state.lead.take() {
            drop(state);
            return Some(make());
        }
        pop(&mut state)
    }

    /// The close code, if the room has let this session go; reads nothing (for tests).
    #[cfg(test)]
    pub(crate) fn kicked(&self) -> Option<u16> {
        self.shared.lock().kicked
    }

    /// What [`OutboxReceiver::recv`] would return now, without waiting (for tests).
    #[cfg(test)]
    pub(crate) fn recv_now(&mut self) -> Option<Outgoing> {
        let mut state = self.shared.lock();
        if state.kicked.is_none()
            && let Some(Lead(make)) = state.lead.take()
        {
            drop(state);
            return Some(Outgoing::Frame(make()));
        }
        match state.kicked {
            Some(code) => Some(Outgoing::Kicked(code)),
            None => pop(&mut state)
                .map(Outgoing::Frame)
                .or(state.closing.map(Outgoing::Kicked)),
        }
    }
}

fn pop(state: &mut State) -> Option<Utf8Bytes> {
    let frame = state.queue.pop_front()?;
    if state.queue.is_empty() && state.queue.capacity() > KEEP_CAPACITY {
        state.queue = VecDeque::new();
    }
    Some(frame)
}

impl Drop for OutboxReceiver {
    fn drop(&mut self) {
        let mut state = self.shared.lock();
        state.receiver_alive = false;
        state.queue = VecDeque::new();
        let lead = state.lead.take();
        drop(state);
        drop(lead);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn queues_in_order_up_to_capacity() {
        let (tx, mut rx) = outbox(2);
        assert_eq!(tx.try_send("a".into()), Ok(()));
        assert_eq!(tx.try_send("b".into()), Ok(()));
        assert_eq!(tx.try_send("c".into()), Err(SendError::Full));
        assert_eq!(tx.capacity(), 0);
        assert_eq!(rx.recv().await, Some(Outgoing::Frame("a".into())));
        assert_eq!(rx.try_recv().as_deref(), Some("b"));
        assert_eq!(rx.try_recv(), None);
        assert_eq!(tx.capacity(), 2);
    }

    #[test]
    fn runs_before_only_for_a_frame_that_fits_and_queues_it_only_on_yes() {
        let (tx, mut rx) = outbox(2);
        let mut ran = 0;
        let mut yes = |answer: bool| {
            ran += 1;
            answer
        };
        assert_eq!(tx.try_send_after("a".into(), || yes(true)), Ok(()));
        assert_eq!(
            tx.try_send_after("b".into(), || yes(false)),
            Err(SendError::Full)
        );
        assert_eq!(tx.capacity(), 1, "said no: not queued");
        assert_eq!(tx.try_send("c".into()), Ok(()));
        assert_eq!(
            tx.try_send_after("d".into(), || yes(true)),
            Err(SendError::Full)
        );
        assert_eq!(rx.try_recv().as_deref(), Some("a"));
        assert_eq!(rx.try_recv().as_deref(), Some("c"));
        drop(rx);
        assert_eq!(
            tx.try_send_after("e".into(), || yes(true)),
            Err(SendError::Closed)
        );
        assert_eq!(ran, 2, "run only for frames that fit");
    }

    #[tokio::test]
    async fn wakes_a_waiting_receiver_and_ends_when_the_sender_goes() {
        let (tx, mut rx) = outbox(4);
        let waiter = tokio::spawn(async move {
            let first = rx.recv().await;
            let end = rx.recv().await;
            (first, end)
        });
        tokio::task::yield_now().await;
        tx.try_send("hello".into()).expect("queued");
        drop(tx);
        let (first, end) = waiter.await.expect("joined");
        assert_eq!(first, Some(Outgoing::Frame("hello".into())));
        assert_eq!(end, None);
    }

    #[tokio::test]
    async fn a_kick_comes_before_what_is_queued() {
        let (tx, mut rx) = outbox(4);
        tx.try_send("stale".into()).expect("queued");
        tx.kick(4008);
        assert_eq!(rx.recv().await, Some(Outgoing::Kicked(4008)));
    }

    #[tokio::test]
    async fn a_close_after_comes_after_what_is_queued() {
        let (tx, mut rx) = outbox(4);
        tx.try_send("last words".into()).expect("queued");
        tx.close_after(1012);
        assert_eq!(rx.recv().await, Some(Outgoing::Frame("last words".into())));
        assert_eq!(rx.recv().await, Some(Outgoing::Kicked(1012)));
    }

    #[tokio::test]
    async fn a_lead_comes_first_is_made_when_taken_and_takes_a_slot() {
        let (tx, mut rx) = outbox(3);
        let made = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = made.clone();
        tx.lead(move || {
            flag.store(true, std::sync::atomic::Ordering::SeqCst);
            "welcome".into()
        })
        .expect("led");
        assert_eq!(tx.capacity(), 2, "the lead takes a slot");
        tx.try_send("queued after".into()).expect("queued");
        tx.try_send("and after".into()).expect("queued");
        assert_eq!(tx.try_send("over".into()), Err(SendError::Full));
        assert!(
            !made.load(std::sync::atomic::Ordering::SeqCst),
            "not made yet"
        );
        assert_eq!(rx.recv().await, Some(Outgoing::Frame("welcome".into())));
        assert!(made.load(std::sync::atomic::Ordering::SeqCst));
        assert_eq!(rx.try_recv().as_deref(), Some("queued after"));
        assert_eq!(rx.try_recv().as_deref(), Some("and after"));
        assert_eq!(rx.try_recv(), None);
    }

    /// Someone admitted from the waiting room: what they were told while waiting is still
    /// queued, and their welcome comes after it.
    #[tokio::test]
    async fn a_lead_on_a_queue_that_holds_frames_goes_behind_them() {
        let (tx, mut rx) = outbox(3);
        tx.try_send("waiting".into()).expect("queued");
        tx.lead(|| "welcome".into()).expect("queued");
        tx.try_send("after".into()).expect("queued");
        assert_eq!(tx.lead(|| "over".into()), Err(SendError::Full));
        assert_eq!(rx.recv().await, Some(Outgoing::Frame("waiting".into())));
        assert_eq!(rx.try_recv().as_deref(), Some("welcome"));
        assert_eq!(rx.try_recv().as_deref(), Some("after"));
        assert_eq!(rx.try_recv(), None);
    }

    #[tokio::test]
    async fn a_kick_drops_the_lead_unmade() {
        let (tx, mut rx) = outbox(4);
        tx.lead(|| panic!("a kicked session's lead is never made"))
            .expect("led");
        tx.kick(4008);
        assert_eq!(rx.recv().await, Some(Outgoing::Kicked(4008)));
        drop(rx);
        assert_eq!(tx.lead(|| "late".into()), Err(SendError::Closed));
    }

    #[test]
    fn a_gone_receiver_closes_the_queue_and_a_drained_one_gives_memory_back() {
        let (tx, mut rx) = outbox(100);
        for _ in 0..50 {
            tx.try_send("x".into()).expect("queued");
        }
        while rx.try_recv().is_some() {}
        assert_eq!(tx.shared.lock().queue.capacity(), 0);
        drop(rx);
        assert!(tx.is_closed());
        assert_eq!(tx.try_send("late".into()), Err(SendError::Closed));
    }
}
