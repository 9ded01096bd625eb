//! The LogoutRequest / LogoutResponse parser.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    protocol::fuzz::logout_message(data);
});
