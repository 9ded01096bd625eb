//! The SP metadata parser (`saml-sp add` and every request).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    protocol::fuzz::sp_metadata(data);
});
