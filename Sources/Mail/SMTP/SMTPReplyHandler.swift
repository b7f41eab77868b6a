import NIOCore

/// The inbound end of an SMTP channel: turns bytes into replies (with `SMTPReplyParser`) and
/// hands each to whoever waits for it.
///
/// SMTP without pipelining is strictly one reply per command, so one waiter at a time suffices.
/// Replies that arrive before anyone waits (the greeting) are kept in order. Once the connection
/// fails or closes, that error is given to the current and every later waiter.
/// Every method runs on the channel's event loop.
final class SMTPReplyHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private var parser = SMTPReplyParser()
    private var receivedReplies: [SMTPReply] = []
    private var waiter: EventLoopPromise<SMTPReply>?
    private var failure: Error?

    /// True when plaintext that no command has asked for is waiting (see `STARTTLS`).
    var hasUnrequestedInput: Bool { parser.hasUnfinishedInput || !receivedReplies.isEmpty }

    /// Completes `promise` with the next reply, or with the connection's failure.
    func waitForReply(_ promise: EventLoopPromise<SMTPReply>) {
        if !receivedReplies.isEmpty {
            promise.succeed(receivedReplies.removeFirst())
        } else if let failure {
            promise.fail(failure)
        } else {
            waiter = promise
        }
    }

    /// Fails the current waiter and every later one with `error` (a timeout, say).
    func fail(with error: Error) {
        if failure == nil {
            failure = error
        }
        waiter?.fail(error)
        waiter = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        do {
            for reply in try parser.parse(buffer.readableBytesView) {
                if let waiter {
                    self.waiter = nil
                    waiter.succeed(reply)
                } else {
                    receivedReplies.append(reply)
                }
            }
        } catch {
            fail(with: error)
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        fail(with: error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(with: ConnectionClosedByServer())
        context.fireChannelInactive()
    }
}

/// The server closed the connection before sending the reply that was awaited.
struct ConnectionClosedByServer: Error {}
