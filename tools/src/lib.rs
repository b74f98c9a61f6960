//! tandem-tools: what people run around tandem nodes. For now the chaos proxy, a UDP relay
//! that injects seeded faults between a follower and a leader's QUIC transport port, so
//! fault-injection tests and demos of lossy links need no kernel queueing disciplines.
//! Nothing here is linked into a node.

pub mod chaos;
