//! The SP metadata parser (`saml-sp add` and every request).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    idp::saml::fuzz::sp_metadata(data);
});
