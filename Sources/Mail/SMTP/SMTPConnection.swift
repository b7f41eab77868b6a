#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Logging
import NIOCore
import NIOPosix
import NIOSSL

/// One connection to an SMTP server: sends command lines and awaits each reply within a
/// deadline, upgrades to TLS, and turns every NIO, TLS or parsing failure into a
/// `SMTPConnectionError` that names the stage.
///
/// The conversation itself (which command when) is `SMTPClient`'s; this type only moves lines.
struct SMTPConnection {
    private let channel: any Channel
    private let replies: NIOLoopBound<SMTPReplyHandler>
    private let logger: Logger
    /// `host:port`, for error messages.
    let server: String
    /// True once TLS is in the pipeline (implicit TLS, or after STARTTLS).
    private(set) var isEncrypted: Bool
    /// The stage whose TLS handshake has not yet been confirmed by a reply over TLS: TLS failures
    /// surface on the next read, and are reported at the stage that started the handshake.
    private var unconfirmedHandshake: SMTPStage?

    /// Opens a TCP connection, with TLS from the first byte when `tls` is given.
    /// - Throws: `SMTPConnectionError` (`connectFailed`, `timedOut`, `tlsFailed`) at stage `connect`.
    static func open(
        host: String, port: Int, endpoint server: String, tls: NIOSSLContext?, connectTimeout: Duration,
        group: any EventLoopGroup, logger: Logger
    ) async throws -> SMTPConnection {
        let serverHostname = Self.serverHostname(for: host)
        let eventLoop = group.next()
        // Happy Eyeballs may open several channels and keep one, and a failed TLS handshake may
        // close the winner (emptying its pipeline) before we look, so each channel's reply handler
        // is kept here, by channel, as the initializer creates it.
        let handlers = NIOLoopBoundBox.makeBoxSendingValue([ObjectIdentifier: SMTPReplyHandler](), eventLoop: eventLoop)
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(TimeAmount(connectTimeout))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls {
                        let tlsHandler = try NIOSSLClientHandler(context: tls, serverHostname: serverHostname)
                        try channel.pipeline.syncOperations.addHandler(tlsHandler)
                    }
                    let replyHandler = SMTPReplyHandler()
                    handlers.value[ObjectIdentifier(channel)] = replyHandler
                    try channel.pipeline.syncOperations.addHandler(replyHandler)
                }
            }
        do {
            let channel = try await bootstrap.connect(host: host, port: port).get()
            let replies = try await eventLoop.submit {
                guard let replyHandler = handlers.value[ObjectIdentifier(channel)] else {
                    throw ConnectionClosedByServer()
                }
                handlers.value = [:]
                return NIOLoopBound(replyHandler, eventLoop: eventLoop)
            }.get()
            return SMTPConnection(channel: channel, replies: replies, logger: logger, server: server, isEncrypted: tls != nil,
                                  unconfirmedHandshake: tls != nil ? .connect : nil)
        } catch {
            throw SMTPConnectionError(server: server, stage: .connect, reason: Self.connectFailure(error, timeout: connectTimeout))
        }
    }

    /// True when the peer is a loopback address, where credentials never leave the machine.
    var isLoopback: Bool {
        guard let address = channel.remoteAddress?.ipAddress else { return false }
        return address.hasPrefix("127.") || address == "::1" || address.hasPrefix("::ffff:127.")
    }

    /// Waits for the next reply without sending anything (the greeting).
    /// - Throws: `SMTPConnectionError` when none arrives in time or the connection fails.
    mutating func readReply(stage: SMTPStage, timeout: Duration) async throws -> SMTPReply {
        try await exchange(nil, stage: stage, timeout: timeout)
    }

    /// Sends one command line (CRLF is added) and returns the reply.
    /// - Parameter redacted: what logs and errors show instead of `line`, for credentials.
    /// - Throws: `SMTPConnectionError` when no reply arrives in time or the connection fails.
    mutating func send(_ line: String, redacted: String? = nil, stage: SMTPStage, timeout: Duration) async throws -> SMTPReply {
        logger.trace("smtp >", metadata: ["smtp.command": "\(redacted ?? line)"])
        var buffer = channel.allocator.buffer(capacity: line.utf8.count + 2)
        buffer.writeString(line)
        buffer.writeString("\r\n")
        return try await exchange(buffer, stage: stage, timeout: timeout)
    }

    /// Sends raw bytes (the dot-stuffed message and its terminator) and returns the reply.
    mutating func send(bytes: ByteBuffer, stage: SMTPStage, timeout: Duration) async throws -> SMTPReply {
        logger.trace("smtp >", metadata: ["smtp.command": "<\(bytes.readableBytes) bytes of message data>"])
        return try await exchange(bytes, stage: stage, timeout: timeout)
    }

    /// Puts TLS at the front of the pipeline, right after the server's 220 to STARTTLS.
    /// - Throws: `SMTPConnectionError` at stage `starttls` if the server already sent more
    ///   plaintext (which would otherwise be read as if it came through TLS) or TLS cannot start.
    mutating func startTLS(context: NIOSSLContext, host: String) async throws {
        let serverHostname = Self.serverHostname(for: host)
        let channel = self.channel
        let replies = self.replies
        do {
            try await channel.eventLoop.submit {
                guard !replies.value.hasUnrequestedInput else {
                    throw SMTPProtocolViolation("the server sent more data after its reply to STARTTLS")
                }
                let tlsHandler = try NIOSSLClientHandler(context: context, serverHostname: serverHostname)
                try channel.pipeline.syncOperations.addHandler(tlsHandler, position: .first)
            }.get()
        } catch {
            throw SMTPConnectionError(server: server, stage: .starttls, reason: Self.failure(error, timeout: .zero))
        }
        isEncrypted = true
        unconfirmedHandshake = .starttls
    }

    /// Closes the connection; never fails.
    func close() async {
        try? await channel.close().get()
    }

    private mutating func exchange(_ bytes: ByteBuffer?, stage: SMTPStage, timeout: Duration) async throws -> SMTPReply {
        let channel = self.channel
        let replies = self.replies
        let promise = channel.eventLoop.makePromise(of: SMTPReply.self)
        channel.eventLoop.execute {
            replies.value.waitForReply(promise)
            if let bytes {
                channel.writeAndFlush(bytes).whenFailure { error in
                    replies.value.fail(with: error)
                }
            }
            let deadline = channel.eventLoop.scheduleTask(in: TimeAmount(timeout)) {
                replies.value.fail(with: ReplyTimeout())
                channel.close(promise: nil)
            }
            promise.futureResult.whenComplete { _ in deadline.cancel() }
        }
        do {
            let reply = try await withTaskCancellationHandler {
                try await promise.futureResult.get()
            } onCancel: {
                channel.eventLoop.execute {
                    replies.value.fail(with: CancellationError())
                    channel.close(promise: nil)
                }
            }
            logger.trace("smtp <", metadata: ["smtp.reply": "\(reply.code) \(reply.lines.joined(separator: " / "))"])
            unconfirmedHandshake = nil
            return reply
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            let failure = Self.failure(error, timeout: timeout)
            if case .tlsFailed = failure, let handshakeStage = unconfirmedHandshake {
                throw SMTPConnectionError(server: server, stage: handshakeStage, reason: failure)
            }
            throw SMTPConnectionError(server: server, stage: stage, reason: failure)
        }
    }

    /// The name for SNI and certificate checks; nil for an IP address, which NIOSSL then checks
    /// against the certificate's IP entries instead.
    private static func serverHostname(for host: String) -> String? {
        (try? SocketAddress(ipAddress: host, port: 0)) == nil ? host : nil
    }

    private static func connectFailure(_ error: any Error, timeout: Duration) -> SMTPConnectionError.Reason {
        if let error = error as? ChannelError, case .connectTimeout = error {
            return .timedOut(timeout)
        }
        if let error = error as? NIOConnectionError {
            if let dnsError = error.dnsAError ?? error.dnsAAAAError {
                return .connectFailed("host not found: \(dnsError)")
            }
            if let first = error.connectionErrors.first {
                return .connectFailed(Self.describe(first.error))
            }
        }
        return Self.failure(error, timeout: timeout).connectReason
    }

    private static func failure(_ error: any Error, timeout: Duration) -> SMTPConnectionError.Reason {
        switch error {
        case is ReplyTimeout: .timedOut(timeout)
        case is ConnectionClosedByServer: .closedByServer
        case let violation as SMTPProtocolViolation: .protocolViolation(violation.description)
        case is NIOSSLError, is NIOSSLExtraError, is BoringSSLError: .tlsFailed(String(describing: error))
        default: .connectionLost(describe(error))
        }
    }

    private static func describe(_ error: any Error) -> String {
        if let error = error as? IOError {
            // IOError's own text is "connect(descriptor:addr:size:): Connection refused (errno: 111)".
            return String(cString: strerror(error.errnoCode)).lowercased()
        }
        return String(describing: error)
    }
}

/// The scheduled deadline for a reply passed.
private struct ReplyTimeout: Error {}

extension SMTPConnectionError.Reason {
    /// At the connect stage, an I/O failure means the connection could not be made.
    fileprivate var connectReason: Self {
        if case .connectionLost(let detail) = self {
            return .connectFailed(detail)
        }
        return self
    }
}
