//! Which simulcast layer each receiver gets: the layer that fits the size at which the
//! receiver shows the video (told by the client, `sfu_view`), lowered while everything it
//! receives does not fit its bandwidth estimate (from transport-wide congestion control
//! feedback on its receiving connection). Pure: numbers in, layers out.

use super::layers::{Layer, LayerSnapshot, MAX_LAYERS, NO_LAYER};

/// Share of the estimate that is given out (the rest is headroom for retransmissions and
/// the estimate's own errors).
pub(crate) const HEADROOM: f64 = 0.9;

/// One track a receiver receives, as the allocation sees it.
#[derive(Debug, Clone)]
pub(crate) struct Demand {
    /// Sent in simulcast layers; a track without (audio, a screen share, a publisher
    /// that does not send simulcast) is always forwarded.
    pub layered: bool,
    /// Each layer's bit rate (bits per second), lowest first: measured while it is sent;
    /// for a layer paused now, the rate last measured while it was sent (0 if never). A
    /// track without layers has its rate in `rates[0]`.
    pub rates: [f64; MAX_LAYERS],
    /// Each layer's state.
    pub snapshot: [LayerSnapshot; MAX_LAYERS],
    /// The size the receiver shows it at, in device pixels; `None` if not told.
    pub view: Option<(u32, u32)>,
}

/// A layer's width and height when the codec did not say: each layer below the top one
/// is half the size of the one above (as the client sends them), the top one 640 × 360.
fn assumed_size(layer: usize, top: usize) -> (u16, u16) {
    let shift = top.saturating_sub(layer) as u32;
    (640 >> shift, 360 >> shift)
}

/// The layers sent now, lowest first.
fn active(demand: &Demand) -> Vec<usize> {
    (0..MAX_LAYERS)
        .filter(|&i| demand.snapshot[i].active)
        .collect()
}

/// The layer that fits the view: the lowest whose picture is at least nine tenths of the
/// view in both directions, else the top one. A view of no size (hidden) gets the lowest.
fn fitting(demand: &Demand, active: &[usize]) -> usize {
    let (Some(&lowest), Some(&top)) = (active.first(), active.last()) else {
        return 0;
    };
    let Some((w, h)) = demand.view else {
        return top;
    };
    if w == 0 || h == 0 {
        return lowest;
    }
    for &i in active {
        let (lw, lh) = demand.snapshot[i]
            .size
            .unwrap_or_else(|| assumed_size(i, top));
        if f64::from(lw) >= f64::from(w) * 0.9 && f64::from(lh) >= f64::from(h) * 0.9 {
            return i;
        }
    }
    top
}

/// The layer a receiver's view calls for, whatever its bandwidth and whichever layers
/// are sent now: the lowest the publisher has sent (paused ones too) whose picture fills
/// the view, else the top layer there can be (`MAX_LAYERS - 1`), sent yet or not — a
/// layer the publisher never got round to sending (its estimate was still climbing, or its
/// CPU was short) is called for by a view it would fill. A hidden view calls for the
/// lowest sent, no view for the top. The publisher's task pauses the layers above the
/// highest any receiver calls for. `NO_LAYER` for a track without layers or one that has
/// sent nothing yet.
pub(crate) fn called_for(demand: &Demand) -> Layer {
    let top = (MAX_LAYERS - 1) as Layer;
    if !demand.layered {
        return NO_LAYER;
    }
    let sent: Vec<usize> = (0..MAX_LAYERS)
        .filter(|&i| demand.snapshot[i].active || demand.snapshot[i].bytes > 0)
        .collect();
    let Some(&lowest) = sent.first() else {
        return NO_LAYER;
    };
    let Some((w, h)) = demand.view else {
        return top;
    };
    if w == 0 || h == 0 {
        return lowest as Layer;
    }
    sent.into_iter()
        .find(|&i| {
            let (lw, lh) = demand.snapshot[i]
                .size
                .unwrap_or_else(|| assumed_size(i, MAX_LAYERS - 1));
            f64::from(lw) >= f64::from(w) * 0.9 && f64::from(lh) >= f64::from(h) * 0.9
        })
        .map_or(top, |i| i as Layer)
}

