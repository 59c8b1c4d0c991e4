//! libFuzzer's entry for `proxy_rules`: the property is `wireline_fuzz::proxy_rules::check`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| wireline_fuzz::proxy_rules::check(data));
