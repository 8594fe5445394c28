//! breves