/// The layer of each track a receiver wants from its publisher (whose browser stops
/// encoding the layers above the highest any receiver calls for): what the view calls
/// for ([`called_for`]), lowered to what the receiver's bandwidth estimate would give it
/// if every layer the publisher has sent were sent now, a paused one at the rate it had.
/// So a layer that no receiver's estimate allows is paused as well as one that no view
/// needs. Without an estimate (or for a paused layer whose rate this receiver never
/// measured, taken to cost nothing) the view alone decides. When a want above what the
/// receiver gets becomes a call is [`UpSwitches::call`](super::upswitch::UpSwitches::call)'s
/// to say: the estimate climbs while a lower layer flows.
pub(crate) fn wants(estimate: Option<f64>, demands: &[Demand]) -> Vec<Layer> {
    let views = demands.iter().map(called_for);
    let Some(estimate) = estimate else {
        return views.collect();
    };
    // Every layer ever sent, as if it were sent now.
    let sent: Vec<Demand> = demands
        .iter()
        .map(|d| {
            let mut d = d.clone();
            for layer in &mut d.snapshot {
                layer.active |= layer.bytes > 0;
            }
            d
        })
        .collect();
    let allowed = allocate(Some(estimate), &sent);
    let fitting = allocate(None, &sent);
    views
        .zip(allowed.into_iter().zip(fitting))
        .map(|(view, (allowed, fits))| {
            if allowed != NO_LAYER && allowed < fits {
                allowed
            } else {
                view
            }
        })
        .collect()
}

/// The layer a new receiver starts in, before the first allocation: the top one sent
/// (what it would get with no view told and no estimate yet), or the lowest if none is
/// sent yet.
pub(crate) fn first_layer(snapshot: &[LayerSnapshot; MAX_LAYERS]) -> Layer {
    (0..MAX_LAYERS)
        .rev()
        .find(|&i| snapshot[i].active)
        .unwrap_or(0) as Layer
}

