//! The reader of a UWLR answer (a LAS's SOAP envelope with the leerlinggegevens, fetched by
//! the importer).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    protocol::fuzz::uwlr(data);
});
