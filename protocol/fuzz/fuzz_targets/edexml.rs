//! The EDEXML parser and validator (a school's pupil-administration export, uploaded in Beheer).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    protocol::fuzz::edexml(data);
});