/// The layer each track should be received in (`NO_LAYER` for a layered track none of
/// whose layers is sent now), for a receiver with `estimate` bits per second (`None`:
/// no estimate yet, so the views alone decide).
pub(crate) fn allocate(estimate: Option<f64>, demands: &[Demand]) -> Vec<Layer> {
    let actives: Vec<Vec<usize>> = demands.iter().map(active).collect();
    let mut chosen: Vec<Option<usize>> = demands
        .iter()
        .zip(&actives)
        .map(|(d, a)| {
            if d.layered {
                a.first().map(|_| fitting(d, a))
            } else {
                None
            }
        })
        .collect();
    if let Some(estimate) = estimate {
        let budget = estimate * HEADROOM;
        let cost = |chosen: &[Option<usize>]| -> f64 {
            demands
                .iter()
                .zip(chosen)
                .map(|(d, c)| match (d.layered, c) {
                    (false, _) => d.rates[0],
                    (true, Some(i)) => d.rates[*i],
                    (true, None) => 0.0,
                })
                .sum()
        };
        // Lower the most expensive layer above the lowest, one step at a time, until it fits
        // or everything is at its lowest layer.
        while cost(&chosen) > budget {
            let step = chosen
                .iter()
                .enumerate()
                .filter_map(|(t, c)| {
                    let i = (*c)?;
                    let below = actives[t].iter().rev().find(|&&a| a < i)?;
                    Some((t, *below, demands[t].rates[i]))
                })
                .max_by(|a, b| a.2.total_cmp(&b.2));
            let Some((t, below, _)) = step else {
                break;
            };
            chosen[t] = Some(below);
        }
    }
    demands
        .iter()
        .zip(chosen)
        .map(|(d, c)| match (d.layered, c) {
            (false, _) => 0,
            (true, Some(i)) => i as Layer,
            (true, None) => NO_LAYER,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A paused layer is still called for by a view it fits: the publisher is then asked
    /// to send it again. So is one never sent, by a view no layer sent fills. A hidden view
    /// calls for the lowest; no view for the top one.
    #[test]
    fn a_view_calls_for_the_layer_that_fits_it_paused_or_never_sent() {
        let mut snapshot = snapshot([Some((160, 90)), Some((320, 180)), Some((640, 360))]);
        // The top layer was sent once and is paused now.
        snapshot[2].active = false;
        snapshot[2].bytes = 50_000;
        let demand = |snapshot, view| Demand {
            layered: true,
            rates: [100_000.0, 300_000.0, 0.0],
            snapshot,
            view,
        };
        assert_eq!(called_for(&demand(snapshot, Some((600, 338)))), 2);
        assert_eq!(
            allocate(None, &[demand(snapshot, Some((600, 338)))]),
            vec![1]
        );
        assert_eq!(called_for(&demand(snapshot, Some((300, 169)))), 1);
        assert_eq!(called_for(&demand(snapshot, Some((120, 68)))), 0);
        assert_eq!(called_for(&demand(snapshot, Some((0, 0)))), 0);
        assert_eq!(called_for(&demand(snapshot, None)), 2);
        // Never sent (the publisher's estimate still climbing): called for all the same
        // by a view the layers sent do not fill, not by one they do.
        snapshot[2] = LayerSnapshot::default();
        assert_eq!(called_for(&demand(snapshot, Some((600, 338)))), 2);
        assert_eq!(called_for(&demand(snapshot, Some((300, 169)))), 1);
        // Nothing sent yet: no call.
        let nothing = [LayerSnapshot::default(); MAX_LAYERS];
        assert_eq!(called_for(&demand(nothing, Some((300, 169)))), NO_LAYER);
        let single = Demand {
            layered: false,
            ..demand(snapshot, None)
        };
        assert_eq!(called_for(&single), NO_LAYER);
    }

    fn snapshot(sizes: [Option<(u16, u16)>; MAX_LAYERS]) -> [LayerSnapshot; MAX_LAYERS] {
        sizes.map(|size| LayerSnapshot {
            bytes: 0,
            active: size.is_some(),
            size,
        })
    }

    fn camera(view: Option<(u32, u32)>) -> Demand {
        Demand {
            layered: true,
            rates: [150_000.0, 450_000.0, 1_200_000.0],
            snapshot: snapshot([Some((160, 90)), Some((320, 180)), Some((640, 360))]),
            view,
        }
    }

    fn audio() -> Demand {
        Demand {
            layered: false,
            rates: [40_000.0, 0.0, 0.0],
            snapshot: snapshot([Some((0, 0)), None, None]),
            view: None,
        }
    }

    #[test]
    fn the_view_decides_when_bandwidth_is_plenty() {
        let demands = [
            camera(Some((300, 170))),
            camera(Some((150, 84))),
            camera(Some((600, 338))),
            camera(None),
            camera(Some((0, 0))),
            audio(),
        ];
        assert_eq!(allocate(Some(50e6), &demands), vec![1, 0, 2, 2, 0, 0]);
        assert_eq!(allocate(None, &demands), vec![1, 0, 2, 2, 0, 0]);
    }

    /// A small view fits the next layer up when it is a little larger than the low one.
    #[test]
    fn a_view_slightly_larger_than_a_layer_still_fits_it() {
        assert_eq!(allocate(None, &[camera(Some((170, 95)))]), vec![0]);
        assert_eq!(allocate(None, &[camera(Some((200, 110)))]), vec![1]);
    }

    /// Too little bandwidth: the most expensive layers go down first, never below the
    /// lowest, and audio is never touched.
    #[test]
    fn a_tight_estimate_lowers_the_largest_layers_first() {
        let demands = [camera(None), camera(None), audio()];
        // 2.0 Mbit/s × 0.9 = 1.8: 1.2 + 0.45 + 0.04 fits.
        assert_eq!(allocate(Some(2.0e6), &demands), vec![2, 1, 0]);
        // 1.2 × 0.9 = 1.08: 0.45 + 0.45 + 0.04 fits.
        assert_eq!(allocate(Some(1.2e6), &demands), vec![1, 1, 0]);
        // 1.0 × 0.9 = 0.9: 0.45 + 0.15 + 0.04.
        assert_eq!(allocate(Some(1.0e6), &demands), vec![1, 0, 0]);
        // Nothing fits: everything at its lowest.
        assert_eq!(allocate(Some(100_000.0), &demands), vec![0, 0, 0]);
    }

    /// A publisher that stopped sending its top layer (its own link or CPU) is received
    /// in the best layer it still sends; one that sends none yet has none chosen.
    #[test]
    fn only_layers_that_are_sent_are_chosen() {
        let mut two = camera(None);
        two.snapshot[2].active = false;
        let mut none = camera(None);
        none.snapshot = snapshot([None, None, None]);
        assert_eq!(allocate(None, &[two, none]), vec![1, NO_LAYER]);
    }

    /// A receiver whose estimate cannot carry the layer its view calls for wants the one
    /// it can, paused layers counted at the rate they had; as the estimate grows, the
    /// paused layer is wanted again. Without an estimate the view decides.
    #[test]
    fn an_estimate_too_small_for_a_layer_does_not_want_it() {
        // The top layer is paused now; it was sent (bytes) at 1.2 Mbit/s.
        let mut paused = camera(Some((600, 338)));
        paused.snapshot[2].active = false;
        paused.snapshot[2].bytes = 80_000;
        for layer in &mut paused.snapshot[..2] {
            layer.bytes = 40_000;
        }
        let demands = [paused.clone(), audio()];
        assert_eq!(wants(None, &demands), vec![2, NO_LAYER]);
        // 1.0 Mbit/s × 0.9: 1.2 + 0.04 does not fit, 0.45 + 0.04 does.
        assert_eq!(wants(Some(1.0e6), &demands), vec![1, NO_LAYER]);
        // 0.3 × 0.9: only the lowest.
        assert_eq!(wants(Some(300_000.0), &demands), vec![0, NO_LAYER]);
        // Grown to 1.5 × 0.9 = 1.35: the paused layer fits again.
        assert_eq!(wants(Some(1.5e6), &demands), vec![2, NO_LAYER]);
        // Two cameras share the estimate: 2.0 × 0.9 = 1.8 carries one top layer.
        let two = [paused.clone(), paused.clone(), audio()];
        assert_eq!(wants(Some(2.0e6), &two), vec![2, 1, NO_LAYER]);
        // A paused layer whose rate this receiver never measured: the view decides.
        let mut unknown = paused.clone();
        unknown.rates[2] = 0.0;
        assert_eq!(wants(Some(1.0e6), &[unknown]), vec![2]);
        // A smaller view calls for less than the estimate allows: the view decides.
        let mut small = paused;
        small.view = Some((150, 84));
        assert_eq!(wants(Some(50e6), &[small]), vec![0]);
    }

    /// Without sizes from the codec, layers are taken to halve from a 640 × 360 top.
    #[test]
    fn unknown_sizes_are_assumed_to_halve() {
        let mut demand = camera(Some((300, 170)));
        demand.snapshot = snapshot([Some((0, 0)), None, Some((0, 0))]).map(|mut s| {
            s.size = None;
            s
        });
        // Layers 0 and 2 sent: 0 is taken as 160 × 90 (two steps below the top).
        assert_eq!(allocate(None, &[demand]), vec![2]);
    }
}
