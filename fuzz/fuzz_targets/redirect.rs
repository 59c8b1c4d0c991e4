//! libFuzzer's entry for `redirect`: the property is `wireline_fuzz::redirect::check`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| wireline_fuzz::redirect::check(data));
