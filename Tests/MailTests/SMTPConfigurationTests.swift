import Mail
import Testing

@Suite("SMTP configuration")
struct SMTPConfigurationTests {
    @Test("smtp:// defaults to port 587 and STARTTLS when offered, without credentials")
    func smtpDefaults() throws {
        let configuration = try SMTPConfiguration(url: "smtp://mail.example.com")
        #expect(configuration.host == "mail.example.com")
        #expect(configuration.port == 587)
        #expect(configuration.encryption == .startTLSWhenOffered)
        #expect(configuration.credentials == nil)
        #expect(configuration.heloName == "localhost")
    }

    @Test("smtps:// defaults to port 465 and implicit TLS")
    func smtpsDefaults() throws {
        let configuration = try SMTPConfiguration(url: "smtps://mail.example.com")
        #expect(configuration.port == 465)
        #expect(configuration.encryption == .implicitTLS)
    }

    @Test("user and password are percent-decoded")
    func credentials() throws {
        let configuration = try SMTPConfiguration(url: "smtp://agora%40example.com:p%40ss%3Aw%2Fo%20rd@mail.example.com:2525")
        #expect(configuration.credentials == .init(username: "agora@example.com", password: "p@ss:w/o rd"))
        #expect(configuration.port == 2525)
    }

    @Test("starttls=required and starttls=never choose the encryption; helo= names the client")
    func options() throws {
        #expect(try SMTPConfiguration(url: "smtp://h?starttls=required").encryption == .startTLSRequired)
        #expect(try SMTPConfiguration(url: "smtp://h?starttls=never").encryption == .none)
        #expect(try SMTPConfiguration(url: "smtp://h:25?helo=app.example.com").heloName == "app.example.com")
    }

    @Test("an IPv6 literal host loses its brackets")
    func ipv6() throws {
        let configuration = try SMTPConfiguration(url: "smtp://[::1]:2525")
        #expect(configuration.host == "::1")
        #expect(configuration.port == 2525)
    }

    @Test("unusable URLs are refused with a reason", arguments: [
        ("http://mail.example.com", SMTPConfigurationError.unsupportedScheme("http")),
        ("smtp://", .missingHost),
        ("smtp://h?starttls=maybe", .invalidOption(name: "starttls", allowed: "required, never")),
        ("smtp://h?tls=on", .invalidOption(name: "tls", allowed: "starttls, helo")),
        ("smtps://h?starttls=never", .startTLSOptionWithImplicitTLS),
        ("smtp://h:70000", .invalidPort),
    ])
    func refused(_ url: String, _ error: SMTPConfigurationError) {
        #expect(throws: error) { try SMTPConfiguration(url: url) }
    }

    @Test("the password never shows when the configuration or its credentials are printed")
    func passwordIsRedacted() throws {
        let configuration = try SMTPConfiguration(url: "smtps://agora:hunter2@mail.example.com")
        #expect("\(configuration)" == "smtps://agora@mail.example.com:465 (implicit TLS)")
        let credentials = try #require(configuration.credentials)
        #expect(!"\(credentials)".contains("hunter2"))
        #expect(!String(reflecting: credentials).contains("hunter2"))
        var dumped = ""
        dump(configuration, to: &dumped)
        #expect(!dumped.contains("hunter2"))
    }
}
