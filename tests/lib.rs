//! Black-box tests of minime live in tests/integration.
