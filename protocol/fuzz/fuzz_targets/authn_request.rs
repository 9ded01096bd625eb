//! The AuthnRequest parser: hostile-input checks, then samael's types.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    protocol::fuzz::authn_request(data);
});
