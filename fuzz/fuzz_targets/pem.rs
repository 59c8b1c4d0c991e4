//! libFuzzer's entry for `pem`: the property is `wireline_fuzz::pem::check`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| wireline_fuzz::pem::check(data));
