import Logging
import NIOCore
import NIOPosix
import NIOSSL

/// Delivers mail to one SMTP server, one connection per message.
///
/// Hand-written on SwiftNIO because no available Swift package speaks SMTP. It implements the
/// client side of RFC 5321 that mail submission needs, without pipelining or CHUNKING:
///
/// 1. connect (TLS from the first byte for `smtps://`), read the 220 greeting;
/// 2. EHLO, falling back to HELO when the server refuses EHLO with a 5xx reply;
/// 3. STARTTLS when the server offers it (required with `starttls=required`, skipped with
///    `starttls=never`), then EHLO again over TLS;
/// 4. AUTH PLAIN (or LOGIN when PLAIN is not offered), only when credentials are configured, and
///    only over TLS or to a loopback address: otherwise the password would cross the network in
///    the clear, and delivery fails with `SMTPSecurityError.credentialsWouldBeSentInClear`;
/// 5. MAIL FROM, RCPT TO for every recipient, DATA with dot-stuffing, QUIT.
///
/// Every reply is checked; the first unexpected one ends the attempt. Errors are
/// `MailDeliveryError`s: `SMTPReplyError` (permanent for 5xx, transient for 4xx),
/// `SMTPConnectionError` (transient: refused, timed out, closed, TLS failure),
/// `SMTPSecurityError` (permanent: the server cannot be used as configured), and
/// `MailEncodingError` (permanent) before any connection is made. No error text or log line
/// contains the password. Cancelling the sending task closes the connection and throws
/// `CancellationError` (opening the connection itself is bounded by the connect timeout).
public struct SMTPClient: Sendable {
    /// The server and the rules this client delivers by.
    public let configuration: SMTPConfiguration
    private let eventLoopGroup: any EventLoopGroup
    private let logger: Logger

    /// A client for the server in `configuration`. Creating it opens nothing.
    /// - Parameter eventLoopGroup: where connections run; the process-wide NIO group by default.
    public init(configuration: SMTPConfiguration, eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, logger: Logger) {
        self.configuration = configuration
        self.eventLoopGroup = eventLoopGroup
        var logger = logger
        logger[metadataKey: "smtp.server"] = "\(configuration.endpoint)"
        self.logger = logger
    }

    /// Renders `message` and delivers it to its `to` recipients, from `message.from`.
    /// - Throws: a `MailDeliveryError` (see the type's documentation).
    public func send(_ message: MailMessage) async throws {
        let data = try message.rendered()
        try await send(data, from: message.from.address, to: message.to.map(\.address))
    }

    /// Delivers an already rendered message (RFC 5322 bytes, CRLF or LF line ends) with the
    /// given envelope, so recipients may differ from the `To` header (Bcc, say).
    /// - Throws: `MailEncodingError` for an invalid envelope address or no recipient, before
    ///   connecting; otherwise a `MailDeliveryError` (see the type's documentation).
    public func send(_ data: [UInt8], from sender: String, to recipients: [String]) async throws {
        guard !recipients.isEmpty else { throw MailEncodingError.noRecipients }
        for address in [sender] + recipients {
            try AddressSpec.validate(address)
        }
        var connection = try await SMTPConnection.open(
            host: configuration.host, port: configuration.port, endpoint: configuration.endpoint,
            tls: configuration.encryption == .implicitTLS ? try makeTLSContext(stage: .connect) : nil,
            connectTimeout: configuration.connectTimeout, group: eventLoopGroup, logger: logger)
        do {
            try await deliver(data, from: sender, to: recipients, on: &connection)
        } catch {
            await connection.close()
            throw error
        }
        // The message is accepted; a failing QUIT changes nothing.
        _ = try? await connection.send("QUIT", stage: .quit, timeout: min(configuration.commandTimeout, .seconds(5)))
        await connection.close()
    }

