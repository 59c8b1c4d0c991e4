//! libFuzzer's entry for `cookies`: the property is `wireline_fuzz::cookies::check`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| wireline_fuzz::cookies::check(data));
