//! libFuzzer's entry for `url_and_headers`: the property is `wireline_fuzz::url_and_headers::check`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| wireline_fuzz::url_and_headers::check(data));
