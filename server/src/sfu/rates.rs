//! Each layer's bit rate as one receiver's allocation sees it: measured from the
//! publisher's byte counts every allocation interval and smoothed, and for a layer paused
//! now the rate it last had while it was sent (what it would cost if called for again:
//! [`allocation::wants`](super::allocation::wants)). Pure: byte counts and instants in,
//! rates out.

use std::time::Instant;

use super::layers::{LayerSnapshot, MAX_LAYERS};

/// One track's layer rates for one receiver.
#[derive(Debug)]
pub(crate) struct LayerRates {
    /// Bytes each layer had when last measured (or when the track was added), and when.
    bytes: [u64; MAX_LAYERS],
    measured_at: Instant,
    /// The rates measured since, smoothed (bits per second); `measured`: at least once.
    smoothed: [f64; MAX_LAYERS],
    measured: bool,
    /// Each layer's rate as last measured while it was sent (0: never).
    known: [f64; MAX_LAYERS],
}

impl LayerRates {
    /// A track added with its layers' byte counts so far.
    pub(crate) fn new(bytes: [u64; MAX_LAYERS], now: Instant) -> Self {
        LayerRates {
            bytes,
            measured_at: now,
            smoothed: [0.0; MAX_LAYERS],
            measured: false,
            known: [0.0; MAX_LAYERS],
        }
    }

    /// Measures each layer since the last time and gives its rate for the allocation: the
    /// smoothed rate of a layer sent now, the known one of a layer paused now.
    pub(crate) fn measure(
        &mut self,
        snapshot: &[LayerSnapshot; MAX_LAYERS],
        now: Instant,
    ) -> [f64; MAX_LAYERS] {
        let seconds = now
            .saturating_duration_since(self.measured_at)
            .as_secs_f64()
            .max(0.05);
        self.measured_at = now;
        for (i, layer) in snapshot.iter().enumerate() {
            let rate = layer.bytes.saturating_sub(self.bytes[i]) as f64 * 8.0 / seconds;
            self.bytes[i] = layer.bytes;
            // A layer sent again after a pause: its rate starts from the one it had, not
            // from the nothing it fell to (it would look cheap for seconds).
            if layer.active && rate >= 0.5 * self.known[i] && self.smoothed[i] < 0.5 * self.known[i]
            {
                self.smoothed[i] = self.known[i];
            }
            // The first measurement counts at once; afterwards the rate is smoothed (over
            // about two seconds).
            self.smoothed[i] = if self.measured {
                0.75 * self.smoothed[i] + 0.25 * rate
            } else {
                rate
            };
            // Not while a layer that stopped still counts as sent (its rate falls then):
            // the rate it had is what it would cost again.
            if layer.active && self.smoothed[i] > 0.0 && rate >= 0.5 * self.smoothed[i] {
                self.known[i] = self.smoothed[i];
            }
        }
        self.measured = true;
        std::array::from_fn(|i| {
            if snapshot[i].active {
                self.smoothed[i]
            } else {
                self.known[i]
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// Feeds `rates` (bits per second of each layer, `None`: not sent) for `seconds` in
    /// steps of half a second, and gives the rates the allocation saw last.
    fn feed(
        rates: &mut LayerRates,
        snapshot: &mut [LayerSnapshot; MAX_LAYERS],
        now: &mut Instant,
        sent: [Option<f64>; MAX_LAYERS],
        seconds: f64,
    ) -> [f64; MAX_LAYERS] {
        let mut seen = [0.0; MAX_LAYERS];
        for _ in 0..(seconds * 2.0) as usize {
            *now += Duration::from_millis(500);
            for (layer, rate) in snapshot.iter_mut().zip(sent) {
                layer.active = rate.is_some();
                layer.bytes += (rate.unwrap_or(0.0) / 16.0) as u64;
            }
            seen = rates.measure(snapshot, *now);
        }
        seen
    }

    /// A paused layer counts at the rate it had, not at what it fell to while it still
    /// counted as sent; sent again, it starts from that rate, not from nothing.
    #[test]
    fn a_paused_layer_costs_what_it_had() {
        let mut now = Instant::now();
        let mut snapshot = [LayerSnapshot::default(); MAX_LAYERS];
        let mut rates = LayerRates::new([0; MAX_LAYERS], now);
        let on = [Some(150_000.0), Some(450_000.0), Some(1_200_000.0)];
        let seen = feed(&mut rates, &mut snapshot, &mut now, on, 10.0);
        assert!((seen[2] - 1_200_000.0).abs() < 10_000.0, "{seen:?}");
        // The top layer stops; for 1.5 s it still counts as sent, with nothing coming.
        let stopping = [on[0], on[1], Some(0.0)];
        let seen = feed(&mut rates, &mut snapshot, &mut now, stopping, 1.5);
        assert!(seen[2] < 600_000.0, "its measured rate falls: {seen:?}");
        let paused = [on[0], on[1], None];
        let seen = feed(&mut rates, &mut snapshot, &mut now, paused, 5.0);
        assert!((seen[2] - 1_200_000.0).abs() < 10_000.0, "paused: {seen:?}");
        // Sent again: the first look already sees about its old rate.
        let seen = feed(&mut rates, &mut snapshot, &mut now, on, 0.5);
        assert!(seen[2] > 1_000_000.0, "sent again: {seen:?}");
        // A layer never sent costs nothing known.
        let mut fresh = LayerRates::new([0; MAX_LAYERS], now);
        let seen = feed(
            &mut fresh,
            &mut [LayerSnapshot::default(); MAX_LAYERS],
            &mut now,
            paused,
            1.0,
        );
        assert_eq!(seen[2], 0.0);
    }
}
