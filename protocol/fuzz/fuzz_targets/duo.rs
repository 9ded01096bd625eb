//! The reader of DUO's registry of school locations (`leerpoort import duo`).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    protocol::fuzz::duo(data);
});
