//! libFuzzer's entry for `server_bytes`: the property is `wireline_fuzz::server_bytes::check`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| wireline_fuzz::server_bytes::check(data));
