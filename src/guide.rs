//! Guides, also in `docs/` as Markdown; their examples compile as doctests.

#[doc = include_str!("../docs/tls.md")]
pub mod tls {}

#[doc = include_str!("../docs/reliability.md")]
pub mod reliability {}

#[doc = include_str!("../docs/coming-from-requests.md")]
pub mod coming_from_requests {}

#[doc = include_str!("../docs/middleware.md")]
pub mod middleware {}

#[doc = include_str!("../docs/pooling.md")]
pub mod pooling {}

#[doc = include_str!("../docs/observability.md")]
pub mod observability {}
