//! libFuzzer's entry for `decoders`: the property is `wireline_fuzz::decoders::check`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| wireline_fuzz::decoders::check(data));