    private func deliver(_ data: [UInt8], from sender: String, to recipients: [String], on connection: inout SMTPConnection) async throws {
        let timeout = configuration.commandTimeout
        let greeting = try await connection.readReply(stage: .greeting, timeout: timeout)
        try expect(greeting, 220, command: "connection greeting", stage: .greeting)

        var capabilities = try await hello(on: &connection, allowingHELO: true)
        if !connection.isEncrypted {
            if capabilities.supportsStartTLS && configuration.encryption != .none {
                let reply = try await connection.send("STARTTLS", stage: .starttls, timeout: timeout)
                try expect(reply, 220, command: "STARTTLS", stage: .starttls)
                try await connection.startTLS(context: makeTLSContext(stage: .starttls), host: configuration.host)
                // RFC 3207 4.2: everything learnt before TLS is forgotten and asked again.
                capabilities = try await hello(on: &connection, allowingHELO: false)
            } else if configuration.encryption == .startTLSRequired {
                throw SMTPSecurityError.startTLSNotOffered(server: connection.server)
            }
        }

        if let credentials = configuration.credentials {
            guard connection.isEncrypted || connection.isLoopback else {
                throw SMTPSecurityError.credentialsWouldBeSentInClear(server: connection.server)
            }
            let offered = capabilities.authenticationMechanisms
            guard let mechanism = SMTPAuthentication(offered: offered) else {
                throw SMTPSecurityError.noSupportedAuthenticationMechanism(server: connection.server, offered: offered.sorted())
            }
            try await mechanism.authenticate(credentials, on: &connection, timeout: timeout)
        }

        let sizeParameter = capabilities.supportsSize ? " SIZE=\(data.count)" : ""
        let mailFrom = "MAIL FROM:<\(sender)>\(sizeParameter)"
        try expect(try await connection.send(mailFrom, stage: .mail, timeout: timeout), 250, command: mailFrom, stage: .mail)
        for recipient in recipients {
            let rcptTo = "RCPT TO:<\(recipient)>"
            let reply = try await connection.send(rcptTo, stage: .rcpt, timeout: timeout)
            // 251: "user not local; will forward", also an acceptance.
            try expect(reply, reply.code == 251 ? 251 : 250, command: rcptTo, stage: .rcpt)
        }
        try expect(try await connection.send("DATA", stage: .data, timeout: timeout), 354, command: "DATA", stage: .data)
        let body = SMTPMessageData.stuffed(data, allocator: ByteBufferAllocator())
        let accepted = try await connection.send(bytes: body, stage: .data, timeout: configuration.dataTimeout)
        try expect(accepted, 250, command: "end of DATA", stage: .data)
    }

    /// EHLO, or HELO for a server that refuses EHLO with 5xx (RFC 5321 3.2). After STARTTLS,
    /// which is itself an extension, EHLO must work.
    private func hello(on connection: inout SMTPConnection, allowingHELO: Bool) async throws -> SMTPCapabilities {
        let ehlo = "EHLO \(configuration.heloName)"
        let reply = try await connection.send(ehlo, stage: .ehlo, timeout: configuration.commandTimeout)
        if reply.code == 250 {
            return SMTPCapabilities(ehloReply: reply)
        }
        guard reply.code >= 500, allowingHELO else {
            try expect(reply, 250, command: ehlo, stage: .ehlo)
            return SMTPCapabilities()
        }
        let helo = "HELO \(configuration.heloName)"
        try expect(try await connection.send(helo, stage: .ehlo, timeout: configuration.commandTimeout), 250, command: helo, stage: .ehlo)
        return SMTPCapabilities()
    }

    private func expect(_ reply: SMTPReply, _ code: Int, command: String, stage: SMTPStage) throws {
        guard reply.code == code else {
            throw SMTPReplyError(code: reply.code, enhancedCode: reply.enhancedCode, lines: reply.lines, command: command, stage: stage)
        }
    }

    private func makeTLSContext(stage: SMTPStage) throws -> NIOSSLContext {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        if let path = configuration.trustedCertificatesPath {
            tls.trustRoots = .file(path)
        }
        do {
            return try NIOSSLContext(configuration: tls)
        } catch {
            throw SMTPConnectionError(server: configuration.endpoint, stage: stage, reason: .tlsFailed("\(error)"))
        }
    }
}
