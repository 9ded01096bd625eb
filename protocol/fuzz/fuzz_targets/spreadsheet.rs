//! The spreadsheet reader (a CSV file a school fills in itself, uploaded in Beheer; bytes that
//! start as a zip container go to the XLSX side).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    protocol::fuzz::spreadsheet(data);
});
