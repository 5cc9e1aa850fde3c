//! Latency samples and their percentiles.

use std::time::Duration;

/// Latencies in microseconds.
#[derive(Debug, Clone, Default)]
pub struct Samples {
    micros: Vec<u32>,
}

impl Samples {
    /// Records one latency.
    pub fn record(&mut self, latency: Duration) {
        self.micros
            .push(latency.as_micros().min(u128::from(u32::MAX)) as u32);
    }

    /// How many were recorded.
    pub fn len(&self) -> usize {
        self.micros.len()
    }

    /// Whether none were recorded.
    pub fn is_empty(&self) -> bool {
        self.micros.is_empty()
    }

    /// Forgets everything (after a warm-up).
    pub fn clear(&mut self) {
        self.micros.clear();
    }

    /// The `p`-th percentile (0..=100) in milliseconds, or `None` without samples.
    pub fn percentile_ms(&mut self, p: f64) -> Option<f64> {
        if self.micros.is_empty() {
            return None;
        }
        self.micros.sort_unstable();
        let rank = ((p / 100.0) * (self.micros.len() - 1) as f64).round() as usize;
        Some(f64::from(self.micros[rank.min(self.micros.len() - 1)]) / 1000.0)
    }

    /// The largest, in milliseconds.
    pub fn max_ms(&self) -> Option<f64> {
        self.micros.iter().max().map(|m| f64::from(*m) / 1000.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles() {
        let mut s = Samples::default();
        assert_eq!(s.percentile_ms(50.0), None);
        for ms in 1..=100 {
            s.record(Duration::from_millis(ms));
        }
        assert_eq!(s.percentile_ms(50.0), Some(51.0));
        assert_eq!(s.percentile_ms(99.0), Some(99.0));
        assert_eq!(s.max_ms(), Some(100.0));
    }
}
