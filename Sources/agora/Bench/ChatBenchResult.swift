import Foundation

/// A result of `agora bench chat`: one JSON object with `--json`, else `text`.
protocol ChatBenchReport: Encodable {
    var text: String { get }
}

/// What `agora bench chat` prints after sending.
struct ChatBenchResult: ChatBenchReport {
    var clients: Int
    /// Connections that joined the room: the receivers.
    var joined: Int
    var senders: Int
    var ratePerSender: Double
    var durationSeconds: Double
    /// Sign-ups, logins and the room, through the REST API.
    var setupSeconds: Double
    var connectSeconds: Double
    var messagesSent: Int
    var messagesAcknowledged: Int
    var rateLimited: Int
    /// Error frames received, by code.
    var errorFrames: [String: Int]
    /// Acknowledged messages × receivers: every receiver, senders included, gets every message.
    var deliveriesExpected: Int
    var deliveriesReceived: Int
    var lost: Int
    var duplicates: Int
    /// Message frames whose seq did not follow the previous one on the same connection.
    var seqBreaks: Int
    /// Deliveries of messages whose sender never got an ack.
    var unacknowledgedDeliveries: Int
    /// Deliveries received between the first send and the last delivery, per second.
    var deliveriesPerSecond: Double
    var latencyP50Ms: Double
    var latencyP99Ms: Double
    var latencyMaxMs: Double
    /// From a sender's write to its `ack`: the store, without the fan-out.
    var ackP50Ms: Double
    var ackP99Ms: Double
    var drainSeconds: Double
    /// Cores the server used while sending and draining (only for the benchmark's own server).
    var serverCPUCores: Double?
    /// Cores this process, the clients, used meanwhile.
    var clientCPUCores: Double?
    var openFileLimit: Int
    /// Failures by what happened: connections that failed or were closed by the server, senders
    /// that could not write.
    var failures: [String: Int]
    /// Servers the connections were spread over (connection c on the c % N-th).
    var instances: Int = 1
    /// Cores the PostgreSQL server used meanwhile, when the benchmark's servers run on a local one.
    var postgresCPUCores: Double?
    /// Cores the machine's other processes used meanwhile.
    var otherCPUCores: Double?
    /// With several instances: the deliveries to a receiver on another server than the sender's,
    /// and their latency.
    var crossInstanceDeliveries: Int?
    var crossInstanceLatencyP50Ms: Double?
    var crossInstanceLatencyP99Ms: Double?

    var text: String {
        let cpu = [serverCPUCores.map { "server\(instances > 1 ? "s" : "") \(format($0, 2)) cores" },
                   postgresCPUCores.map { "postgres \(format($0, 2)) cores" },
                   clientCPUCores.map { "bench clients \(format($0, 2)) cores" },
                   otherCPUCores.map { "other processes \(format($0, 2)) cores" }]
            .compactMap { $0 }.joined(separator: ", ")
        let cross = crossInstanceDeliveries.map { deliveries in
            "across    : \(deliveries) deliveries to a receiver on another instance than the sender's (of \(instances)), "
                + "p50 \(format(crossInstanceLatencyP50Ms ?? 0, 1)) ms, p99 \(format(crossInstanceLatencyP99Ms ?? 0, 1)) ms\n"
        } ?? ""
        return """
            chat      : \(joined)/\(clients) connections joined in \(format(connectSeconds, 1)) s (set-up \(format(setupSeconds, 1)) s); \
            \(senders) senders × \(format(ratePerSender, 1)) msg/s for \(format(durationSeconds, 1)) s
            messages  : \(messagesSent) sent, \(messagesAcknowledged) acknowledged, \(rateLimited) rate-limited\
            \(errorFrames.isEmpty ? "" : "; error frames \(errorFrames)")
            deliveries: \(deliveriesExpected) expected, \(deliveriesReceived) received = \(Int(deliveriesPerSecond))/s; \
            \(lost) lost, \(duplicates) duplicates, \(seqBreaks) seq breaks, \(unacknowledgedDeliveries) of unacknowledged messages \
            (drain \(format(drainSeconds, 1)) s)
            latency   : p50 \(format(latencyP50Ms, 1)) ms, p99 \(format(latencyP99Ms, 1)) ms, max \(format(latencyMaxMs, 1)) ms \
            (sender's write to each receiver's read); ack p50 \(format(ackP50Ms, 1)) ms, p99 \(format(ackP99Ms, 1)) ms
            \(cross)\(cpu.isEmpty ? "" : "cpu       : \(cpu), while sending and draining\n")\
            failures  : \(failures.isEmpty ? "none" : "\(failures) (open-file limit \(openFileLimit))")
            """
    }
}

/// What `agora bench chat --idle` prints.
struct ChatIdleResult: ChatBenchReport {
    var connections: Int
    /// Connections that opened, and of them those that then joined the room.
    var opened: Int
    var joined: Int
    var setupSeconds: Double
    var connectSeconds: Double
    var joinSeconds: Double
    var serverResidentBytesBefore: Int?
    /// With every connection open, before any joined.
    var serverResidentBytesOpen: Int?
    /// With every connection joined, once the server is idle again.
    var serverResidentBytesJoined: Int?
    /// The growth of the server's resident memory per open connection, before the joins.
    var openBytesPerConnection: Double?
    /// The growth of the server's resident memory per joined connection, from before the
    /// connections: what the allocator kept of the join traffic included.
    var idleBytesPerConnection: Double?
    var openFileLimit: Int
    var failures: [String: Int]

    var text: String {
        func mebibytes(_ bytes: Int?) -> String { bytes.map { "\(format(Double($0) / 1_048_576, 1)) MiB" } ?? "?" }
        func bytes(_ value: Double?) -> String { value.map { "\(Int($0))" } ?? "?" }
        return """
            idle      : \(opened)/\(connections) connections open in \(format(connectSeconds, 1)) s, \(joined) joined the room in \
            \(format(joinSeconds, 1)) s (set-up \(format(setupSeconds, 1)) s)
            memory    : server RSS \(mebibytes(serverResidentBytesBefore)) before, \(mebibytes(serverResidentBytesOpen)) open \
            = \(bytes(openBytesPerConnection)) bytes per connection, \(mebibytes(serverResidentBytesJoined)) joined \
            = \(bytes(idleBytesPerConnection)) bytes per joined connection
            failures  : \(failures.isEmpty ? "none" : "\(failures) (open-file limit \(openFileLimit))")
            """
    }
}

private func format(_ value: Double, _ digits: Int) -> String {
    String(format: "%.\(digits)f", value)
}
