import ArgumentParser
import Foundation
import Histogram
import NIOCore
import NIOPosix
import SMTPCore

/// Sends small messages over N concurrent SMTP connections for a fixed time and reports
/// throughput and the latency of every message (MAIL sent → 250 after the final dot).
@main
struct LoadGenerator: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "thugate-load",
        abstract: "SMTP load generator for ThuGate's benchmarks."
    )

    @Option(help: "Server, HOST:PORT.") var server: String
    @Option(help: "Concurrent connections.") var connections = 50
    @Option(help: "Seconds to run (after a 1 s warm-up).") var seconds = 10.0
    @Option(help: "Message size in bytes.") var size = 1024
    @Option(help: "Stop after this many messages in all (0: no limit).") var messages = 0
    @Option(help: "Send this .eml file (dot-stuffed) instead of a generated message of --size bytes.")
    var messageFile: String?

    func run() async throws {
        let parts = server.split(separator: ":")
        guard parts.count == 2, let port = Int(parts[1]) else { throw ValidationError("--server HOST:PORT") }
        let host = String(parts[0])
        let body: ByteBuffer
        if let messageFile {
            guard let data = FileManager.default.contents(atPath: messageFile) else { throw ValidationError("cannot read \(messageFile)") }
            body = ByteBuffer(bytes: data)
        } else {
            body = Self.message(size: size)
        }
        let group = MultiThreadedEventLoopGroup.singleton
        let warmUpEnd = Date().addingTimeInterval(1)
        let end = warmUpEnd.addingTimeInterval(seconds)
        let perConnection = messages > 0 ? max(1, messages / connections) : Int.max

        let results = try await withThrowingTaskGroup(of: ConnectionResult.self) { tasks in
            for _ in 0..<connections {
                tasks.addTask {
                    try await Self.runConnection(
                        host: host,
                        port: port,
                        group: group,
                        body: body,
                        warmUpEnd: warmUpEnd,
                        end: end,
                        limit: perConnection
                    )
                }
            }
            var all: [ConnectionResult] = []
            for try await result in tasks { all.append(result) }
            return all
        }
        var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
        var sent = 0
        var failed = 0
        var firstStart = Double.infinity
        var lastEnd = 0.0
        for result in results {
            for latency in result.latenciesMicros { _ = histogram.record(latency) }
            sent += result.latenciesMicros.count
            failed += result.failures
            firstStart = min(firstStart, result.measuredStart)
            lastEnd = max(lastEnd, result.measuredEnd)
        }
        let elapsed = max(lastEnd - firstStart, 0.001)
        let report: [String: Any] = [
            "connections": connections, "message_bytes": body.readableBytes, "messages": sent, "failures": failed,
            "seconds": (elapsed * 1000).rounded() / 1000, "messages_per_second": (Double(sent) / elapsed).rounded(),
            "p50_ms": Double(histogram.valueAtPercentile(50)) / 1000, "p99_ms": Double(histogram.valueAtPercentile(99)) / 1000,
            "max_ms": Double(histogram.max) / 1000,
        ]
        let json = try JSONSerialization.data(withJSONObject: report, options: [.sortedKeys])
        print(String(decoding: json, as: UTF8.self))
    }

    struct ConnectionResult: Sendable {
        var latenciesMicros: [UInt64] = []
        var failures = 0
        var measuredStart = Double.infinity
        var measuredEnd = 0.0
    }

    static func message(size: Int) -> ByteBuffer {
        var text = "From: load@quangninh.gov.vn\r\nTo: sink@quangninh.gov.vn\r\nSubject: load test\r\n\r\n"
        let line = String(repeating: "x", count: 76) + "\r\n"
        while text.utf8.count + line.utf8.count <= size { text += line }
        return ByteBuffer(string: text)
    }

    static func runConnection(
        host: String,
        port: Int,
        group: any EventLoopGroup,
        body: ByteBuffer,
        warmUpEnd: Date,
        end: Date,
        limit: Int
    ) async throws -> ConnectionResult {
        let channel = try await ClientBootstrap(group: group)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(SMTPReplyDecoder()))
                    return try NIOAsyncChannel<Reply, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        var result = ConnectionResult()
        try await channel.executeThenClose { inbound, outbound in
            var replies = inbound.makeAsyncIterator()
            func next() async throws -> Reply {
                guard let reply = try await replies.next() else { throw ChannelError.eof }
                return reply
            }
            _ = try await next()
            try await outbound.write(ByteBuffer(string: "EHLO load.test\r\n"))
            _ = try await next()
            var stuffedBody = ByteBuffer()
            var stuffer = DotStuffer()
            stuffer.encode(body, into: &stuffedBody)
            stuffer.finish(into: &stuffedBody)
            let envelope = ByteBuffer(string: "MAIL FROM:<load@quangninh.gov.vn>\r\nRCPT TO:<sink@quangninh.gov.vn>\r\nDATA\r\n")
            var count = 0
            while Date() < end && count < limit {
                let started = DispatchTime.now().uptimeNanoseconds
                try await outbound.write(envelope)
                let codes = [try await next().code, try await next().code, try await next().code]
                guard codes == [250, 250, 354] else {
                    result.failures += 1
                    try await outbound.write(ByteBuffer(string: "RSET\r\n"))
                    _ = try await next()
                    continue
                }
                try await outbound.write(stuffedBody)
                let final = try await next()
                let finished = DispatchTime.now().uptimeNanoseconds
                count += 1
                if final.code != 250 {
                    result.failures += 1
                    continue
                }
                let now = Date().timeIntervalSince1970
                if Date() >= warmUpEnd || limit != Int.max {
                    result.latenciesMicros.append((finished - started) / 1000)
                    result.measuredStart = min(result.measuredStart, now - Double(finished - started) / 1e9)
                    result.measuredEnd = now
                }
            }
            try await outbound.write(ByteBuffer(string: "QUIT\r\n"))
            _ = try? await next()
        }
        return result
    }
}
