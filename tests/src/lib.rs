//! tandem-tests: tests that look at the whole tree or start real nodes. Helpers shared by those
//! tests live here; the tests themselves are in `tests/`. Nothing here ships in a binary.
