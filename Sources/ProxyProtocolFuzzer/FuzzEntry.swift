// The fuzzing entry for the first bytes a load balancer (or anyone who reaches a PROXY listener)
// sends: the PROXY header decoder, drip-fed in random read sizes. Scripts/fuzz builds this target
// with `-sanitize=fuzzer,address -DFUZZING`; built normally it replays files through the same
// function (FuzzSupport's `FuzzMain`) for the regression tests.
import FuzzSupport
import ProxyProtocol

/// Byte 0 picks the read sizes; the rest is the connection's first bytes. Properties: the
/// outcome does not depend on how the bytes were split into reads; a header plus its rest is
/// never more than the input, and the rest is exactly the input's tail; a version 1 header is at
/// most 107 bytes; a version 1 TCP header written back as a line reads as the same header.
func fuzzProxyHeader(_ input: [UInt8]) {
    guard let settings = input.first else { return }
    let stream = Array(input.dropFirst())
    var whole = ProxyHeaderDecoder()
    let expected = whole.decode(stream)
    var chunker = Chunker(seed: settings)
    var decoder = ProxyHeaderDecoder()
    var fed = 0
    var outcome = ProxyHeaderDecoder.Outcome.needMore
    for chunk in chunker.split(stream[...]) {
        fed += chunk.count
        outcome = decoder.decode(chunk)
        if outcome != .needMore { break }
    }
    switch (outcome, expected) {
    case (.header(let header, let rest), .header(let other, let all)):
        precondition(header == other, "a header that depends on the reads")
        let full = rest + stream[fed...]
        precondition(full == all, "the bytes after the header depend on the reads")
        precondition(all.count <= stream.count && Array(stream.suffix(all.count)) == all, "the rest is not the input's tail")
        let headerLength = stream.count - all.count
        if header.version == .v1 { precondition(headerLength <= 107, "a version 1 line past 107 bytes") }
        if header.version == .v1, let source = header.source, let destination = header.destination {
            let protocolName = source.family == .inet4 ? "TCP4" : "TCP6"
            let line = "PROXY \(protocolName) \(source.address) \(destination.address) \(source.port) \(destination.port)\r\n"
            var again = ProxyHeaderDecoder()
            precondition(again.decode(Array(line.utf8)) == .header(header, rest: []), "\(line) reads differently")
        }
    case (.invalid(let error), .invalid(let other)):
        precondition(error == other, "an error that depends on the reads")
    case (.needMore, .needMore):
        break
    default:
        preconditionFailure("the outcome depends on the reads: \(outcome) against \(expected)")
    }
}

// MARK: - Selection

enum ProxyProtocolFuzzTarget: String, FuzzTarget {
    case proxy

    func run(_ raw: UnsafeRawBufferPointer) {
        fuzzProxyHeader(Array(raw))
    }
}
