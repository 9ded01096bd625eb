//! The HTTP-Redirect binding: the query parser, base64, capped inflate, then the
//! AuthnRequest parser.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    protocol::fuzz::redirect_binding(data);
});
