//! A publisher's icon (licence API), sanitised: what comes out must be safe to serve.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    protocol::fuzz::icon(data);
});
