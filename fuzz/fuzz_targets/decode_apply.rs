//! The inbound path short of the socket, under the fuzzer: the input is split into text
//! frames, each decoded and, if it is a command for the room, applied to a room from one
//! of six participants, as the room's task would (`hallway::room::inbound`, which the test
//! suite also runs over the protocol fixtures). A panic, or a broken engine invariant, is
//! a finding.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(broken) = hallway::room::inbound::decode_apply(data) {
        panic!("{broken}");
    }
});
